// What every browser test shares: the system's Chromium (Debian's `chromium`), headless, driven
// by puppeteer-core; and pages guarded so that the test fails on anything a page must never do:
// a request to any origin but the server's own, a Content-Security-Policy violation, an
// uncaught error, an error on the console, an error answer from the server.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import puppeteer from "puppeteer-core";

/** HYDRA_CHROMIUM, else the first of the usual places that exists; null if none. */
export function findChromium() {
  const candidates = [process.env.HYDRA_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  return candidates.find((p) => p && fs.existsSync(p)) ?? null;
}

/** A headless Chromium with a throwaway profile, none of its own background traffic. */
export async function launchBrowser() {
  const executablePath = findChromium();
  if (!executablePath) throw new Error("no Chromium found (set HYDRA_CHROMIUM, or apt-get install chromium)");
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hydra-chromium-"));
  const args = [
    "--disable-background-networking", "--disable-component-update", "--disable-default-apps", "--disable-sync",
    "--no-first-run", "--no-default-browser-check", "--disable-dev-shm-usage", "--disable-gpu",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
  ];
  // Chromium refuses to run its sandbox as root (containers, CI); elsewhere it keeps it.
  if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");
  const browser = await puppeteer.launch({ executablePath, headless: true, userDataDir, args });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return browser;
}

/**
 * A new page that may talk to `origin` only (or to each of an array of origins: a flow that
 * goes through several servers, all on this host). Every problem is pushed to `problems` (strings):
 * requests elsewhere (aborted, so none leaves the host), CSP violations (from the page's own
 * securitypolicyviolation events and Chromium's console reports), page errors, console errors,
 * and 4xx/5xx answers.
 */
export async function guardedPage(browser, origin, problems) {
  const allowed = new Set([].concat(origin));
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    const url = request.url();
    // data: and blob: URLs are made inside the page; nothing is fetched for them.
    if (url.startsWith("data:") || url.startsWith("blob:") || allowed.has(new URL(url).origin)) {
      request.continue();
      return;
    }
    problems.push(`request to another origin: ${request.method()} ${url}`);
    request.abort("blockedbyclient");
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    const text = message.text();
    if (message.type() === "error" || /Content Security Policy/i.test(text)) {
      problems.push(`console ${message.type()}: ${text}`);
    }
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
  });
  page.on("requestfailed", (request) => {
    const failure = request.failure()?.errorText ?? "";
    if (failure !== "net::ERR_BLOCKED_BY_CLIENT") problems.push(`request failed (${failure}): ${request.url()}`);
  });
  await page.evaluateOnNewDocument(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  return page;
}

/** Saves a screenshot as <HYDRA_SCREENSHOT_DIR>/<name>.png when that variable is set. */
export async function screenshot(page, name) {
  const dir = process.env.HYDRA_SCREENSHOT_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}
