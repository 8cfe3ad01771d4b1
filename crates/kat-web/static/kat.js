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

  // Live screens (dosing session, floor board): the server sends server-sent events.
  // "update" carries the whole live part; the others one fragment each, an element
  // with an id: "tile" (a floor-board tile), "vital" (a vitals-table row), "summary" and
  // "alarms" (the session's summary and alarm panel); "order" lists the tiles' ids in
  // the board's order; "expired" says the sign-in has ended. The state line says
  // whether the screen is live, so a stale screen is never mistaken for a current one.
  document.addEventListener("DOMContentLoaded", function () {
    var target = document.querySelector("[data-live-stream]");
    if (!target || !window.EventSource) { return; }
    var state = document.querySelector("[data-live-state]");
    var baseTitle = document.title;
    function say(text, stale) {
      if (!state) { return; }
      state.textContent = text;
      state.classList.toggle("stale", !!stale);
    }
    function live() { say("Live: updates as readings arrive."); }

    // Keep what the user is typing in a form (an alarm's "action taken"), the focus and
    // any opened details, across a replacement of the element holding them.
    function key(el) { return (el.form ? el.form.getAttribute("action") : "") + "|" + el.name; }
    // `fresh` replaces `old`; `root` is what holds the new content afterwards.
    function swap(old, fresh, root) {
      var typed = {};
      var focused = null;
      var opened = {};
      old.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (el) {
        if (el.type !== "hidden" && el.value) { typed[key(el)] = el.value; }
        if (el === document.activeElement) { focused = key(el); }
      });
      old.querySelectorAll("details[open][id]").forEach(function (d) { opened[d.id] = true; });
      fresh();
      root.querySelectorAll("details[id]").forEach(function (d) { if (opened[d.id]) { d.open = true; } });
      root.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (el) {
        var k = key(el);
        if (el.type !== "hidden" && Object.prototype.hasOwnProperty.call(typed, k)) { el.value = typed[k]; }
        if (k === focused) { el.focus(); }
      });
      if (window.htmx) { window.htmx.process(root); }
    }
    function parse(html) {
      var t = document.createElement("template");
      t.innerHTML = html.trim();
      return t.content.firstElementChild;
    }
    // Replaces the element with the fragment's id, or inserts it where it belongs.
    function place(html, container, sorted) {
      var el = parse(html);
      if (!el || !el.id) { return; }
      var old = document.getElementById(el.id);
      if (old) {
        swap(old, function () { old.replaceWith(el); }, el);
        return;
      }
      var box = document.getElementById(container);
      if (!box) { return; }
      if (sorted) {
        // Newest first, by the time the reading was taken.
        var at = Number(el.getAttribute("data-sort"));
        var before = null;
        for (var i = 0; i < box.children.length; i++) {
          if (Number(box.children[i].getAttribute("data-sort")) < at) { before = box.children[i]; break; }
        }
        box.insertBefore(el, before);
      } else {
        box.appendChild(el);
      }
      var empty = document.getElementById(container === "vitals-body" ? "vitals-empty" : "floor-empty");
      if (empty) { empty.hidden = true; }
    }

    var source = new EventSource(target.getAttribute("data-live-stream"));
    source.addEventListener("open", live);
    source.addEventListener("update", function (e) {
      // The same version as shown (the first update after loading): nothing to replace.
      if (e.lastEventId && e.lastEventId === target.getAttribute("data-live-version")) { live(); return; }
      target.setAttribute("data-live-version", e.lastEventId || "");
      swap(target, function () { target.innerHTML = e.data; }, target);
      alarmed();
      live();
    });
    source.addEventListener("tile", function (e) { place(e.data, "floor-tiles", false); alarmed(); live(); });
    source.addEventListener("vital", function (e) { place(e.data, "vitals-body", true); live(); });
    source.addEventListener("summary", function (e) { place(e.data); alarmed(); live(); });
    source.addEventListener("alarms", function (e) { place(e.data); live(); });
    source.addEventListener("order", function (e) {
      var box = document.getElementById("floor-tiles");
      if (!box) { return; }
      var ids = e.data ? e.data.split(" ") : [];
      var keep = {};
      ids.forEach(function (id) {
        var el = document.getElementById(id);
        if (el) { box.appendChild(el); keep[id] = true; }
      });
      Array.prototype.slice.call(box.children).forEach(function (el) { if (!keep[el.id]) { el.remove(); } });
      var empty = document.getElementById("floor-empty");
      if (empty) { empty.hidden = ids.length > 0; }
      alarmed();
      live();
    });
    source.addEventListener("expired", function () {
      source.close();
      window.location.reload();
    });
    source.addEventListener("error", function () {
      say("Connection lost: reconnecting. What is shown may be out of date.", true);
    });

    // The page title counts the open alarms shown; the chime (switched on per screen,
    // since a browser plays sound only after a tap) repeats while an intervene or
    // emergency alarm is open, until it is acknowledged.
    var toggle = document.querySelector("[data-chime-toggle]");
    var audio = null;
    var chimeOn = false;
    var timer = null;
    function count() {
      var n = 0;
      target.querySelectorAll("[data-open-alarms]").forEach(function (el) {
        n += Number(el.getAttribute("data-open-alarms")) || 0;
      });
      return n;
    }
    function tone(freq, start, length) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(start);
      osc.stop(start + length + 0.05);
    }
    function chime() {
      if (!audio || !chimeOn) { return; }
      var t = audio.currentTime;
      tone(880, t, 0.25);
      tone(660, t + 0.3, 0.25);
      tone(880, t + 0.6, 0.35);
    }
    function alarmed() {
      var n = count();
      var title = target.getAttribute("data-title");
      if (title) {
        document.title = n > 0
          ? "(" + n + " alarm" + (n === 1 ? "" : "s") + ") " + baseTitle.replace(/^\(\d+ alarms?\) /, "")
          : baseTitle.replace(/^\(\d+ alarms?\) /, "");
      }
      var urgent = !!target.querySelector("[data-urgent]");
      if (urgent && chimeOn && !timer) {
        chime();
        timer = window.setInterval(chime, 4000);
      } else if ((!urgent || !chimeOn) && timer) {
        window.clearInterval(timer);
        timer = null;
      }
    }
    if (toggle) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (!Ctx) { toggle.textContent = "This browser cannot play the chime"; return; }
        if (!audio) { audio = new Ctx(); }
        chimeOn = !chimeOn;
        if (chimeOn) { audio.resume(); }
        toggle.setAttribute("aria-pressed", chimeOn ? "true" : "false");
        toggle.textContent = chimeOn
          ? "Sound on · chime repeats for intervene and emergency alarms"
          : "Sound off · tap to turn the alarm chime on";
        alarmed();
      });
    }
    alarmed();
  });
})();
