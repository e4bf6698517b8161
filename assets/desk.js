/* The case desk (dashboard/pages/cases.py): the filters in the URL, and the row an action
   changed updated in place in the grid (no reload of the list). */
(function () {
  "use strict";
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wangge_desk: {
      syncUrl: function (view, status, category, township, window_, q, lang) {
        var p = new URLSearchParams();
        if (lang && lang !== "zh") p.set("lang", lang);
        if (view && view !== "all") p.set("view", view);
        if (status && status.length) p.set("status", status.join(","));
        if (category) p.set("category", category);
        if (township) p.set("township", township);
        if (window_ && window_ !== "30d") p.set("window", window_);
        if (q) p.set("q", q);
        var s = p.toString();
        window.history.replaceState(window.history.state, "", window.location.pathname + (s ? "?" + s : ""));
        return s;
      },
      updateRow: function (row) {
        if (!row || !window.dash_ag_grid) return window.dash_clientside.no_update;
        var api = window.dash_ag_grid.getApi("cases-grid");
        var node = api && api.getRowNode(row.case_id);
        if (node) node.setData(row);
        return row.case_id + "@" + row.version;
      },
    },
  });
})();
