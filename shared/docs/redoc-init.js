// Starts Redoc on /redoc. A file of its own, not an inline script: the page's
// Content-Security-Policy runs scripts from this origin only (shared/docs/pages.cpp).
// Redoc's styled-components write <style> elements; the policy admits them only with the
// nonce the server made for this one answer, which it hands over on this script's element.
"use strict";
(function () {
  var nonce = document.currentScript.getAttribute("data-style-nonce");
  // /openapi.json, relative to the page so that a path prefix added by a proxy still works.
  Redoc.init(new URL("openapi.json", document.baseURI).href, { nonce: nonce }, document.getElementById("redoc"));
})();
