// The editors' desk: small enhancements on server-rendered pages. Everything works without it.
(function () {
  "use strict";

  // Live countdowns: <time data-countdown datetime="…"> shows how long until that moment.
  function span(seconds) {
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600);
    var m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var parts = [];
    if (d) parts.push(d + " d");
    if (d || h) parts.push(h + " h");
    if (d || h || m) parts.push(m + " min");
    parts.push(s + " s");
    return parts.join(" ");
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      if (!el.title) el.title = el.textContent.trim();
      var left = Math.round((at - now) / 1000);
      el.textContent = left > 0 ? "in " + span(left) : "released (reload to see it)";
    });
  }
  if (document.querySelector("time[data-countdown]")) {
    tick();
    window.setInterval(tick, 1000);
  }

  // The write form: text fields take the article's language and direction as it is typed.
  var RTL = ["ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"];
  var language = document.getElementById("f-language");
  function follow() {
    var tag = language.value.trim();
    var primary = tag.split("-")[0].toLowerCase();
    document.querySelectorAll("[data-follows-language]").forEach(function (el) {
      if (tag) el.setAttribute("lang", tag);
      el.setAttribute("dir", RTL.indexOf(primary) >= 0 ? "rtl" : "ltr");
    });
  }
  if (language) language.addEventListener("input", follow);

  // "Now" beside the publication time: this moment, with the browser's own UTC offset.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localNow() {
    var d = new Date(), offset = -d.getTimezoneOffset(), sign = offset >= 0 ? "+" : "-";
    offset = Math.abs(offset);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
      sign + pad(Math.floor(offset / 60)) + ":" + pad(offset % 60);
  }
  document.querySelectorAll("input[data-now-target]").forEach(function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "quiet now";
    button.textContent = "Now";
    button.setAttribute("aria-label", "Set " + (input.labels[0] ? input.labels[0].textContent : "the time") + " to now");
    button.addEventListener("click", function () { input.value = localNow(); input.focus(); });
    input.insertAdjacentElement("afterend", button);
  });

  // Forms that ask first (data-confirm): the server still needs their CSRF token.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
