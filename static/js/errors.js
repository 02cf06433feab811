/*
 * Errors where the eye is. A page that comes back with form errors shows a summary of them
 * (templates/partials/error_summary.html); this moves focus to the first summary on the page,
 * scrolled into view, so the reader starts from the list of what to fix. A summary inside a
 * flag or the sign-off section is reached through the form's #anchor as well (without
 * JavaScript the browser still scrolls there).
 *
 * A link in the summary focuses its field (the browser would only scroll to it).
 */
(function () {
  "use strict";

  function start() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      return;
    }
    summary.scrollIntoView({ block: "center" });
    summary.focus({ preventScroll: true });
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) {
        return;
      }
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (field) {
        event.preventDefault();
        field.scrollIntoView({ block: "center" });
        field.focus();
      }
    });
  }

  // After the browser's own move to the page's #fragment (the flag or section the form posted
  // to), which happens once the page has loaded and would take focus from the summary.
  if (document.readyState === "complete") {
    start();
  } else {
    window.addEventListener("load", function () {
      window.setTimeout(start, 0);
    });
  }
})();
