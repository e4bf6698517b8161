/* The planner's page: the edit state of one community, held in the browser.

   The building -> grid assignment and households live in typed arrays; a move is a constant-time
   subtract/add per building on the per-grid tallies, a breadth-first search over the touched
   grids' buildings (the building adjacency shipped with the community) for contiguity, a
   setStyle on the moved buildings' own Leaflet layers (never a rebuild of the GeoJSON layer)
   and an update of the two touched rows of the grid list. The grid outlines are redrawn at
   each move as well: the community's cell edges (shared boundaries) come with the page, and an
   edge is stroked exactly when its two cells are in different grids, so a move re-checks only
   the edges of the moved buildings' cells (and of the empty cells that take their grid). The
   lasso (press, draw, release) and the line to split a grid along are drawn with Leaflet's own
   map events. No round trip: the server hears of the moves on save, and through the autosave. Undo/redo keep 1000 steps; every step is also
   written to localStorage so that a closed tab loses nothing. Loaded from this server only. */
(function () {
  "use strict";
  var PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
    "#ff9da7", "#e15759", "#8cd17d", "#499894", "#d37295", "#a0cbe8", "#ffbe7d", "#86bcb6"];
  var MAX_UNDO = 1000;
  var P = {
    data: null, editable: false, layers: [], target: -1, undo: [], redo: [], lastMs: null,
    text: {}, highlighted: {}, mismatch: {}, labels: {}, mode: null, lastOutlineMs: null,
  };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = String(text);
    return e;
  }
  function key() { return "wangge-planner:" + P.data.community + ":" + P.data.version; }

  P.init = function (data, editable, text) {
    P.data = data; P.editable = !!editable; P.text = text || {};
    var n = data.buildings.length;
    P.codes = [];
    P.codeIndex = {};
    P.assign = new Int32Array(n);
    P.base = new Int32Array(n);
    P.hh = Int32Array.from(data.households);
    data.grid.forEach(function (code, i) { P.assign[i] = P.base[i] = P.gridIndex(code); });
    P.tally = new Float64Array(0);
    P.recount();
    // adjacency as CSR
    var deg = new Int32Array(n + 1), e = data.edges, k;
    for (k = 0; k < e.length; k++) deg[e[k] + 1]++;
    for (k = 0; k < n; k++) deg[k + 1] += deg[k];
    var fill = deg.slice(0, n), nbr = new Int32Array(e.length);
    for (k = 0; k < e.length; k += 2) {
      nbr[fill[e[k]]++] = e[k + 1];
      nbr[fill[e[k + 1]]++] = e[k];
    }
    P.start = deg; P.nbr = nbr;
    // buildings sharing one cell move together
    P.mates = {};
    data.cell.forEach(function (c, i) { (P.mates[c] = P.mates[c] || []).push(i); });
    P.parts = {};
    for (k = 0; k < P.codes.length; k++) P.parts[k] = P.countParts(k);
    P.undo = []; P.redo = []; P.target = -1; P.previous = -1; P.highlighted = {};
    P.mismatch = {}; P.locked = {};
    P.initOutline();
    P.renderLegend();
    var saved = null;
    try { saved = JSON.parse(window.localStorage.getItem(key()) || "null"); } catch (err) { saved = null; }
    if (!saved && data.autosave && data.autosave.parent === data.version) saved = data.autosave.moves;
    if (saved && saved.length && P.editable) P.apply(saved, true);
    P.render();
    P.restyleAll();
    P.drawOutlines();
    return true;
  };

  /* -- live grid outlines ------------------------------------------------------------------- */
  P.initOutline = function () {
    var d = P.data, nc = (d.cell_root || []).length, ce = Int32Array.from(d.cell_edges || []);
    var E = ce.length / 2, k;
    P.cellRoot = Int32Array.from(d.cell_root || []);
    P.cellEdges = ce;
    var deg = new Int32Array(nc + 1);
    for (k = 0; k < ce.length; k++) deg[ce[k] + 1]++;
    for (k = 0; k < nc; k++) deg[k + 1] += deg[k];
    var fill = deg.slice(0, nc), inc = new Int32Array(ce.length);
    for (k = 0; k < E; k++) { inc[fill[ce[2 * k]]++] = k; inc[fill[ce[2 * k + 1]]++] = k; }
    P.incStart = deg; P.inc = inc;
    /* the cells whose grid is that of a building's cell: the cell and the empty cells rooted there */
    P.rooted = {};
    for (k = 0; k < nc; k++) {
      var r = P.cellRoot[k];
      if (r >= 0) (P.rooted[d.cell[r]] = P.rooted[d.cell[r]] || []).push(k);
    }
    P.edgeOn = new Uint8Array(E);
    P.edgeLayers = new Array(E);
    if (P.outlineLayer) { P.outlineLayer.remove(); P.outlineLayer = null; }
  };
  P.cellOwner = function (c) { var r = P.cellRoot[c]; return r < 0 ? -1 : P.assign[r]; };
  P.edgePaths = function (k) {
    return P.data.cell_paths[k].map(function (flat) {
      var out = [];
      for (var j = 0; j < flat.length; j += 2) out.push([flat[j], flat[j + 1]]);
      return out;
    });
  };
  var OUTLINE = { color: "#222", weight: 2.2, opacity: 0.9, interactive: false };
  /* stroke edge k when its cells are in different grids; true when that changed */
  P.outlineEdge = function (k) {
    var on = P.cellOwner(P.cellEdges[2 * k]) !== P.cellOwner(P.cellEdges[2 * k + 1]);
    if (on === (P.edgeOn[k] === 1)) return false;
    P.edgeOn[k] = on ? 1 : 0;
    if (!P.outlineLayer) return true;
    if (on) P.edgeLayers[k] = L.polyline(P.edgePaths(k), OUTLINE).addTo(P.outlineLayer);
    else if (P.edgeLayers[k]) { P.outlineLayer.removeLayer(P.edgeLayers[k]); P.edgeLayers[k] = null; }
    return true;
  };
  /* re-check the edges of the moved buildings' cells (and of the empty cells rooted there) */
  P.updateOutlines = function (indices) {
    var t0 = performance.now(), seen = {}, changed = 0;
    if (!P.cellEdges || !P.cellEdges.length) return 0;
    indices.forEach(function (i) {
      var rc = P.data.cell[i];
      if (seen[rc]) return;
      seen[rc] = true;
      (P.rooted[rc] || [rc]).forEach(function (c) {
        for (var q = P.incStart[c]; q < P.incStart[c + 1]; q++) if (P.outlineEdge(P.inc[q])) changed++;
      });
    });
    P.lastOutlineMs = performance.now() - t0;
    return changed;
  };
  /* every edge drawn anew (the map or the data arrived) */
  P.drawOutlines = function () {
    if (!P.map || !P.data || !P.cellEdges) return;
    if (P.outlineLayer) P.outlineLayer.remove();
    P.outlineLayer = L.layerGroup().addTo(P.map);
    P.edgeOn = new Uint8Array(P.cellEdges.length / 2);
    P.edgeLayers = new Array(P.cellEdges.length / 2);
    (P.data.outer || []).forEach(function (flat) {
      var pts = [];
      for (var j = 0; j < flat.length; j += 2) pts.push([flat[j], flat[j + 1]]);
      L.polyline(pts, OUTLINE).addTo(P.outlineLayer);
    });
    for (var k = 0; k < P.edgeOn.length; k++) P.outlineEdge(k);
  };
  P.outlineCount = function () { var n = 0; for (var k = 0; k < P.edgeOn.length; k++) n += P.edgeOn[k]; return n; };

  P.gridIndex = function (code) {
    if (!(code in P.codeIndex)) {
      P.codeIndex[code] = P.codes.length;
      P.codes.push(code);
    }
    return P.codeIndex[code];
  };

  P.recount = function () {
    P.tally = new Float64Array(P.codes.length);
    P.count = new Int32Array(P.codes.length);
    for (var i = 0; i < P.assign.length; i++) { P.tally[P.assign[i]] += P.hh[i]; P.count[P.assign[i]]++; }
  };

  P.grow = function () {
    if (P.tally.length >= P.codes.length) return;
    var t = new Float64Array(P.codes.length), c = new Int32Array(P.codes.length);
    t.set(P.tally); c.set(P.count); P.tally = t; P.count = c;
  };

  /* connected parts of grid g over the building adjacency (0 for an empty grid); the visited
     marks are a reused typed array stamped per search, so a search allocates nothing */
  P.countParts = function (g) {
    var n = P.assign.length, parts = 0;
    if (!P.mark || P.mark.length !== n) { P.mark = new Int32Array(n); P.stack = new Int32Array(n); P.stamp = 0; }
    var mark = P.mark, stack = P.stack, stamp = ++P.stamp, assign = P.assign, start = P.start, nbr = P.nbr;
    for (var i = 0; i < n; i++) {
      if (assign[i] !== g || mark[i] === stamp) continue;
      parts++;
      var top = 0;
      stack[top++] = i; mark[i] = stamp;
      while (top > 0) {
        var v = stack[--top];
        for (var k = start[v]; k < start[v + 1]; k++) {
          var w = nbr[k];
          if (mark[w] !== stamp && assign[w] === g) { mark[w] = stamp; stack[top++] = w; }
        }
      }
    }
    return parts;
  };

  P.expand = function (indices) {
    var out = [], seen = {};
    indices.forEach(function (i) {
      (P.mates[P.data.cell[i]] || [i]).forEach(function (j) { if (!seen[j]) { seen[j] = true; out.push(j); } });
    });
    return out;
  };

  /* move buildings to grid g: one undo step; returns the milliseconds it took */
  P.move = function (indices, g, noUndo) {
    var t0 = performance.now();
    indices = P.expand(indices).filter(function (i) { return P.assign[i] !== g && !P.locked[P.assign[i]]; });
    if (!indices.length) return 0;
    P.grow();
    var from = [], touched = {};
    touched[g] = true;
    indices.forEach(function (i) {
      var f = P.assign[i];
      from.push(f); touched[f] = true;
      P.tally[f] -= P.hh[i]; P.count[f]--;
      P.tally[g] += P.hh[i]; P.count[g]++;
      P.assign[i] = g;
    });
    if (!noUndo) {
      P.undo.push({ idx: indices, from: from, to: g });
      if (P.undo.length > MAX_UNDO) P.undo.shift();
      P.redo = [];
    }
    Object.keys(touched).forEach(function (t) { P.parts[t] = P.countParts(+t); });
    indices.forEach(function (i) { P.restyle(i); });
    P.updateOutlines(indices);
    P.relabelLater(Object.keys(touched));
    P.renderRows(Object.keys(touched).map(Number));
    P.renderViolations();
    P.persist();
    P.lastMs = performance.now() - t0;
    return P.lastMs;
  };

  P.undoStep = function () {
    var s = P.undo.pop();
    if (!s) return;
    var byGrid = {};
    s.idx.forEach(function (i, k) { (byGrid[s.from[k]] = byGrid[s.from[k]] || []).push(i); });
    Object.keys(byGrid).forEach(function (f) { P.move(byGrid[f], +f, true); });
    P.redo.push(s);
  };
  P.redoStep = function () {
    var s = P.redo.pop();
    if (!s) return;
    P.move(s.idx, s.to, true);
    P.undo.push(s);
  };

  /* {building, to} moves relative to the version (the server's format) */
  P.moves = function () {
    var out = [];
    for (var i = 0; i < P.assign.length; i++) {
      if (P.assign[i] !== P.base[i]) out.push({ building: P.data.buildings[i], to: P.codes[P.assign[i]] });
    }
    return out;
  };
  /* set the assignment to the version plus ``moves`` (from the server: split, re-run, autosave) */
  P.apply = function (moves, quiet) {
    var pos = {}, groups = {};
    P.data.buildings.forEach(function (b, i) { pos[b] = i; });
    moves.forEach(function (m) {
      if (!(m.building in pos)) return;
      var g = P.gridIndex(m.to);
      (groups[g] = groups[g] || []).push(pos[m.building]);
    });
    P.grow();
    var step = { idx: [], from: [], to: null }, steps = [];
    Object.keys(groups).forEach(function (g) {
      var before = P.undo.length;
      P.move(groups[g], +g);
      if (P.undo.length > before) steps.push(P.undo.pop());
    });
    if (steps.length && !quiet) P.undo.push({ multi: steps });
    return steps.length;
  };
  var undoStep = P.undoStep, redoStep = P.redoStep;
  P.undoStep = function () {
    var s = P.undo[P.undo.length - 1];
    if (s && s.multi) {
      P.undo.pop();
      s.multi.slice().reverse().forEach(function (m) { P.undo.push(m); undoStep(); P.redo.pop(); });
      P.redo.push(s);
      return;
    }
    undoStep();
  };
  P.redoStep = function () {
    var s = P.redo[P.redo.length - 1];
    if (s && s.multi) {
      P.redo.pop();
      s.multi.forEach(function (m) { P.move(m.idx, m.to, true); });
      P.undo.push(s);
      return;
    }
    redoStep();
  };

  /* ``moves`` plus a move back to the version's grid for every other building moved now */
  P.fullMoves = function (moves) {
    var listed = {}, out = moves.slice();
    moves.forEach(function (m) { listed[m.building] = true; });
    for (var i = 0; i < P.assign.length; i++) {
      var b = P.data.buildings[i];
      if (!listed[b] && P.assign[i] !== P.base[i]) out.push({ building: b, to: P.codes[P.base[i]] });
    }
    return out;
  };

  P.newGrid = function () {
    var k = 1;
    while (("new:" + k) in P.codeIndex) k++;
    P.target = P.gridIndex("new:" + k);
    P.grow();
    P.render();
    return P.codes[P.target];
  };
  P.merge = function (keep, absorb) {
    var idx = [];
    for (var i = 0; i < P.assign.length; i++) if (P.assign[i] === absorb) idx.push(i);
    return P.move(idx, keep);
  };

  P.persist = function () {
    try {
      if (P.editable) window.localStorage.setItem(key(), JSON.stringify(P.moves()));
    } catch (err) { /* storage full or denied: the server autosave still runs */ }
  };
  P.forget = function () { try { window.localStorage.removeItem(key()); } catch (err) { /* nothing */ } };

  /* -- the map ------------------------------------------------------------------------------ */
  P.colour = function (g) { return PALETTE[g % PALETTE.length]; };
  P.flagged = function (g) {
    var b = P.data.band, t = P.tally[g];
    return P.count[g] > 0 && (t < b[0] || t > b[1] || P.parts[g] > 1);
  };
  P.styleOf = function (i) {
    var g = P.assign[i], hi = P.highlighted[i], mis = P.mismatch[i];
    return {
      fillColor: P.colour(g), fillOpacity: g === P.target ? 0.9 : 0.65,
      color: hi ? "#000" : mis ? MISMATCH : (P.flagged(g) ? "#cc0000" : "#333"),
      weight: hi ? 3 : mis ? 2.5 : (P.flagged(g) ? 1.5 : 0.5),
      dashArray: mis && !hi ? "3 2" : null,
    };
  };
  var MISMATCH = "#d000d0";
  P.relabel = function (g) {
    var l = P.labels[P.codes[g]];
    if (l && l.getTooltip()) l.setTooltipContent(P.codes[g].slice(12) + " · " + P.tally[g]);
  };
  /* the labels of the touched grids, rewritten before the next frame: a tooltip's new text
     forces a layout, so it is done once per frame, not inside the move */
  P.relabelLater = function (gs) {
    P.relabelPending = P.relabelPending || {};
    gs.forEach(function (g) { P.relabelPending[g] = true; });
    if (P.relabelQueued) return;
    P.relabelQueued = true;
    requestAnimationFrame(function () {
      var todo = P.relabelPending;
      P.relabelPending = {}; P.relabelQueued = false;
      Object.keys(todo).forEach(function (g) { P.relabel(+g); });
    });
  };
  P.restyle = function (i) { var l = P.layers[i]; if (l) l.setStyle(P.styleOf(i)); };
  P.restyleAll = function () { for (var i = 0; i < P.layers.length; i++) P.restyle(i); };
  P.restyleGrid = function (g) { for (var i = 0; i < P.assign.length; i++) if (P.assign[i] === g) P.restyle(i); };

  P.bind = function (feature, layer) {
    var i = feature.properties.i;
    P.layers[i] = layer;
    if (P.data) layer.setStyle(P.styleOf(i));
    layer.once("add", function () { P.ensureMap(layer._map); });
    layer.on("click", function (e) {
      if (!P.data || P.mode) return;  /* the lasso or the line is being drawn */
      if (!P.editable || P.target < 0 || (e.originalEvent && e.originalEvent.altKey)) {
        P.target = P.assign[i];
        P.render(); P.restyleAll();
        return;
      }
      P.move([i], P.target);
    });
    layer.bindTooltip(function () {
      return feature.properties.id + " · " + P.hh[i] + " " + (P.text.households || "") + " · " + P.codes[P.assign[i]];
    }, { sticky: true });
  };
  P.style = function (feature) { return P.data ? P.styleOf(feature.properties.i) : { weight: 0.5 }; };

  /* paint a rectangle: shift-drag on the map gives every building inside to the target grid */
  P.boxSelect = function (bounds) {
    if (!P.editable || P.target < 0) return 0;
    var idx = [];
    var c = P.data.centroid;
    for (var i = 0; i < P.assign.length; i++) if (bounds.contains([c[2 * i], c[2 * i + 1]])) idx.push(i);
    return P.move(idx, P.target);
  };

  /* the buildings whose centroid is inside the polygon ``latlngs`` ([[lat, lng], ...], ray
     casting); given to the target grid when there is one. Returns how many were inside. */
  P.lassoSelect = function (latlngs) {
    var pts = latlngs.map(function (p) { return p.lat != null ? [p.lat, p.lng] : p; });
    var c = P.data.centroid, idx = [], n = pts.length;
    if (n < 3) return 0;
    for (var i = 0; i < P.assign.length; i++) {
      var y = c[2 * i], x = c[2 * i + 1], inside = false;
      for (var a = 0, b = n - 1; a < n; b = a++) {
        var ya = pts[a][0], xa = pts[a][1], yb = pts[b][0], xb = pts[b][1];
        if ((ya > y) !== (yb > y) && x < (xb - xa) * (y - ya) / (yb - ya) + xa) inside = !inside;
      }
      if (inside) idx.push(i);
    }
    P.selected = idx;
    if (P.editable && P.target >= 0) P.move(idx, P.target);
    else P.say(P.text.need_target);
    return idx.length;
  };

  /* a line drawn across the target grid ([[lat, lng], ...]): the server splits the grid along
     it (wangge.services.planner_lines) and answers moves, applied as one undoable step */
  P.lineRequest = function (latlngs) {
    var pts = latlngs.map(function (p) { return p.lat != null ? [p.lat, p.lng] : p; });
    if (!P.editable || pts.length < 2) return null;
    if (P.target < 0) { P.say(P.text.need_target); return null; }
    var req = {
      op: "split-line", community: P.data.community, version: P.data.version, moves: P.moves(),
      grid: P.codes[P.target], line: pts.map(function (p) { return [p[1], p[0]]; }),
    };
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("planner-request", { data: req });
    }
    return req;
  };
  P.say = function (text) {
    var m = document.getElementById("planner-message");
    if (m) m.textContent = text || "";
  };
  P.setMode = function (mode) {
    P.mode = P.mode === mode ? null : mode;
    ["lasso", "line"].forEach(function (m) {
      var b = document.getElementById("planner-" + m);
      if (b) b.classList.toggle("active", P.mode === m);
    });
    if (P.map) {
      if (P.mode === "line") P.map.doubleClickZoom.disable(); else P.map.doubleClickZoom.enable();
      P.map.getContainer().classList.toggle("planner-drawing", !!P.mode);
    }
    if (P.sketch) { P.sketch.remove(); P.sketch = null; }
    P.sketchPts = null;
    return P.mode;
  };
  document.addEventListener("click", function (e) {
    var id = e.target && e.target.id;
    if (id === "planner-lasso") P.setMode("lasso");
    else if (id === "planner-line") P.setMode("line");
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && P.mode) P.setMode(P.mode); });

  /* the buildings outside their grid's main counterpart in a compared version, on the map */
  P.markMismatch = function (ids) {
    var want = {};
    (ids || []).forEach(function (b) { want[b] = true; });
    P.mismatch = {};
    P.data.buildings.forEach(function (b, i) { if (want[b]) P.mismatch[i] = true; });
    P.restyleAll();
    return Object.keys(P.mismatch).length;
  };
  P.renderLegend = function (entries) {
    var box = document.getElementById("planner-legend");
    if (!box) return;
    var items = (entries || []).map(function (e) {
      var li = el("li", { class: "legend-" + e.kind, "data-count": e.n });
      li.appendChild(el("span", { class: "legend-swatch legend-" + e.kind }));
      li.appendChild(document.createTextNode(" " + e.text + ": " + e.n));
      return li;
    });
    box.replaceChildren.apply(box, items);
    box.hidden = !items.length;
  };

  /* -- the lists ---------------------------------------------------------------------------- */
  P.row = function (g) {
    var code = P.codes[g], tr = el("tr", { id: "planner-row-" + g, "data-grid": code });
    if (g === P.target) tr.className = "target";
    var sw = el("td"); sw.appendChild(el("span", { class: "swatch", style: "background:" + P.colour(g) }));
    tr.appendChild(sw);
    tr.appendChild(el("td", { class: "code" }, code.length === 15 ? code.slice(12) : code));
    tr.appendChild(el("td", { class: "hh" }, P.tally[g]));
    tr.appendChild(el("td", { class: "nb" }, P.count[g]));
    var flags = [];
    var b = P.data.band;
    if (P.count[g] === 0) flags.push(P.text.empty);
    else if (P.tally[g] > b[1]) flags.push(P.text.over);
    else if (P.tally[g] < b[0]) flags.push(P.text.under);
    if (P.parts[g] > 1) flags.push(P.text.noncontiguous);
    tr.appendChild(el("td", { class: "flags" }, flags.join(" ")));
    var lock = el("input", { type: "checkbox", class: "lock", title: P.text.lock || "" });
    lock.checked = !!P.locked[g];
    lock.addEventListener("click", function (e) { e.stopPropagation(); P.locked[g] = lock.checked; });
    var lt = el("td"); lt.appendChild(lock); tr.appendChild(lt);
    tr.addEventListener("click", function () {
      var old = P.target;
      if (old !== g) P.previous = old;
      P.target = g;
      if (old >= 0) { P.renderRows([old]); P.restyleGrid(old); }
      P.renderRows([g]); P.restyleGrid(g);
    });
    return tr;
  };
  P.renderRows = function (gs) {
    gs.forEach(function (g) {
      var old = document.getElementById("planner-row-" + g);
      if (old) old.replaceWith(P.row(g)); else P.render();
    });
  };
  P.render = function () {
    var body = document.getElementById("planner-tallies");
    if (!body || !P.data) return;
    var order = P.codes.map(function (_, g) { return g; });
    order.sort(function (a, b) { return P.codes[a] < P.codes[b] ? -1 : 1; });
    body.replaceChildren.apply(body, order.map(function (g) { return P.row(g); }));
    P.renderViolations();
    var t = document.getElementById("planner-target");
    if (t) t.textContent = P.target >= 0 ? P.codes[P.target] : "-";
  };
  P.violations = function () {
    var out = [], b = P.data.band;
    for (var g = 0; g < P.codes.length; g++) {
      var kind = P.count[g] === 0 ? (P.base.indexOf(g) >= 0 ? "empty" : null)
        : P.tally[g] > b[1] ? "over" : P.tally[g] < b[0] ? "under" : null;
      if (kind) out.push({ kind: kind, grid: P.codes[g], g: g });
      if (P.count[g] > 0 && P.parts[g] > 1) out.push({ kind: "noncontiguous", grid: P.codes[g], g: g });
    }
    return out;
  };
  P.renderViolations = function () {
    var list = document.getElementById("planner-violations");
    if (!list) return;
    var items = P.violations().map(function (v) {
      var li = el("li", { "data-grid": v.grid, class: "violation " + v.kind }, (P.text[v.kind] || v.kind) + " · " + v.grid);
      li.addEventListener("click", function () { P.zoomTo(v.g); });
      return li;
    });
    list.replaceChildren.apply(list, items);
    var t = document.getElementById("planner-target");
    if (t) t.textContent = P.target >= 0 ? P.codes[P.target] : "-";
  };
  P.zoomTo = function (g) {
    var bounds = null;
    for (var i = 0; i < P.assign.length; i++) {
      var l = P.layers[i];
      if (l && P.assign[i] === g) bounds = bounds ? bounds.extend(l.getBounds()) : L.latLngBounds(l.getBounds().getSouthWest(), l.getBounds().getNorthEast());
    }
    if (bounds && P.map) P.map.fitBounds(bounds, { maxZoom: 18 });
  };
  P.highlight = function (ids) {
    var want = {};
    (ids || []).forEach(function (b) { want[b] = true; });
    P.highlighted = {};
    P.data.buildings.forEach(function (b, i) { if (want[b]) P.highlighted[i] = true; });
    P.restyleAll();
    return Object.keys(P.highlighted).length;
  };
  P.violationCount = function () { return P.violations().length; };

  window.wanggePlanner = P;
  window.wangge = Object.assign({}, window.wangge);
  window.wangge.planner = {
    bind: function (feature, layer) { P.bind(feature, layer); },
    style: function (feature) { return P.style(feature); },
    /* the saved outlines are not stroked: the live ones (P.drawOutlines) are; the layer
       keeps the code and households labels, updated at each move (P.relabel) */
    gridStyle: function () { return { stroke: false, fill: false, interactive: false }; },
    gridLabel: function (feature, layer) {
      var p = feature.properties;
      P.labels[p.grid_code] = layer;
      layer.bindTooltip(p.label, { permanent: true, direction: "center", className: "planner-label" });
    },
    mapReady: function (e) { P.ensureMap(e.target); },
  };
  /* the Leaflet map, found through the first building layer added to it (dash-leaflet's load
     event may fire before this handler is bound); shift-drag there paints a box */
  P.ensureMap = function (map) {
      if (!map || P.map === map) return;
      P.map = map;
      P.map.boxZoom.disable();
      var start = null, rect = null;
      P.drawOutlines();
      P.map.on("mousedown", function (ev) {
        if (P.mode === "lasso") {
          P.sketchPts = [ev.latlng]; P.map.dragging.disable();
          P.sketch = L.polyline(P.sketchPts, { color: MISMATCH, weight: 2, dashArray: "4 3", interactive: false }).addTo(P.map);
          return;
        }
        if (!ev.originalEvent.shiftKey || P.mode) return;
        start = ev.latlng; P.map.dragging.disable();
      });
      P.map.on("click", function (ev) {
        if (P.mode !== "line") return;
        var pts = P.sketchPts = P.sketchPts || [], last = pts[pts.length - 1];
        if (last && last.equals(ev.latlng)) return;  /* the clicks of a double click */
        pts.push(ev.latlng);
        if (P.sketch) P.sketch.setLatLngs(pts);
        else P.sketch = L.polyline(pts, { color: "#000", weight: 2, dashArray: "6 4", interactive: false }).addTo(P.map);
      });
      P.map.on("dblclick", function () {
        if (P.mode !== "line" || !P.sketchPts) return;
        var pts = P.sketchPts;
        P.setMode("line");
        P.lineRequest(pts);
      });
      P.map.on("mousemove", function (ev) {
        if (P.mode === "lasso" && P.sketchPts) { P.sketchPts.push(ev.latlng); P.sketch.setLatLngs(P.sketchPts); return; }
        if (!start) return;
        var b = L.latLngBounds(start, ev.latlng);
        if (rect) rect.setBounds(b); else rect = L.rectangle(b, { weight: 1, dashArray: "4 3", fill: false }).addTo(P.map);
      });
      P.map.on("mouseup", function () {
        if (P.mode !== "lasso" || !P.sketchPts) return;
        var pts = P.sketchPts;
        P.sketchPts = null; P.map.dragging.enable();
        if (P.sketch) { P.sketch.remove(); P.sketch = null; }
        P.lassoSelect(pts);
      });
      P.map.on("mouseup", function (ev) {
        if (!start) return;
        P.boxSelect(L.latLngBounds(start, ev.latlng));
        start = null; P.map.dragging.enable();
        if (rect) { rect.remove(); rect = null; }
      });
  };

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wangge_planner: {
      init: function (state, editable, text) {
        if (!state) return window.dash_clientside.no_update;
        P.init(state, editable, text);
        return state.community + ":" + state.version;
      },
      /* a button pressed: the request the server callback answers (see dashboard/pages/planner.py) */
      request: function (save, split, rerun, publish, restore, relocate, diff, undo, redo, newGrid, merge,
                         comment, reason, parts, picked) {
        var ctx = window.dash_clientside.callback_context, id = (ctx.triggered[0] || {}).prop_id || "";
        var op = id.split(".")[0].replace("planner-", "");
        if (!P.data) return window.dash_clientside.no_update;
        if (op === "undo") { P.undoStep(); return window.dash_clientside.no_update; }
        if (op === "redo") { P.redoStep(); return window.dash_clientside.no_update; }
        if (op === "new-grid") { P.newGrid(); return window.dash_clientside.no_update; }
        if (op === "merge") {  /* the grid picked before the target goes into the target */
          if (P.target >= 0 && P.previous >= 0 && P.previous !== P.target) P.merge(P.target, P.previous);
          return window.dash_clientside.no_update;
        }
        var req = {
          op: op, community: P.data.community, version: P.data.version, moves: P.moves(),
          comment: comment || "", reason: reason || "", parts: parts || 2,
          grid: P.target >= 0 ? P.codes[P.target] : null, picked: picked || null,
          violations: P.violationCount(),
          locked: Object.keys(P.locked).filter(function (g) { return P.locked[g]; }).map(function (g) { return P.codes[g]; }),
        };
        return req;
      },
      /* every tick: the unsaved moves for the server's autosave, when they changed since what
         the server holds for this version (a version only looked at sends nothing, and so
         never wipes the autosave of another) */
      autosave: function () {
        if (!P.data || !P.editable) return window.dash_clientside.no_update;
        var d = P.data, key = d.community + "@" + d.version, moves = P.moves(), sig = JSON.stringify(moves);
        P.sent = P.sent || {};
        if (!(key in P.sent)) {
          var held = d.autosave && d.autosave.parent === d.version ? d.autosave.moves : [];
          P.sent[key] = JSON.stringify(held);
        }
        if (sig === P.sent[key]) return window.dash_clientside.no_update;
        P.sent[key] = sig;
        return { community: d.community, version: d.version, moves: moves };
      },
      respond: function (answer) {
        if (!answer) return window.dash_clientside.no_update;
        if (answer.moves) P.apply(answer.reset ? P.fullMoves(answer.moves) : answer.moves);
        if (answer.highlight) P.highlight(answer.highlight);
        if (answer.mismatched) P.markMismatch(answer.mismatched);
        if (answer.legend) P.renderLegend(answer.legend);
        if (answer.saved) P.forget();
        return answer.load || window.dash_clientside.no_update;
      },
    },
  });
})();
