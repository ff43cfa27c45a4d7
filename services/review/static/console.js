// casetrail review console: live SLA countdowns and the language picker.
// No inline scripts anywhere (the Content-Security-Policy forbids them); HTMX does the rest.
(function () {
  "use strict";
  function fmt(seconds) {
    seconds = Math.abs(Math.round(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600),
        m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + pad(m) + "m";
    return m + ":" + pad(s);
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = (Date.parse(el.dataset.due) - now) / 1000;
      el.textContent = (left > 0 ? el.dataset["in"] : el.dataset.over) + " " + fmt(left);
      el.classList.toggle("breached", left <= 0);
      el.classList.toggle("at-risk", left > 0 && left <= 3600);
      el.classList.toggle("ok", left > 3600);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  });
  document.addEventListener("htmx:afterSwap", tick);
})();
