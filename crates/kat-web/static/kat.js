// kat's only script of its own: small progressive enhancements. Every page works
// without it. Loaded same-origin, so the Content-Security-Policy stays strict.
(function () {
  "use strict";
  // Move keyboard focus to the first invalid field after a form comes back with errors,
  // so a screen-reader user hears what to fix.
  document.addEventListener("DOMContentLoaded", function () {
    var invalid = document.querySelector("[aria-invalid='true']");
    if (invalid) { invalid.focus(); }
  });

  // Live screens (dosing session, floor board): the server sends the rendered live part
  // as server-sent events ("update"), and "expired" when the sign-in has ended. The
  // state line says whether the screen is live, so a stale screen is never mistaken
  // for a current one.
  document.addEventListener("DOMContentLoaded", function () {
    var target = document.querySelector("[data-live-stream]");
    if (!target || !window.EventSource) { return; }
    var state = document.querySelector("[data-live-state]");
    function say(text, stale) {
      if (!state) { return; }
      state.textContent = text;
      state.classList.toggle("stale", !!stale);
    }
    var source = new EventSource(target.getAttribute("data-live-stream"));
    source.addEventListener("open", function () { say("Live: updates as readings arrive."); });
    source.addEventListener("update", function (e) {
      // The same version as shown (the first update after loading, or an unchanged
      // re-render): nothing to replace.
      if (e.lastEventId && e.lastEventId === target.getAttribute("data-live-version")) {
        say("Live: updates as readings arrive.");
        return;
      }
      target.setAttribute("data-live-version", e.lastEventId || "");
      // Keep what the user is typing in a form inside the live part (an alarm's
      // "action taken"), and the focus, across the update.
      function key(el) { return (el.form ? el.form.getAttribute("action") : "") + "|" + el.name; }
      var typed = {};
      var focused = null;
      target.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (el) {
        if (el.type !== "hidden" && el.value) { typed[key(el)] = el.value; }
        if (el === document.activeElement) { focused = key(el); }
      });
      target.innerHTML = e.data;
      target.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (el) {
        var k = key(el);
        if (el.type !== "hidden" && Object.prototype.hasOwnProperty.call(typed, k)) { el.value = typed[k]; }
        if (k === focused) { el.focus(); }
      });
      if (window.htmx) { window.htmx.process(target); }
      say("Live: updates as readings arrive.");
    });
    source.addEventListener("expired", function () {
      source.close();
      window.location.reload();
    });
    source.addEventListener("error", function () {
      say("Connection lost: reconnecting. What is shown may be out of date.", true);
    });
  });
})();
