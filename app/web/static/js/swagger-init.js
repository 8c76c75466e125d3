// Starts Swagger UI on /docs. A file of its own because the console's CSP allows no inline script.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // The public validator badge would call validator.swagger.io: nothing leaves this server.
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
})();
