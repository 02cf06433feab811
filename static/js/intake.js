/*
 * The intake form, progressively enhanced. Everything works without this file: all questions are
 * shown and the trial list keeps one blank row (blank rows are ignored by the server).
 *
 * - C-SSRS questions 3 to 5 are shown only when question 2 is answered yes. The server clears
 *   them when question 2 is not yes, so hiding them never hides an answer that would be kept.
 * - Antidepressant trials: "Add a trial" clones the formset's empty form; "Remove" deletes a
 *   row. Rows are renumbered so the formset's indices and TOTAL_FORMS stay contiguous. An empty
 *   list keeps its one blank row, ready for the first trial; filling in a row (or adding one)
 *   answers "Trials listed below".
 * - A link to #id_<field> (from the result page's missing information) focuses that question:
 *   the input itself, or in a group of radios the checked one, as the keyboard would.
 * - Autosave: two seconds after the last change, the answers are sent to the form's
 *   data-autosave-url as the clinician's working copy (never the intake itself: nothing is run
 *   or superseded), and "Autosaved at 10:42" appears quietly. A conflict, a signed intake or an
 *   ended session is said in the same place. Without JavaScript there is no autosave; a form
 *   sent after the session ended is kept by the server instead.
 *
 * - Sections: each shows how many of its questions are answered and how many are not recorded
 *   (the sticky action bar shows the whole intake's count). A section with yes/no questions gets
 *   a "None of these" button: it sets the section's *unanswered* yes/no questions that are shown
 *   to No, never an answered one, marks each one it set, says so in a live region, and offers
 *   "Undo", which puts back to Not recorded exactly the ones it set (those still No). Without
 *   the button every question stays Not recorded until answered: unknown is never silently no.
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

    // With the button available, the blank row kept for pages without JavaScript is needed only
    // when no trial is listed: there it saves a click on "Add a trial" for the first one.
    var filled = Array.prototype.filter.call(rows(), function (row) {
      return !isBlank(row);
    });
    rows().forEach(function (row) {
      if (isBlank(row) && filled.length) {
        row.remove();
      }
    });
    rows().forEach(enableRemove);
    renumber();
    // Filling in a row answers the question too.
    list.addEventListener("input", function (event) {
      var row = event.target.closest("[data-trial-row]");
      if (row && !isBlank(row)) {
        chooseListed();
      }
    });

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


  // --- Sections: progress, and "None of these" -------------------------------------------------

  function isShown(element) {
    return !element.closest("[hidden]");
  }

  /** The questions of a section that are shown: groups of radios or checkboxes (a fieldset
   * `id_<name>`), and single inputs outside them (the trial rows are not questions). */
  function questionsOf(section) {
    var groups = Array.prototype.slice.call(section.querySelectorAll("fieldset[id^='id_']"));
    var singles = Array.prototype.filter.call(
      section.querySelectorAll("input, select, textarea"),
      function (field) {
        return (
          field.type !== "hidden" &&
          field.type !== "radio" &&
          field.type !== "checkbox" &&
          !field.closest("[data-trials], template, fieldset")
        );
      }
    );
    return groups.concat(singles).filter(isShown);
  }

  function isAnswered(question) {
    if (question.tagName === "FIELDSET") {
      return Array.prototype.some.call(question.querySelectorAll("input:checked"), function (input) {
        return input.value !== "";
      });
    }
    return question.value.trim() !== "";
  }

  function plural(count, one, many) {
    return count + " " + (count === 1 ? one : many);
  }

  function progressText(answered, total) {
    return answered + " of " + total + " answered · " + (total - answered) + " not recorded";
  }

  function choose(fieldset, value) {
    var input = fieldset.querySelector('input[value="' + value + '"]');
    if (input && !input.checked) {
      input.checked = true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function checkedValue(fieldset) {
    var input = fieldset.querySelector("input:checked");
    return input ? input.value : "";
  }

  function setUpSections(form) {
    var sections = Array.prototype.slice.call(form.querySelectorAll("[data-intake-section]"));
    var overall = document.querySelector("[data-intake-progress]");
    var navLinks = {};
    document.querySelectorAll(".app-section-nav a[href^='#section-']").forEach(function (link) {
      navLinks[link.getAttribute("href").slice("#section-".length)] = link;
    });
    var editable = !form.querySelector("input:disabled, select:disabled, textarea:disabled");
    var updaters = [];

    sections.forEach(function (section) {
      var slug = section.getAttribute("data-intake-section");
      var title = section.getAttribute("data-section-title");
      var heading = section.querySelector(".app-section-title");
      var progress = document.createElement("p");
      progress.className = "small text-body-secondary mb-2 app-section-progress";
      progress.setAttribute("data-section-progress", "");
      heading.insertAdjacentElement("afterend", progress);
      var badge = null;
      var spoken = null;
      if (navLinks[slug]) {
        badge = document.createElement("span");
        badge.className = "badge rounded-pill text-bg-light border ms-1 app-nav-progress";
        badge.setAttribute("aria-hidden", "true");
        spoken = document.createElement("span");
        spoken.className = "visually-hidden";
        navLinks[slug].appendChild(badge);
        navLinks[slug].appendChild(spoken);
      }

      function update() {
        var questions = questionsOf(section);
        var answered = questions.filter(isAnswered).length;
        progress.textContent = progressText(answered, questions.length);
        if (badge) {
          badge.textContent = answered + "/" + questions.length;
          spoken.textContent = " (" + answered + " of " + questions.length + " answered)";
        }
        return [answered, questions.length];
      }
      updaters.push(update);

      var yesNo = section.querySelectorAll("fieldset[data-yes-no]");
      if (editable && yesNo.length) {
        addNoneOfThese(section, slug, title, progress);
      }
    });

    function updateAll() {
      var answered = 0;
      var total = 0;
      updaters.forEach(function (update) {
        var counts = update();
        answered += counts[0];
        total += counts[1];
      });
      if (overall) {
        overall.textContent = "Intake: " + progressText(answered, total) + ".";
      }
    }

    form.addEventListener("change", updateAll);
    form.addEventListener("input", updateAll);
    updateAll();
  }

  function addNoneOfThese(section, slug, title, after) {
    var box = document.createElement("div");
    box.className = "app-none-of-these d-flex flex-wrap align-items-center gap-2 mb-3";
    var help = document.createElement("span");
    help.id = "none-of-these-help-" + slug;
    help.className = "small text-body-secondary";
    help.textContent = "Answers No to this section’s unanswered yes/no questions; answered ones stay as they are.";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-outline-secondary";
    button.setAttribute("data-none-of-these", slug);
    button.setAttribute("aria-describedby", help.id);
    button.textContent = "None of these";
    button.setAttribute("aria-label", "None of these: " + title);
    var undo = document.createElement("button");
    undo.type = "button";
    undo.className = "btn btn-sm btn-outline-secondary";
    undo.setAttribute("data-none-undo", slug);
    undo.hidden = true;
    undo.textContent = "Undo";
    undo.setAttribute("aria-label", "Undo: " + title);
    var status = document.createElement("p");
    status.className = "small mb-0 w-100 app-none-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    status.setAttribute("data-none-status", slug);
    box.appendChild(button);
    box.appendChild(undo);
    box.appendChild(help);
    box.appendChild(status);
    after.insertAdjacentElement("afterend", box);

    var setByUs = []; // fieldsets this control set to No, still showing that answer
    var applying = false;

    function mark(fieldset, on) {
      var wrapper = fieldset.parentElement;
      wrapper.classList.toggle("app-set-by-none", on);
      var note = wrapper.querySelector("[data-set-by-none]");
      if (on && !note) {
        note = document.createElement("p");
        note.className = "small mb-0 app-set-by-none-note";
        note.setAttribute("data-set-by-none", "");
        note.textContent = "Set to No by “None of these”.";
        wrapper.appendChild(note);
      } else if (!on && note) {
        note.remove();
      }
    }

    function forget(fieldset) {
      setByUs = setByUs.filter(function (other) {
        return other !== fieldset;
      });
      mark(fieldset, false);
      if (!setByUs.length) {
        undo.hidden = true;
      }
    }

    button.addEventListener("click", function () {
      var targets = Array.prototype.filter.call(
        section.querySelectorAll("fieldset[data-yes-no]"),
        function (fieldset) {
          return isShown(fieldset) && checkedValue(fieldset) === "";
        }
      );
      if (!targets.length) {
        status.textContent = "Nothing changed: every yes/no question shown in this section is already answered.";
        return;
      }
      applying = true;
      targets.forEach(function (fieldset) {
        choose(fieldset, "no");
        mark(fieldset, true);
        if (setByUs.indexOf(fieldset) === -1) {
          setByUs.push(fieldset);
        }
      });
      applying = false;
      undo.hidden = false;
      status.textContent =
        plural(targets.length, "unanswered question", "unanswered questions") +
        " set to No (marked below). Answered questions were not changed.";
    });

    undo.addEventListener("click", function () {
      var restored = setByUs.slice();
      applying = true;
      restored.forEach(function (fieldset) {
        if (checkedValue(fieldset) === "no") {
          choose(fieldset, "");
        }
        mark(fieldset, false);
      });
      applying = false;
      setByUs = [];
      undo.hidden = true;
      status.textContent =
        "Undone: " + plural(restored.length, "question is", "questions are") + " not recorded again.";
      button.focus();
    });

    // Answering a question this control set makes it the clinician's answer: no longer marked,
    // and Undo leaves it alone.
    section.addEventListener("change", function (event) {
      if (applying) {
        return;
      }
      var fieldset = event.target.closest("fieldset[data-yes-no]");
      if (fieldset && setByUs.indexOf(fieldset) !== -1) {
        forget(fieldset);
      }
    });
  }

  function start() {
    var form = document.querySelector("form[data-intake-form]");
    if (!form) {
      return;
    }
    setUpFollowUps(form);
    setUpTrials(form);
    setUpSections(form);
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
