// Keyboard-first forms: put the cursor where the officer acts next. The error summary when the
// form came back with errors, else the answer of a check, else the first field of the form.
(function () {
  "use strict";
  function focusFirst() {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); return; }
    var answer = document.querySelector("[data-focus-first] h2");
    if (answer) { answer.focus(); return; }
    var field = document.querySelector("main form .input");
    if (field) { field.focus(); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirst);
  } else {
    focusFirst();
  }
})();
