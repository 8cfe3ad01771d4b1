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
})();
