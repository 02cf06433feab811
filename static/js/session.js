/*
 * The idle-timeout warning. The server ends a session after `data-session-seconds` without a
 * request; two minutes before that, a banner offers "Stay signed in", which asks the server to
 * start the timer again. Any request this page makes in the background (the intake's autosave)
 * starts it again too: it dispatches the "app:session-renewed" event. Once the time is up the
 * banner says so; a form sent then is kept by the server for after signing in again.
 */
(function () {
  "use strict";

  var WARN_BEFORE_MS = 2 * 60 * 1000;

  function start() {
    var seconds = parseInt(document.body.getAttribute("data-session-seconds"), 10);
    var banner = document.getElementById("session-warning");
    if (!seconds || !banner) {
      return;
    }
    var form = banner.querySelector("[data-keepalive-form]");
    var message = banner.querySelector("[data-session-message]");
    var button = banner.querySelector("[data-keepalive-button]");
    var warnTimer = null;
    var endTimer = null;

    function schedule() {
      window.clearTimeout(warnTimer);
      window.clearTimeout(endTimer);
      banner.hidden = true;
      warnTimer = window.setTimeout(warn, Math.max(seconds * 1000 - WARN_BEFORE_MS, 0));
      endTimer = window.setTimeout(ended, seconds * 1000);
    }

    function warn() {
      message.textContent =
        "Your session will end in 2 minutes because nothing has been sent for a while.";
      button.hidden = false;
      banner.hidden = false;
    }

    function ended() {
      message.textContent =
        "Your session has ended. Anything you send from this page now is kept for you: " +
        "you will be asked to sign in again, then shown it to check and save.";
      button.hidden = true;
      banner.hidden = false;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (response.ok) {
            schedule();
          } else {
            ended();
          }
        })
        .catch(function () {
          message.textContent = "The server could not be reached: try again.";
        });
    });

    document.addEventListener("app:session-renewed", schedule);
    schedule();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
