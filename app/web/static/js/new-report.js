// The new-report form: choosing a region from the search results fills the region code.
// Without this script the officer types the code; the search results still show it.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var choice = target.closest("[data-region-code]");
    if (!choice) { return; }
    var input = document.getElementById("location-region_code");
    if (!input) { return; }
    input.value = choice.getAttribute("data-region-code");
    var hint = document.getElementById("location-region_code-hint");
    if (hint) { hint.textContent = choice.getAttribute("data-region-name"); }
    var results = document.getElementById("region-results");
    if (results) { results.textContent = ""; }
    input.focus();
  });
})();
