// Metric charts: drawn only when on screen, from server-side buckets (min/max/last);
// zoom re-queries the visible step range. Needs uPlot (vendored).
(function () {
  "use strict";
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                "#17becf", "#7f7f7f", "#bcbd22"];
  var controls = document.getElementById("chart-controls");
  var charts = [];
  function opt(name) {
    var el = controls && controls.elements[name];
    if (!el) return null;
    return el.type === "checkbox" ? el.checked : el.value;
  }
  function smooth(values, alpha) {
    if (!alpha) return values;
    var out = [], acc = 0, n = 0;
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      if (v === null) { out.push(null); continue; }
      acc = acc * alpha + v * (1 - alpha);
      n++;
      out.push(acc / (1 - Math.pow(alpha, n)));  // debiased exponential moving average
    }
    return out;
  }
  function fetchRun(run, key, start, end) {
    var q = "?key=" + encodeURIComponent(key) + "&buckets=1000";
    if (start !== null) q += "&start=" + Math.floor(start);
    if (end !== null) q += "&end=" + Math.ceil(end);
    return fetch("/ui/api/runs/" + encodeURIComponent(run) + "/metric-buckets" + q, {credentials: "same-origin"})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
  }
  function xOf(d, mode) {
    if (mode === "relative") return d.time.map(function (t) { return (t - d.start_time) / 1000; });
    if (mode === "wall") return d.time.map(function (t) { return t / 1000; });
    return d.step;
  }
  // Several runs: align on the union of x values (uPlot wants one x array).
  function align(parts) {
    if (parts.length === 1) return parts[0];
    var xs = {}, all = [];
    parts.forEach(function (p) { p.x.forEach(function (x) { xs[x] = 1; }); });
    all = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    var index = {}; all.forEach(function (x, i) { index[x] = i; });
    var out = {x: all, series: []};
    parts.forEach(function (p) {
      p.series.forEach(function (s) {
        var col = new Array(all.length).fill(null);
        p.x.forEach(function (x, i) { col[index[x]] = s.values[i]; });
        out.series.push({label: s.label, values: col, band: s.band, color: s.color});
      });
    });
    return out;
  }
  // the y range of the visible data, padded by 5% (uPlot's default keeps zero in view)
  function fit(u, lo, hi) {
    if (lo === null || hi === null) return [0, 1];
    var pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
    return [lo - pad, hi + pad];
  }
  function Chart(fig) {
    this.fig = fig;
    this.runs = fig.getAttribute("data-runs").split(",");
    this.key = fig.getAttribute("data-key");
    this.plot = null;
    this.range = [null, null];
    this.data = null;
  }
  Chart.prototype.load = function () {
    var self = this, mode = opt("x") || "step";
    var caption = self.fig.querySelector("figcaption");
    return Promise.all(self.runs.map(function (r) { return fetchRun(r, self.key, self.range[0], self.range[1]); }))
      .then(function (results) {
        self.data = results;
        self.stepOf = results[0];
        var single = results.length === 1;
        var parts = results.map(function (d, i) {
          var color = COLORS[i % COLORS.length];
          var series = [{label: single ? self.key : d.run_name, values: smooth(d.last, Number(opt("smooth") || 0)), color: color}];
          if (single) {
            series.push({label: "min", values: d.min, color: color, band: true});
            series.push({label: "max", values: d.max, color: color, band: true});
          }
          return {x: xOf(d, mode), series: series};
        });
        var a = align(parts);
        var pts = results.reduce(function (s, d) { return s + d.points; }, 0);
        caption.textContent = pts + " points in range, " + a.x.length + " drawn" + (results.some(function (d) { return d.points > d.step.length; }) ? " (min/max/last per bucket)" : "");
        self.draw(a, mode);
      })
      .catch(function (e) { caption.textContent = "Could not load: " + e.message; });
  };
  Chart.prototype.draw = function (a, mode) {
    var self = this, el = self.fig.querySelector(".plot");
    var series = [{label: mode === "step" ? "step" : (mode === "relative" ? "seconds" : "time")}];
    a.series.forEach(function (s) {
      series.push({label: s.label, stroke: s.color, width: s.band ? 0.5 : 1.5,
                   alpha: s.band ? 0.35 : 1, spanGaps: true, points: {show: false}});
    });
    var bands = [];
    if (a.series.length === 3 && a.series[1].band) bands.push({series: [3, 2], fill: a.series[0].color + "33"});
    var opts = {
      width: Math.max(300, el.clientWidth || 440), height: 240,
      scales: {x: {time: mode === "wall"}, y: opt("log") ? {distr: 3} : {distr: 1, range: fit}},
      series: series, bands: bands, legend: {live: true},
      cursor: {drag: {x: true, y: false}},
      hooks: {setSelect: [function (u) {
        if (u.select.width < 3) return;
        var lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({left: 0, width: 0}, false);
        self.zoom(lo, hi);
      }]}
    };
    var data = [a.x].concat(a.series.map(function (s) { return s.values; }));
    if (self.plot) self.plot.destroy();
    el.textContent = "";
    self.plot = new uPlot(opts, data, el);
    self.plot.over.addEventListener("dblclick", function () { self.range = [null, null]; self.load(); });
    self.fig.setAttribute("data-drawn", "1");
  };
  // x range -> step range (in time modes, through the first run's buckets)
  Chart.prototype.zoom = function (lo, hi) {
    var mode = opt("x") || "step", d = this.stepOf;
    if (mode !== "step" && d) {
      var xs = xOf(d, mode), s0 = null, s1 = null;
      for (var i = 0; i < xs.length; i++) {
        if (xs[i] >= lo && s0 === null) s0 = i > 0 ? d.step[i - 1] : d.step[i];
        if (xs[i] <= hi) s1 = i + 1 < xs.length ? d.step[i + 1] : d.step[i];
      }
      lo = s0; hi = s1;
    }
    this.range = [lo, hi];
    this.fig.setAttribute("data-zoomed", "1");
    this.load();
  };
  function init() {
    if (typeof uPlot === "undefined") return;
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting) return;
        seen.unobserve(e.target);
        var c = new Chart(e.target); charts.push(c); c.load();
      });
    }, {rootMargin: "200px"});
    document.querySelectorAll("figure.chart").forEach(function (f) { seen.observe(f); });
    if (controls) controls.addEventListener("change", function (e) {
      var s = controls.elements.smooth; s.setAttribute("aria-valuetext", s.value);
      var typed = e.target.name === "start" || e.target.name === "end";
      var lo = controls.elements.start.value, hi = controls.elements.end.value;
      charts.forEach(function (c) {
        if (typed) c.range = [lo === "" ? null : Number(lo), hi === "" ? null : Number(hi)];
        c.load();
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
