// Starts Swagger UI on /docs. A file of its own, not an inline script: the page's
// Content-Security-Policy runs scripts from this origin only (shared/docs/pages.cpp).
"use strict";
window.ui = SwaggerUIBundle({
  // /openapi.json, relative to the page so that a path prefix added by a proxy still works.
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  // The default sends the document to validator.swagger.io for a badge: nothing leaves the host.
  validatorUrl: null,
  // ?url= and ?configUrl= must not point the page at another document (the default, said aloud).
  queryConfigEnabled: false,
});
