// Lvzhi pages: charts from JSON data blocks, auto-submitting selects, print buttons.
// No inline scripts anywhere (the Content-Security-Policy forbids them): everything is wired here.
(function () {
  "use strict";
  function charts(root) {
    if (typeof echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.ready) return;
      var data = document.getElementById(el.dataset.chart);
      if (!data) return;
      var option = JSON.parse(data.textContent);
      option.animation = false;
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      el.dataset.ready = "1";
      window.addEventListener("resize", function () { chart.resize(); });
      window.addEventListener("beforeprint", function () { chart.resize(); });
    });
  }
  function wire(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    root.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    charts(root);
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSwap", function (e) { charts(e.target); });
  // A field refused by the server is marked next to its input.
  document.addEventListener("htmx:afterSwap", function (e) {
    var bad = e.target.querySelector && e.target.querySelector(".field-error, .alert.error");
    if (bad && bad.scrollIntoView) bad.scrollIntoView({ block: "nearest" });
  });
})();
