// The committee report's "Print (A4)" button. The Content-Security-Policy allows no inline
// script (script-src 'self'), so the button is wired here; it stays hidden without scripts,
// where the browser's own Print command gives the same pages.
"use strict";
const printButton = document.getElementById("print-report");
if (printButton) {
  printButton.addEventListener("click", () => window.print());
  printButton.hidden = false;
}
