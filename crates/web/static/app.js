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
      // The canvas draws with the page's fonts (the program's own Chinese font where the machine
      // has none), and draws again once a font has arrived.
      option.textStyle = Object.assign({ fontFamily: getComputedStyle(document.body).fontFamily }, option.textStyle || {});
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      if (document.fonts) {
        var redraw = function () { chart.setOption(option, true); };
        document.fonts.ready.then(redraw);
        document.fonts.addEventListener("loadingdone", redraw);
      }
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
    // The menu on a narrow screen.
    root.querySelectorAll("[data-menu]").forEach(function (b) {
      b.addEventListener("click", function () {
        var nav = document.getElementById(b.getAttribute("aria-controls"));
        if (!nav) return;
        var open = nav.classList.toggle("open");
        b.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });
    // A chosen file's name beside its labelled button.
    root.querySelectorAll(".file-pick input[type=file]").forEach(function (i) {
      if (i.dataset.wired) return;
      i.dataset.wired = "1";
      i.addEventListener("change", function () {
        var out = i.closest(".file-pick").querySelector(".file-name");
        if (out) out.textContent = i.files.length ? i.files[0].name : "未选择文件";
      });
    });
    charts(root);
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSwap", function (e) { charts(e.target); wireFiles(e.target); });
  function wireFiles(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll(".file-pick input[type=file]").forEach(function (i) {
      if (i.dataset.wired) return;
      i.dataset.wired = "1";
      i.addEventListener("change", function () {
        var out = i.closest(".file-pick").querySelector(".file-name");
        if (out) out.textContent = i.files.length ? i.files[0].name : "未选择文件";
      });
    });
  }
  // A text saved as a file where it stands (the 细则 draft's TOML), without a round trip.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-download-from]");
    if (!b) return;
    var src = document.getElementById(b.dataset.downloadFrom);
    if (!src) return;
    var url = URL.createObjectURL(new Blob([src.value], { type: "application/toml;charset=utf-8" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = b.dataset.fileName || "download.txt";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });
  // A field refused by the server is marked next to its input.
  document.addEventListener("htmx:afterSwap", function (e) {
    var bad = e.target.querySelector && e.target.querySelector(".field-error, .alert.error");
    if (bad && bad.scrollIntoView) bad.scrollIntoView({ block: "nearest" });
  });
})();
