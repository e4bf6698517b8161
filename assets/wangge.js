/* Styles and tooltips of the map layers, referenced from Python through
   dash_extensions.javascript.Namespace("wangge", ...). Loaded from this server only.
   Reference layers return interactive: false from their style: dash-leaflet's GeoJSON does not
   pass its own interactive prop to the features, and on the canvas renderer an interactive road
   or pond drawn above a township would swallow the click meant for the township. */
(function () {
  "use strict";
  var ROAD = {
    arterial: { color: "#f2a33a", weight: 5 },
    collector: { color: "#f6c46b", weight: 3.5 },
    local: { color: "#ffffff", weight: 2.5 },
    lane: { color: "#ffffff", weight: 1.2 },
    service: { color: "#ffffff", weight: 1, opacity: 0.8 },  // estate roads inside compounds
    track: { color: "#c8b48a", weight: 1, opacity: 0.7, dashArray: "4 3" },  // farm tracks
  };
  /* On the canvas renderer Leaflet hit-tests a polygon's inside even when it is not filled
     (Polygon._containsPoint ignores the fill option; the SVG renderer does not): the community
     outline, drawn after the grids whenever its GeoJSON arrived last, then took the hover and
     the click meant for the grid under the pointer. An unfilled polygon answers along its
     outline only, as in SVG. Patched when the first outline is styled (Leaflet is loaded by
     then; this file may load before dash-leaflet's bundle). */
  function outlineOnly() {
    if (!window.L || !L.Polygon || L.Polygon.prototype._wanggeOutlineOnly) return;
    var contains = L.Polygon.prototype._containsPoint;
    L.Polygon.prototype._containsPoint = function (p) {
      if (this.options.fill) return contains.call(this, p);
      return L.Polyline.prototype._containsPoint.call(this, p, true);
    };
    L.Polygon.prototype._wanggeOutlineOnly = true;
  }
  /* A page change (the language switch, a nav link) unmounts the map while a zoom may still be
     animating: Leaflet then ends the zoom on the removed map, reads the deleted map pane's
     position and throws "Cannot read properties of undefined (reading '_leaflet_pos')"
     (Leaflet issues #6048, #7264; seen in test_english_switch about one run in twenty). A
     removed map (no _mapPane) does not end its zoom. */
  function guardRemovedMap() {
    if (!window.L || !L.Map || L.Map.prototype._wanggeGuarded) return;
    var end = L.Map.prototype._onZoomTransitionEnd;
    L.Map.prototype._onZoomTransitionEnd = function () {
      if (this._mapPane) end.call(this);
    };
    L.Map.prototype._wanggeGuarded = true;
  }
  guardRemovedMap();  // Leaflet's bundle, a script of the page, has run by DOMContentLoaded
  window.addEventListener("DOMContentLoaded", guardRemovedMap);
  var GRID_EDGE = { color: "#0b4f6c", weight: 1.4, dashArray: "1 4", lineCap: "round" };
  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  /* band: {min, max} households of the published grid version (the grid layer's hideout) */
  function gridFill(hh, band) {
    if (band.min == null || band.max == null) return "#c7e9c0";
    if (hh < band.min) return "#f6b26b";
    if (hh > band.max) return "#e06666";
    var x = (hh - band.min) / Math.max(1, band.max - band.min);
    var light = [199, 233, 192], dark = [49, 163, 84];
    var c = light.map(function (v, i) { return Math.round(v + (dark[i] - v) * x); });
    return "rgb(" + c.join(",") + ")";
  }
  window.wangge = Object.assign({}, window.wangge, {
    style: {
      water: function () {
        return { color: "#7fb2e0", weight: 1, fillColor: "#a9cdf0", fillOpacity: 0.9, interactive: false };
      },
      road: function (feature) {
        var s = ROAD[feature.properties.kind] || ROAD.local;
        return {
          color: s.color, weight: s.weight, opacity: s.opacity || 0.95, dashArray: s.dashArray || null,
          interactive: false,
        };
      },
      railway: function () {
        return { color: "#555", weight: 2.5, dashArray: "8 6", interactive: false };
      },
      grid: function (feature, context) {
        var band = context.hideout || {};
        var p = feature.properties;
        var flagged = p.flags && p.flags.length > 0;
        if (p.kind === "rural" || p.kind === "special") {
          return {
            color: flagged ? "#cc0000" : "#8c6d3f", weight: flagged ? 2 : 1, dashArray: flagged ? "4 3" : null,
            fillColor: p.kind === "rural" ? "#efe3c8" : "#b7c9e8", fillOpacity: 0.5,
          };
        }
        // dotted dark edges: streets are solid light lines, so an edge never reads as a lane
        return {
          color: flagged ? "#cc0000" : GRID_EDGE.color,
          weight: flagged ? 2 : GRID_EDGE.weight,
          dashArray: flagged ? "4 3" : GRID_EDGE.dashArray,
          fillColor: gridFill(p.households, band),
          fillOpacity: 0.45,
        };
      },
      building: function (feature) {
        var hh = feature.properties.households;
        return {
          color: "#6b6257", weight: 0.6,
          fillColor: hh > 0 ? "#d8c9b4" : "#c4c9d1", fillOpacity: 0.9,
        };
      },
      /* an outline only: a fill, even transparent, would take the hover and click meant for
         the grids under it */
      community: function () {
        outlineOnly();
        return { color: "#7a4fa3", weight: 1.6, fill: false, dashArray: "6 4" };
      },
      township: function () {
        return { color: "#3b2a73", weight: 3.5, fill: false, interactive: false };
      },
    },
    feature: {
      gridTooltip: function (feature, layer, context) {
        var p = feature.properties, h = (context && context.hideout) || {};
        var text = "<b>" + esc(p.grid_code) + "</b><br>" + esc(p.households) + " " + esc(h.households || "");
        if (p.flags) {
          var words = String(p.flags).split(";").filter(Boolean).map(function (f) { return (h.flags || {})[f] || f; });
          text += "<br><span class='flag'>" + esc(words.join("; ")) + "</span>";
        }
        layer.bindTooltip(text, { sticky: true });
      },
      buildingTooltip: function (feature, layer, context) {
        var p = feature.properties, h = (context && context.hideout) || {};
        var text = (p.name ? esc(p.name) + "<br>" : "") + esc((h.kinds || {})[p.kind] || p.kind) + " · " + esc(p.floors) + "F · " +
          esc(p.households) + " " + esc(h.households || "");
        layer.bindTooltip(text);
      },
      unitTooltip: function (feature, layer) {
        layer.bindTooltip(esc(feature.properties.name) + "<br>" + esc(feature.properties.code), { sticky: true });
      },
    },
  });
})();

/* Wall display: community shading, case dots, and the clientside clock / staleness check. */
(function () {
  "use strict";
  var w = window.wangge;
  w.style.wallCommunity = function (feature, context) {
    var h = context.hideout || {}, n = (h.counts || {})[feature.properties.code] || 0;
    var x = Math.min(1, n / Math.max(1, h.max || 1));
    var c = [Math.round(22 + 190 * x), Math.round(60 + 40 * (1 - x)), Math.round(110 - 60 * x)];
    return { color: "#5d8fd6", weight: 1, fillColor: "rgb(" + c.join(",") + ")", fillOpacity: 0.75 };
  };
  w.style.wallTownship = function () {
    return { color: "#9cc8ff", weight: 2.5, fill: false, interactive: false };
  };
  w.feature.wallCase = function (feature, latlng) {
    var overdue = feature.properties.overdue;
    return L.circleMarker(latlng, {
      radius: overdue ? 5 : 4, color: overdue ? "#ff4d4f" : "#ffd666", weight: 1,
      fillColor: overdue ? "#ff4d4f" : "#ffd666", fillOpacity: 0.85,
    });
  };
  function two(n) { return (n < 10 ? "0" : "") + n; }
  var clocks = {};
  // hh:mm:ss in the county's time zone (the data's), not the display computer's
  function hms(d, tz) {
    if (tz && !(tz in clocks)) {
      try {
        clocks[tz] = new Intl.DateTimeFormat("en-GB", {
          timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
        });
      } catch (e) {
        clocks[tz] = null;  // an unknown zone: the computer's own clock
      }
    }
    if (tz && clocks[tz]) return clocks[tz].format(d);
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }
  var days = {};
  // the county's date: 2026年12月6日 星期日 / Sunday 6 December 2026 (settings.date's pattern)
  function dateText(d, settings) {
    var tz = settings.tz, y, m, day;
    try {
      if (!(tz in days)) days[tz] = new Intl.DateTimeFormat("en-US", { timeZone: tz, year: "numeric", month: "numeric", day: "numeric" });
      var parts = {};
      days[tz].formatToParts(d).forEach(function (p) { parts[p.type] = p.value; });
      y = +parts.year; m = +parts.month; day = +parts.day;
    } catch (e) {
      y = d.getFullYear(); m = d.getMonth() + 1; day = d.getDate();
    }
    var weekday = new Date(Date.UTC(y, m - 1, day)).getUTCDay();
    return (settings.date || "{y}-{m}-{d}")
      .replace("{y}", y).replace("{m}", m).replace("{d}", day)
      .replace("{month}", (settings.months || [])[m - 1] || m)
      .replace("{weekday}", (settings.weekdays || [])[weekday] || "");
  }
  /* Whole rows only: in each list of the wall, the rows that would be cut at the bottom of
     their box are hidden (shown again when the box grows). */
  function fitRows() {
    document.querySelectorAll(".wall-page .case-list, .wall-page .rank-list").forEach(function (list) {
      var rows = list.children, i;
      for (i = 0; i < rows.length; i++) rows[i].classList.remove("row-cut");
      var bottom = list.getBoundingClientRect().bottom + 0.5;
      for (i = 0; i < rows.length; i++) {
        if (rows[i].getBoundingClientRect().bottom > bottom) rows[i].classList.add("row-cut");
      }
    });
  }
  var pending = false;
  function scheduleFit() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; fitRows(); });
  }
  w.fitRows = fitRows;
  window.addEventListener("resize", scheduleFit);
  // rows arrive with every refresh: fit them before they are painted
  new MutationObserver(function () {
    if (document.querySelector(".wall-page")) scheduleFit();
  }).observe(document.documentElement, { childList: true, subtree: true });
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wangge_wall: {
      /* a refresh request {n, at, seen}, unless the last one is unanswered (the time of the
         last answer is still the one it saw) and less than a minute old */
      gate: function (n, lastOk, request) {
        var now = Date.now();
        if (request && request.seen === lastOk && now - request.at < 60000) {
          return window.dash_clientside.no_update;
        }
        return { n: n, at: now, seen: lastOk };
      },
      // the screen height over 1080 px, to two decimals: chart fonts follow it
      scale: function (_n, current) {
        var s = Math.round(100 * Math.max(0.5, window.innerHeight / 1080)) / 100;
        return s === current ? window.dash_clientside.no_update : s;
      },
      /* the map's box in px; when it changed (first tick, a resize, a 4K screen) Leaflet
         re-reads its size and the scope is fitted to the new box */
      fit: function (_n, box, settings) {
        var no = window.dash_clientside.no_update;
        var el = document.getElementById("wall-map");
        if (!el || !settings || !settings.bounds) return [no, no, no];
        var now = el.clientWidth + "x" + el.clientHeight;
        if (now === box || el.clientWidth === 0) return [no, no, no];
        scheduleFit();
        return [now, { bounds: settings.bounds, transition: "fitBounds", options: { animate: false } }, now];
      },
      clock: function (_n, lastOk, settings) {
        var now = new Date();
        settings = settings || {};
        var refresh = (settings.refresh || 15) * 1000;
        var date = dateText(now, settings);
        if (!lastOk) {
          return [hms(now, settings.tz), date, settings.never || "", "wall-updated"];
        }
        var stale = now.getTime() - lastOk > 2.5 * refresh;
        var label = (settings.updated || "{time}").replace("{time}", hms(new Date(lastOk), settings.tz));
        return [hms(now, settings.tz), date, label, stale ? "wall-updated stale" : "wall-updated"];
      },
    },
  });
})();

/* Drill-down: children coloured by a metric, grids by Gi* bin. */
(function () {
  "use strict";
  var w = window.wangge;
  var GI = { "3": "#b2182b", "2": "#ef8a62", "1": "#fddbc7", "0": "#f7f7f7", "-1": "#d1e5f0", "-2": "#67a9cf", "-3": "#2166ac" };
  function ramp(x) {
    var a = [255, 247, 236], b = [179, 0, 0];
    return "rgb(" + a.map(function (v, i) { return Math.round(v + (b[i] - v) * x); }).join(",") + ")";
  }
  w.style.metric = function (feature, context) {
    var h = context.hideout || {}, v = (h.values || {})[feature.properties.code];
    if (!h.fill) return { color: "#3b2a73", weight: 2.5, fill: true, fillOpacity: 0 };
    var span = Math.max(1e-9, (h.max || 1) - (h.min || 0));
    var fill = v === null || v === undefined ? "#d9d9d9" : ramp(Math.max(0, Math.min(1, (v - (h.min || 0)) / span)));
    return { color: "#3b2a73", weight: 2, fillColor: fill, fillOpacity: 0.7 };
  };
  w.style.giBin = function (feature) {
    return { color: "#777", weight: 0.6, fillColor: GI[String(feature.properties.gi_bin)] || "#f7f7f7", fillOpacity: 0.8 };
  };
  w.style.selectedGrid = function () {
    return { color: "#d4380d", weight: 3, fillOpacity: 0.05 };
  };
  function esc(t) { return String(t == null ? "" : t).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  w.feature.unitName = function (feature, layer, context) {
    var h = context.hideout || {}, v = (h.values || {})[feature.properties.code];
    var text = esc(feature.properties.name) + (v === null || v === undefined ? "" : "<br>" + (Math.round(v * 100) / 100));
    layer.bindTooltip(text, { sticky: true });
  };
  w.feature.giTooltip = function (feature, layer) {
    layer.bindTooltip(esc(feature.properties.grid_code) + "<br>Gi* " + esc(feature.properties.gi_bin) + " · " + esc(feature.properties.cases), { sticky: true });
  };
})();

/* Situation map: grids by metric, cases, hexagons, camera views, uncovered streets, tracks. */
(function () {
  "use strict";
  var w = window.wangge;
  var GI = { "3": "#b2182b", "2": "#ef8a62", "1": "#fddbc7", "0": "#f7f7f7", "-1": "#d1e5f0", "-2": "#67a9cf", "-3": "#2166ac" };
  var CAT = { dispute: "#722ed1", safety: "#fa541c", sanitation: "#52c41a", facilities: "#1890ff", order: "#eb2f96", services: "#faad14" };
  function esc(t) { return String(t == null ? "" : t).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  var bandStyle = w.style.grid;
  /* The map page's grid metric lives here, not in the layer's hideout: dash-leaflet clears and
     re-adds every feature on a hideout change, while restyleGrids below only calls setStyle on
     the polygons already drawn (measured by benchmarks/browser.py). */
  w.gridState = null;
  w.gridLayers = new Map();
  function metricFill(h, v) {
    if (h.metric === "gi") return GI[String(v === null || v === undefined ? 0 : v)];
    if (v === null || v === undefined) return "#d9d9d9";
    var x = Math.max(0, Math.min(1, (v - (h.vmin || 0)) / Math.max(1e-9, (h.vmax || 1) - (h.vmin || 0))));
    if (h.metric === "patrol" || h.metric === "camera") x = 1 - x;  // low coverage is the alarm
    var a = [255, 247, 236], b = [179, 0, 0];
    return "rgb(" + a.map(function (c, i) { return Math.round(c + (b[i] - c) * x); }).join(",") + ")";
  }
  w.style.grid = function (feature, context) {
    var h = w.gridState;
    if (!h) return bandStyle(feature, context);
    return { color: "#333", weight: 1.2, dashArray: "1 4", fillColor: metricFill(h, h.values[feature.properties.grid_code]), fillOpacity: 0.65 };
  };
  var gridTooltip = w.feature.gridTooltip;
  w.feature.gridTooltip = function (feature, layer, context) {
    gridTooltip(feature, layer, context);
    layer._wanggeBand = (context && context.hideout) || {};
    w.gridLayers.set(feature.properties.grid_code, layer);
    layer.once("add", function () { fitHome(layer._map, layer._wanggeBand.home); watchGridLabels(layer._map); });
  };
  /* The first view (the layer's hideout.home) fitted to the map's real size, once per map:
     when the map was created its box was not laid out yet. */
  function fitHome(map, home) {
    if (!map || !home || map._wanggeHomed) return;
    map._wanggeHomed = true;
    map.invalidateSize({ animate: false });
    map.fitBounds(home, { padding: [10, 10], animate: false });
  }
  /* Grid labels from GRID_LABEL_ZOOM on: the code's community and grid numbers ("001-003"),
     drawn as non-interactive labels at each grid's centre (the hover shows the full code). */
  var GRID_LABEL_ZOOM = 16;
  w.gridLabels = null;
  function gridLabel(code) { code = String(code); return code.slice(-6, -3) + "-" + code.slice(-3); }
  w.updateGridLabels = function (map) {
    var drawn = [];
    w.gridLayers.forEach(function (layer, code) { if (layer._map === map) drawn.push([layer, code]); });
    var show = map.getZoom() >= GRID_LABEL_ZOOM && drawn.length > 0;
    if (w.gridLabels && (!show || w.gridLabels._count !== drawn.length)) {
      map.removeLayer(w.gridLabels);
      w.gridLabels = null;
    }
    if (!show || w.gridLabels) return;
    var group = L.layerGroup();
    drawn.forEach(function (d) {
      var icon = L.divIcon({ className: "grid-label", html: esc(gridLabel(d[1])), iconSize: null });
      group.addLayer(L.marker(d[0].getCenter(), { icon: icon, interactive: false, keyboard: false }));
    });
    group._count = drawn.length;
    w.gridLabels = group.addTo(map);
  };
  /* A click on a building (drawn above the grids from zoom 15) opens the card of the grid it
     stands in: the click is handed to that grid's layer, whose GeoJSON reports it. */
  function inRings(latlng, rings) {
    var inside = false, x = latlng.lng, y = latlng.lat;
    rings.forEach(function (ring) {
      if (ring.length && !(ring[0] instanceof L.LatLng)) { if (inRings(latlng, ring)) inside = !inside; return; }
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], b = ring[j];
        if ((a.lat > y) !== (b.lat > y) && x < (b.lng - a.lng) * (y - a.lat) / (b.lat - a.lat) + a.lng) inside = !inside;
      }
    });
    return inside;
  }
  w.gridAt = function (map, latlng) {
    var found = null;
    w.gridLayers.forEach(function (layer) {
      if (!found && layer._map === map && layer.getBounds().contains(latlng) && inRings(latlng, layer.getLatLngs())) found = layer;
    });
    return found;
  };
  var buildingTooltip = w.feature.buildingTooltip;
  w.feature.buildingTooltip = function (feature, layer, context) {
    buildingTooltip(feature, layer, context);
    layer.on("click", function (e) {
      var grid = layer._map && w.gridAt(layer._map, e.latlng);
      if (grid) grid.fire("click", { latlng: e.latlng, originalEvent: e.originalEvent }, true);
    });
  };
  function watchGridLabels(map) {
    if (!map || map._wanggeGridLabels) return;
    map._wanggeGridLabels = true;
    var update = function () { w.updateGridLabels(map); };
    map.on("zoomend overlayadd overlayremove", update);
    setTimeout(update, 0);
  }
  function el(type, props) {
    return { type: type, namespace: "dash_html_components", props: props };
  }
  function fmt(metric, v) {
    if (metric === "patrol" || metric === "camera") return Math.round(100 * v) + "%";
    return metric === "per100" ? v.toFixed(1) : String(Math.round(v));
  }
  function legend(metric, all, options, labels) {
    var name = ((options || []).filter(function (o) { return o.value === metric; })[0] || {}).label || metric;
    var rows = [el("H4", { children: name })];
    if (metric === "gi") {
      [3, 2, 1, 0, -1, -2, -3].forEach(function (b) {
        rows.push(el("Div", { className: "legend-row", children: [
          el("Span", { className: "swatch gi" + b }), el("Span", { children: (labels.gi || {})[b] })] }));
      });
      return rows;
    }
    var m = all[metric], reversed = metric === "patrol" || metric === "camera";
    var lo = fmt(metric, m.vmin), hi = (m.clipped ? "≥ " : "") + fmt(metric, m.vmax);
    rows.push(el("Div", { className: "swatch metric-ramp" }));
    rows.push(el("Div", { className: "ramp-labels", children: [
      el("Span", { children: reversed ? hi : lo }), el("Span", { children: reversed ? lo : hi })] }));
    rows.push(el("Div", { className: "legend-row", children: [
      el("Span", { className: "swatch no-data" }), el("Span", { children: labels.none })] }));
    return rows;
  }
  w.restyleGrids = function (metric, all, lang, options, labels) {
    var t0 = performance.now();
    var h = null;
    if (metric && metric !== "households" && all && all[metric]) {
      h = { metric: metric, values: all[metric].values, vmin: all[metric].vmin, vmax: all[metric].vmax };
    }
    w.gridState = h;
    var n = 0;
    w.gridLayers.forEach(function (layer, code) {
      if (!layer._map) { w.gridLayers.delete(code); return; }
      layer.setStyle(w.style.grid(layer.feature, { hideout: layer._wanggeBand }));
      n++;
    });
    var info = { metric: h ? metric : "households", grids: n, style_ms: performance.now() - t0 };
    // Leaflet's canvas redraws in the next animation frame; this callback runs after it
    requestAnimationFrame(function () {
      var now = performance.now();
      w.lastRestyle = Object.assign({ painted_ms: now - t0, at: now }, info);
    });
    if (!h) return [info, [], "legend metric-legend hidden", "legend"];
    return [info, legend(metric, all, options, labels || {}), "legend metric-legend", "legend hidden"];
  };
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wangge_map: {
      restyleGrids: w.restyleGrids,
      restyleCase: function (row) { return w.restyleCase(row); },
    },
  });
  w.style.hex = function (feature) {
    var s = feature.properties.share || 0;
    return { color: "#8c2d04", weight: 0.5, fillColor: "rgb(" + [255, Math.round(237 - 180 * s), Math.round(160 - 150 * s)].join(",") + ")", fillOpacity: 0.35 + 0.45 * s };
  };
  /* features drawn per layer kind (read by the browser tests and benchmarks) */
  w.drawn = { sectors: 0, uncovered: 0 };
  w.style.sector = function (feature) {
    w.drawn.sectors++;
    var on = feature.properties.status === "online";
    return { color: on ? "#237804" : "#8c8c8c", weight: 0.6, fillColor: on ? "#73d13d" : "#bfbfbf", fillOpacity: on ? 0.3 : 0.25, dashArray: on ? null : "3 3", interactive: false };
  };
  w.style.uncovered = function () { w.drawn.uncovered++; return { color: "#cf1322", weight: 4, opacity: 0.85 }; };
  w.style.track = function () { return { color: "#0050b3", weight: 3, opacity: 0.85 }; };
  /* case points carry {c: category, s: status, o: overdue}; labels are in the hideout */
  /* a case's dot: its category's colour, a red ring when overdue, faded once closed */
  function caseStyle(p, colors) {
    var closed = p.s === "closed";
    return {
      radius: 5, color: p.o ? "#a8071a" : closed ? "#8c8c8c" : "#fff", weight: p.o ? 2 : 1,
      fillColor: colors[p.c] || "#595959", fillOpacity: closed ? 0.3 : 0.9, opacity: closed ? 0.6 : 1,
    };
  }
  function caseText(id, p, h) {
    return esc(id) + "<br>" + esc((h.categories || {})[p.c] || p.c) + " · " + esc((h.statuses || {})[p.s] || p.s);
  }
  w.feature.casePoint = function (feature, latlng, context) {
    var p = feature.properties, h = (context && context.hideout) || {}, colors = h.colors || CAT;
    var dot = L.circleMarker(latlng, caseStyle(p, colors));
    dot._wanggeCase = true;
    dot._wanggeLabels = h;
    dot.on("add", function () { w.caseDots.add(dot); keepCasesOnTop(dot._map); });
    dot.on("remove", function () { w.caseDots.delete(dot); });
    return dot;
  };
  /* Case dots stay last in the canvas's draw order. Buildings (fetched per viewport) or grids
     that arrive after the cases were drawn over the dots and, as the canvas renderer gives a
     click to the last shape drawn under the pointer, a click on a case opened the card of the
     grid around it (the building hands its click to its grid). Any other shape added to the
     map puts the dots back on top, once per batch (a microtask after the batch's last add). */
  w.caseDots = new Set();
  function keepCasesOnTop(map) {
    if (!map || map._wanggeCasesOnTop) return;
    map._wanggeCasesOnTop = true;
    var pending = false;
    map.on("layeradd", function (e) {
      if (pending || !(e.layer instanceof L.Path) || e.layer._wanggeCase) return;
      pending = true;
      Promise.resolve().then(function () {
        pending = false;
        w.caseDots.forEach(function (dot) { if (dot._map === map) dot.bringToFront(); });
      });
    });
  }
  w.feature.caseTooltip = function (feature, layer, context) {
    var p = feature.properties, h = (context && context.hideout) || {};
    if (!p || p.cluster) return;
    layer.bindTooltip(caseText(feature.id, p, h));
  };
  /* An action in the map's case card changed a case (``row``: the case as the case list shows
     it): its dot takes the new status and overdue state at once, before the next fetch. */
  w.restyleCase = function (row) {
    if (!row || !row.case_id) return window.dash_clientside.no_update;
    var n = 0;
    w.caseDots.forEach(function (dot) {
      if (!dot.feature || dot.feature.id !== row.case_id) return;
      var p = dot.feature.properties, h = dot._wanggeLabels || {};
      p.s = row.status;
      p.o = row.overdue ? 1 : 0;
      dot.setStyle(caseStyle(p, h.colors || CAT));
      if (dot.getTooltip()) dot.setTooltipContent(caseText(row.case_id, p, h));
      n++;
    });
    return { case_id: row.case_id, status: row.status, version: row.version, dots: n };
  };
  /* server-side bins when a window holds many cases: {n: cases, o: overdue} */
  w.feature.caseBin = function (feature, latlng) {
    var p = feature.properties, n = p.n || 0;
    var size = n < 10 ? 26 : n < 100 ? 32 : n < 1000 ? 40 : 48;
    var cls = "case-bin" + (p.o > 0 ? " has-overdue" : "");
    return L.marker(latlng, {
      icon: L.divIcon({ html: "<div><span>" + n + "</span></div>", className: cls, iconSize: L.point(size, size) }),
    });
  };
  w.feature.hexTooltip = function (feature, layer) { layer.bindTooltip(esc(feature.properties.count)); };
  w.feature.uncoveredTooltip = function (feature, layer) {
    var p = feature.properties;
    layer.bindTooltip("#" + esc(p.rank) + " · " + Math.round(p.length_m) + " m · " + esc(p.cases));
  };
  w.feature.trackPoint = function (feature, latlng) {
    return L.circleMarker(latlng, { radius: 6, color: "#0050b3", fillColor: "#fff", fillOpacity: 1, weight: 2 })
      .bindTooltip(esc(feature.properties.start), { permanent: true, direction: "right" });
  };
})();

/* WGS84 -> GCJ-02 for Gaode-style tiles (WANGGE_TILE_CRS=gcj02): the formula of geo/coords.py. */
(function () {
  "use strict";
  var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
  function inChina(lon, lat) { return lon > 72.004 && lon < 137.8347 && lat > 0.8293 && lat < 55.8271; }
  function delta(lon, lat) {
    var x = lon - 105.0, y = lat - 35.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dlat += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dlon += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var rad = lat / 180.0 * PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    return [(dlon * 180.0) / (A / sq * Math.cos(rad) * PI), (dlat * 180.0) / ((A * (1 - EE)) / (magic * sq) * PI)];
  }
  window.wangge.coords = {
    gcj02: function (coords) {
      var lon = coords[0], lat = coords[1];
      if (!inChina(lon, lat)) return L.latLng(lat, lon);
      var d = delta(lon, lat);
      return L.latLng(lat + d[1], lon + d[0]);
    },
  };
})();

/* 态势 drill-down: a plain click on a unit link drills in place (the page's callback updates
   its parts) instead of navigating; the URL then follows the state through pushUrl, so the
   view can still be shared, bookmarked and left with the back button. */
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[data-sit-go]");
    if (!a || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    window.dash_clientside.set_props("sit-target", {
      data: { level: a.getAttribute("data-level"), code: a.getAttribute("data-code"), at: Date.now() },
    });
  }, true);
  function query(state, lang) {
    var q = new URLSearchParams({ level: state.level, code: state.code, metric: state.metric });
    if (state.period && state.period !== "30d") q.set("period", state.period);
    if (state.category) q.set("category", state.category);
    if (lang && lang !== "zh") q.set("lang", lang);
    return "/situation?" + q.toString();
  }
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wangge_sit: {
      pushUrl: function (state, synced) {
        if (!state) return window.dash_clientside.no_update;
        var url = query(state, state.lang);
        if (window.location.pathname + window.location.search !== url) {
          // the page's first state only spells out the URL it was opened with
          if (synced) window.history.pushState(window.history.state, "", url);
          else window.history.replaceState(window.history.state, "", url);
        }
        // the language switch keeps the view
        var sw = document.getElementById("lang-switch");
        if (sw) sw.setAttribute("href", query(state, state.lang === "en" ? "zh" : "en"));
        return url;
      },
    },
  });
})();
