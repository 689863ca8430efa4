// Typing in a form is activity: the session would otherwise end after RELAIS_SESSION_IDLE_MINUTES
// without a request, and what was typed would be lost when it is sent. While someone types in
// a form of the page, this tells Relais they are there (POST /account/alive, at most once every
// data-every seconds, the first time at the first key). When the session has ended all the
// same (the computer left alone, the session ended from another device), the notice of the
// page says so before the form is sent: what was typed can still be copied.
"use strict";
const alive = document.getElementById("keep-alive");
if (alive) {
  const every = Number(alive.dataset.every || "300") * 1000;
  let last = -Infinity;
  let ended = false;
  document.addEventListener("input", (event) => {
    const form = event.target instanceof Element ? event.target.closest("form") : null;
    if (ended || !form || form.method.toLowerCase() !== "post") return;
    const now = Date.now();
    if (now - last < every) return;
    last = now;
    fetch(alive.dataset.url, {
      method: "POST",
      headers: { "X-CSRFToken": alive.dataset.token },
      credentials: "same-origin",
      redirect: "manual",
    }).then((answer) => {
      // A redirect is to the sign-in page: the session has ended. Anything else (Relais
      // unavailable for a moment) is tried again at a key after the next interval.
      if (answer.type === "opaqueredirect") {
        ended = true;
        alive.hidden = false;
      }
    }, () => {});  // offline for a moment: the same
  }, true);
}
