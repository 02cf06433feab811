/*
 * The API docs page (templates/ninja/swagger.html): Swagger UI draws its controls as the reader
 * opens operations, and a few of them reach assistive technology without a name. As they appear,
 * this names them (WCAG 4.1.2, 1.3.1) and lets a keyboard reach the code boxes that scroll
 * (2.1.1): unnamed copy buttons, the request body, parameter fields, scrolling code blocks.
 */
(function () {
  "use strict";

  function name(element, label) {
    if (!element.getAttribute("aria-label") && !element.getAttribute("aria-labelledby")) {
      element.setAttribute("aria-label", label);
    }
  }

  function fieldLabel(field) {
    var parameter = field.closest("[data-param-name]");
    if (parameter) {
      return parameter.getAttribute("data-param-name");
    }
    if (field.closest(".body-param")) {
      return "Request body";
    }
    if (field.closest(".content-type-wrapper, .response-control-media-type")) {
      return "Media type";
    }
    return field.getAttribute("placeholder") || field.getAttribute("title") || "Value";
  }

  function mend(root) {
    root.querySelectorAll(".copy-to-clipboard button").forEach(function (button) {
      if (!button.textContent.trim()) {
        name(button, "Copy to clipboard");
      }
    });
    root.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (field) {
      if (!field.labels || field.labels.length === 0) {
        name(field, fieldLabel(field));
      }
    });
    root.querySelectorAll("pre").forEach(function (block) {
      if (!block.hasAttribute("tabindex")) {
        block.setAttribute("tabindex", "0");
      }
    });
  }

  function start() {
    var root = document.getElementById("swagger-ui");
    if (!root) {
      return;
    }
    var pending = false;
    new MutationObserver(function () {
      if (!pending) {
        pending = true;
        window.requestAnimationFrame(function () {
          pending = false;
          mend(root);
        });
      }
    }).observe(root, { childList: true, subtree: true });
    mend(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
