/*
 * The rule editor's help, enhanced. Everything works without this file: the facts palette is a
 * set of plain lists (open each with its summary), and "Try the logic" posts the rule form to
 * the try-it URL, which answers with the edit page again, what was typed kept and the answer
 * shown under the button.
 *
 * With it: a search box filters the palette as you type (by name, label, value or example) and
 * opens the groups that match; "Try the logic" sends the same form with fetch and puts the
 * answer in place (the answer's region is a polite live region, so it is announced), leaving
 * the page, the focus and what was typed where they were. If the answer is not the edit page
 * (the session ended, say), the form is posted as it would have been without this script.
 *
 * Loaded as an external script: the Content-Security-Policy forbids inline script.
 */
(function () {
  "use strict";

  function paletteSearch(palette) {
    var slot = palette.querySelector("[data-palette-search]");
    if (!slot) {
      return;
    }
    var items = palette.querySelectorAll("[data-palette-item]");
    var groups = palette.querySelectorAll("[data-palette-group]");
    var label = document.createElement("label");
    label.className = "form-label";
    label.htmlFor = "palette-search";
    label.textContent = "Search facts and operators";
    var input = document.createElement("input");
    input.type = "search";
    input.id = "palette-search";
    input.className = "form-control mb-1";
    input.setAttribute("aria-describedby", "palette-search-count");
    input.autocomplete = "off";
    var count = document.createElement("p");
    count.id = "palette-search-count";
    count.className = "small text-body-secondary mb-2";
    count.setAttribute("role", "status");
    slot.appendChild(label);
    slot.appendChild(input);
    slot.appendChild(count);

    // Which groups the admin had open, to give them back when the search is emptied.
    var opened = Array.prototype.map.call(groups, function (group) {
      return group.open;
    });
    groups.forEach(function (group, index) {
      group.addEventListener("toggle", function () {
        if (!input.value.trim()) {
          opened[index] = group.open;
        }
      });
    });

    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().trim().split(/\s+/).filter(Boolean);
      var shown = 0;
      items.forEach(function (item) {
        var text = item.getAttribute("data-search").toLowerCase();
        var match = words.every(function (word) {
          return text.indexOf(word) >= 0;
        });
        item.hidden = !match;
        if (match) {
          shown += 1;
        }
      });
      groups.forEach(function (group, index) {
        var any = group.querySelector("[data-palette-item]:not([hidden])");
        group.hidden = words.length > 0 && !any;
        group.open = words.length > 0 ? Boolean(any) : opened[index];
      });
      count.textContent = words.length ? shown + " of " + items.length + " match" : "";
    });
  }

  function tryInPlace(form) {
    var result = document.getElementById("try-result");
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !button.hasAttribute("data-try-button") || !result) {
        return;
      }
      event.preventDefault();
      var body = new FormData(form);
      body.append(button.name, button.value);
      button.disabled = true;
      result.setAttribute("aria-busy", "true");
      fetch(button.formAction, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      })
        .then(function (response) {
          return response.text().then(function (html) {
            var doc = new DOMParser().parseFromString(html, "text/html");
            var fresh = doc.getElementById("try-result");
            if (!response.ok || !fresh) {
              // Not the edit page (signed out, an error page): post as without this script.
              HTMLFormElement.prototype.submit.call(withAction(form, button.formAction));
              return;
            }
            result.innerHTML = fresh.innerHTML;
          });
        })
        .catch(function () {
          result.textContent = "The server could not be reached: nothing was tried. What you typed is kept.";
        })
        .finally(function () {
          button.disabled = false;
          result.removeAttribute("aria-busy");
        });
    });
  }

  function withAction(form, action) {
    form.action = action;
    return form;
  }

  document.querySelectorAll("[data-palette]").forEach(paletteSearch);
  var form = document.getElementById("rule-form");
  if (form) {
    tryInPlace(form);
  }
})();
