// The connect flow's waiting page (control-plane/connect/pages.cpp): polls the session's status
// (the browser's cookie authenticates it) until the broker has exchanged the code, then goes to
// the customer's success_url / error_url, or says the outcome itself when there is none.
(function () {
  'use strict';
  var main = document.getElementById('wait');
  if (!main) return;
  var url = main.getAttribute('data-status-url');
  var title = document.getElementById('wait-title');
  var text = document.getElementById('wait-text');
  var tries = 0;
  var maxTries = 120;  // about two minutes

  function show(heading, message, failed) {
    main.classList.add('done');
    if (failed) main.classList.add('status-error');
    title.textContent = heading;
    text.textContent = message;
  }

  function again(delay) {
    if (tries < maxTries) {
      setTimeout(poll, delay);
    } else {
      show('Still working', 'This is taking longer than it should. You can close this window and try again later.', true);
    }
  }

  function poll() {
    tries += 1;
    fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 404) throw new Error('gone');
        if (!response.ok) throw new Error('retry');
        return response.json();
      })
      .then(function (s) {
        if (s.location) {
          window.location.replace(s.location);
        } else if (s.status === 'connected') {
          show('Connected', 'Your account is connected. You can close this window.', false);
        } else if (s.status === 'failed' || s.status === 'expired') {
          show('Not connected', 'The connection could not be completed (' + (s.error || s.status) + ').', true);
        } else {
          again(1000);
        }
      })
      .catch(function (e) {
        if (e && e.message === 'gone') {
          show('Not connected', 'This sign-in is not known to this browser any more.', true);
        } else {
          again(2000);
        }
      });
  }

  poll();
})();
