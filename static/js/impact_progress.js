/*
 * Impact preview progress. The page works without this file: it reloads itself every few
 * seconds (a <noscript> meta refresh) until the preview is finished.
 *
 * With it, the page polls the preview's small JSON endpoint (data-progress-url) once a second
 * and updates the progress element and the counters in place; when the preview is finished it
 * reloads once, so the examples and any error are drawn by the server.
 *
 * Loaded as an external script: the Content-Security-Policy forbids inline script.
 */
(function () {
  "use strict";

  var POLL_MS = 1000;
  var FIELDS = [
    "status_label", "processed", "total", "changed_disposition", "changed_flags",
    "needs_new_questions"
  ];

  function show(root, data) {
    FIELDS.forEach(function (name) {
      var element = root.querySelector('[data-field="' + name + '"]');
      if (element) {
        element.textContent = String(data[name]);
      }
    });
    var bar = root.querySelector('[data-field="bar"]');
    if (bar) {
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
    }
    var percent = root.querySelector('[data-field="percent"]');
    if (percent) {
      percent.textContent = data.percent + "%";
    }
  }

  function poll(root) {
    var url = root.getAttribute("data-progress-url");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("progress request failed: " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        show(root, data);
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(function () { poll(root); }, POLL_MS);
        }
      })
      .catch(function () {
        // A dropped request (network, signed out) is retried more slowly; the Reload link stays.
        window.setTimeout(function () { poll(root); }, POLL_MS * 5);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("impact-preview");
    if (root && root.getAttribute("data-finished") !== "true") {
      poll(root);
    }
  });
})();
