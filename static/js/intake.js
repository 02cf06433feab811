/*
 * The intake form, progressively enhanced. Everything works without this file: all questions are
 * shown and the trial list keeps one blank row (blank rows are ignored by the server).
 *
 * - C-SSRS questions 3 to 5 are shown only when question 2 is answered yes. The server clears
 *   them when question 2 is not yes, so hiding them never hides an answer that would be kept.
 * - Antidepressant trials: "Add a trial" clones the formset's empty form; "Remove" deletes a
 *   row. Rows are renumbered so the formset's indices and TOTAL_FORMS stay contiguous.
 * - A link to #id_<field> (from the result page's missing information) focuses that question:
 *   the input itself, or in a group of radios the checked one, as the keyboard would.
 * - Autosave: two seconds after the last change, the answers are sent to the form's
 *   data-autosave-url as the clinician's working copy (never the intake itself: nothing is run
 *   or superseded), and "Autosaved at 10:42" appears quietly. A conflict, a signed intake or an
 *   ended session is said in the same place. Without JavaScript there is no autosave; a form
 *   sent after the session ended is kept by the server instead.
 *
 * Loaded as an external script: the Content-Security-Policy forbids inline script.
 */
(function () {
  "use strict";

  var TRIALS_LISTED = "listed";

  function setUpFollowUps(form) {
    form.querySelectorAll("[data-follows]").forEach(function (wrapper) {
      var name = wrapper.getAttribute("data-follows");
      var radios = form.querySelectorAll('input[name="' + name + '"]');

      function update() {
        var chosen = form.querySelector('input[name="' + name + '"]:checked');
        wrapper.hidden = !(chosen && chosen.value === "yes");
      }

      radios.forEach(function (radio) {
        radio.addEventListener("change", update);
      });
      update();
    });
  }

  function isBlank(row) {
    var fields = row.querySelectorAll("input, select, textarea");
    return Array.prototype.every.call(fields, function (field) {
      return field.value.trim() === "";
    });
  }

  function setUpTrials(form) {
    var box = form.querySelector("[data-trials]");
    if (!box) {
      return;
    }
    var addButton = box.querySelector("[data-trial-add]");
    var template = box.querySelector("template[data-trial-template]");
    if (!addButton || !template) {
      return; // read-only: nothing to add or remove
    }
    var prefix = box.getAttribute("data-prefix");
    var list = box.querySelector("[data-trial-list]");
    var total = box.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var emptyNote = box.querySelector("[data-trial-empty-note]");
    var indexPattern = new RegExp(prefix + "-(\\d+|__prefix__)-", "g");
    var attributes = ["name", "id", "for", "aria-describedby"];

    function rows() {
      return list.querySelectorAll("[data-trial-row]");
    }

    function renumber() {
      rows().forEach(function (row, index) {
        row.querySelectorAll("*").forEach(function (element) {
          attributes.forEach(function (attribute) {
            var value = element.getAttribute(attribute);
            if (value && value.indexOf(prefix + "-") !== -1) {
              element.setAttribute(attribute, value.replace(indexPattern, prefix + "-" + index + "-"));
            }
          });
        });
        row.querySelectorAll("[data-trial-number]").forEach(function (number) {
          number.textContent = String(index + 1);
        });
      });
      total.value = String(rows().length);
      emptyNote.hidden = rows().length > 0;
    }

    function enableRemove(row) {
      var button = row.querySelector("[data-trial-remove]");
      button.hidden = false;
      button.addEventListener("click", function () {
        row.remove();
        renumber();
        addButton.focus();
      });
    }

    function chooseListed() {
      // Adding a trial answers the question: trials are listed below.
      var listed = form.querySelector(
        'input[name="antidepressant_trials_recorded"][value="' + TRIALS_LISTED + '"]'
      );
      if (listed && !listed.checked) {
        listed.checked = true;
        listed.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    // With the button available, the blank row kept for pages without JavaScript is not needed.
    rows().forEach(function (row) {
      if (isBlank(row)) {
        row.remove();
      }
    });
    rows().forEach(enableRemove);
    renumber();

    addButton.hidden = false;
    box.querySelectorAll("[data-trial-no-js-hint]").forEach(function (hint) {
      hint.hidden = true;
    });
    addButton.addEventListener("click", function () {
      var row = template.content.firstElementChild.cloneNode(true);
      list.appendChild(row);
      enableRemove(row);
      renumber();
      chooseListed();
      var first = row.querySelector("input, select");
      if (first) {
        first.focus();
      }
    });
  }

  function focusLinkedQuestion() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (id.indexOf("id_") !== 0) {
      return;
    }
    var target = document.getElementById(id);
    if (!target || target.closest("[hidden]")) {
      return;
    }
    var focusable = target.matches("input, select, textarea")
      ? target
      : target.querySelector("input:checked") || target.querySelector("input, select, textarea");
    if (!focusable) {
      return;
    }
    target.scrollIntoView({ block: "center" });
    focusable.focus({ preventScroll: true });
  }

  var AUTOSAVE_DELAY_MS = 2000;

  function setUpAutosave(form) {
    var url = form.getAttribute("data-autosave-url");
    var status = document.querySelector("[data-autosave-status]");
    if (!url || !status) {
      return;
    }
    var timer = null;
    var sending = false;
    var again = false;
    var submitted = false;

    function say(text) {
      status.textContent = text;
    }

    function send() {
      timer = null;
      if (submitted) {
        return;
      }
      if (sending) {
        again = true;
        return;
      }
      sending = true;
      var body = new FormData(form);
      body.delete("action");
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (answer) {
            if (response.ok) {
              say("Autosaved at " + answer.saved_at + " (not yet saved to the intake).");
              document.dispatchEvent(new CustomEvent("app:session-renewed"));
            } else if (response.status === 401) {
              say(
                "Not autosaved: your session has ended. Press Save draft: you will be asked " +
                  "to sign in, and your answers will be kept."
              );
            } else {
              say("Not autosaved: " + answer.detail);
            }
          });
        })
        .catch(function () {
          say("Not autosaved: the server could not be reached. Your answers are still here.");
        })
        .then(function () {
          sending = false;
          if (again) {
            again = false;
            schedule();
          }
        });
    }

    function schedule() {
      if (submitted) {
        return;
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(send, AUTOSAVE_DELAY_MS);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("click", function (event) {
      if (event.target.closest("[data-trial-add], [data-trial-remove]")) {
        schedule();
      }
    });
    form.addEventListener("submit", function () {
      // The form itself is being sent: a working copy saved after it would be out of date.
      submitted = true;
      window.clearTimeout(timer);
    });
  }

  function start() {
    var form = document.querySelector("form[data-intake-form]");
    if (!form) {
      return;
    }
    setUpFollowUps(form);
    setUpTrials(form);
    setUpAutosave(form);
    // The browser's own move to the fragment happens after this script runs, and it blurs the
    // page when the target (a fieldset) cannot take focus: focus the question once it is done.
    if (document.readyState === "complete") {
      focusLinkedQuestion();
    } else {
      window.addEventListener("load", function () {
        window.setTimeout(focusLinkedQuestion, 0);
      });
    }
    window.addEventListener("hashchange", focusLinkedQuestion);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
