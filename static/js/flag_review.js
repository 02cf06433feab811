/*
 * Flag review on the result page without reloading it. Everything works without this file: each
 * flag's form (and the form acknowledging several review flags at once) posts, and the server
 * answers with the result page again.
 *
 * With it, the same forms are sent with fetch. The server answers exactly as it does without
 * JavaScript (a redirect to the result page, or the page with the form's errors), and the flags
 * section and the sign-off section of that page replace the ones shown: nothing else on the page
 * moves. The page's message ("… acknowledged.") is shown and announced just above the flags,
 * and the focus goes where the clinician is likely to continue: the next flag still waiting for
 * a review (its first field), or the Sign button once none waits; after an error, the form's
 * error summary. If the answer is not the result page (the session ended, say), the browser
 * goes to it as it would have without this script.
 *
 * Loaded as an external script: the Content-Security-Policy forbids inline script.
 */
(function () {
  "use strict";

  var SECTIONS = ["flags", "sign-off"];
  var status = null;

  function statusBox() {
    if (!status) {
      status = document.createElement("div");
      status.className = "app-flag-review-status";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      status.setAttribute("data-flag-review-status", "");
    }
    var flags = document.getElementById("flags");
    if (flags && status.nextElementSibling !== flags) {
      flags.insertAdjacentElement("beforebegin", status);
    }
    return status;
  }

  function say(texts, isError) {
    var box = statusBox();
    box.textContent = "";
    texts.forEach(function (text) {
      var line = document.createElement("div");
      line.className = "alert py-2 mb-2 " + (isError ? "alert-danger" : "alert-success");
      line.textContent = text;
      box.appendChild(line);
    });
  }

  function messagesOf(doc) {
    return Array.prototype.map.call(doc.querySelectorAll(".app-messages .alert"), function (alert) {
      return {
        text: alert.textContent.replace(/\s+/g, " ").trim(),
        error: alert.classList.contains("alert-danger") || alert.classList.contains("alert-warning"),
      };
    });
  }

  function swap(doc) {
    SECTIONS.forEach(function (id) {
      var fresh = doc.getElementById(id);
      var shown = document.getElementById(id);
      if (fresh && shown) {
        shown.replaceWith(document.importNode(fresh, true));
      } else if (shown) {
        shown.remove();
      }
    });
  }

  function focusNext(formId) {
    var form = formId && document.getElementById(formId);
    var around = form && form.closest("article, section");
    var summary = around && around.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
      return;
    }
    var next = document.querySelector("[data-testid='pending'] a[href^='#flag-']");
    if (next) {
      var flag = document.getElementById(next.getAttribute("href").slice(1));
      var field = flag && flag.querySelector("form select, form textarea, form input:not([type=hidden])");
      if (field) {
        field.focus();
        return;
      }
    }
    var sign = document.querySelector("#sign-form [type=submit]");
    if (sign) {
      sign.focus();
      return;
    }
    var heading = document.getElementById("flags-title");
    if (heading) {
      heading.focus();
    }
  }

  function send(form, submitter) {
    var formId = form.id;
    var buttons = form.querySelectorAll("[type=submit]");
    buttons.forEach(function (button) {
      button.disabled = true;
    });
    form.setAttribute("aria-busy", "true");

    function release() {
      buttons.forEach(function (button) {
        button.disabled = false;
      });
      form.removeAttribute("aria-busy");
    }

    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    })
      .then(function (response) {
        return response.text().then(function (html) {
          var arrived = new URL(response.url, window.location.href);
          var doc = new DOMParser().parseFromString(html, "text/html");
          var elsewhere = response.redirected && arrived.pathname !== window.location.pathname;
          if (elsewhere) {
            // Sent on to another page (the sign-in page): go there, as the post would have.
            window.location.assign(response.url);
            return;
          }
          if (!doc.getElementById("flags")) {
            // Not the result page (an error page): post the form as without this script.
            form.submit();
            return;
          }
          var messages = messagesOf(doc);
          swap(doc);
          if (messages.length) {
            say(
              messages.map(function (message) {
                return message.text;
              }),
              messages.some(function (message) {
                return message.error;
              })
            );
          } else if (!response.ok) {
            say(["Not saved: correct the form below."], true);
          }
          focusNext(response.ok ? null : formId);
        });
      })
      .catch(function () {
        release();
        say(["Not saved: the server could not be reached. Your reason is still in the form."], true);
        if (submitter) {
          submitter.focus();
        }
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.closest("#flags") || !form.matches(".app-flag-form")) {
      return;
    }
    event.preventDefault();
    send(form, event.submitter);
  });
})();
