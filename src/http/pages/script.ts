/**
 * The one script of the web pages, served from `/assets/app.js` (`script-src 'self'`: no inline script).
 * Progressive enhancement only, every form works without it:
 * - a password field's "Show" button (rendered `hidden`, shown here) flips the input between hidden and
 *   plain text; its accessible name stays "Show password" and `aria-pressed` tells the state;
 * - a form marked `data-busy` disables its submit button on submit and shows the spinner and the button's
 *   `data-busy-label`, so a slow post (argon2 takes a moment) is not sent twice; a page restored from the
 *   back-forward cache gets its buttons back.
 */
export const APP_SCRIPT = `'use strict';
(function () {
  function setupPasswordToggles() {
    var toggles = document.querySelectorAll('button[data-password-toggle]');
    Array.prototype.forEach.call(toggles, function (toggle) {
      var input = document.getElementById(toggle.getAttribute('aria-controls'));
      if (!input) return;
      var text = toggle.querySelector('.toggle-text');
      toggle.hidden = false;
      toggle.addEventListener('click', function () {
        var show = input.type === 'password';
        input.type = show ? 'text' : 'password';
        toggle.setAttribute('aria-pressed', show ? 'true' : 'false');
        if (text) text.textContent = show ? toggle.dataset.hide : toggle.dataset.show;
      });
    });
  }

  function busyButtons(form) {
    return form.querySelectorAll('button[type="submit"]');
  }

  function setupBusyForms() {
    var forms = document.querySelectorAll('form[data-busy]');
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener('submit', function (event) {
        if (form.dataset.sending === 'true') {
          event.preventDefault();
          return;
        }
        form.dataset.sending = 'true';
        var submitter = event.submitter || busyButtons(form)[0];
        // After this handler: the browser has built the form's data by then, so nothing is left out of it.
        setTimeout(function () {
          Array.prototype.forEach.call(busyButtons(form), function (button) {
            button.disabled = true;
          });
          if (!submitter) return;
          submitter.classList.add('busy');
          submitter.setAttribute('aria-busy', 'true');
          var label = submitter.querySelector('.label');
          if (label && submitter.dataset.busyLabel) {
            submitter.dataset.idleLabel = label.textContent;
            label.textContent = submitter.dataset.busyLabel;
          }
        }, 0);
      });
    });
  }

  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    var forms = document.querySelectorAll('form[data-busy]');
    Array.prototype.forEach.call(forms, function (form) {
      delete form.dataset.sending;
      Array.prototype.forEach.call(busyButtons(form), function (button) {
        button.disabled = false;
        button.classList.remove('busy');
        button.removeAttribute('aria-busy');
        var label = button.querySelector('.label');
        if (label && button.dataset.idleLabel) label.textContent = button.dataset.idleLabel;
      });
    });
  });

  setupPasswordToggles();
  setupBusyForms();
})();
`
