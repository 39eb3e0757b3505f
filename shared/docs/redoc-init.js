// Starts Redoc on /redoc. A file of its own, not an inline script: the page's
// Content-Security-Policy runs scripts from this origin only (shared/docs/pages.cpp).
"use strict";
// /openapi.json, relative to the page so that a path prefix added by a proxy still works.
Redoc.init(new URL("openapi.json", document.baseURI).href, {}, document.getElementById("redoc"));
