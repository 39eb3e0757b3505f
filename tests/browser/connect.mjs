// node tests/browser/connect.mjs <mode> <connect URL> <origin>...: an end user's browser on the
// connect flow (issue 20), against the real control plane and broker and hydra-mock-oauth's
// consent page, every page guarded as the docs pages are (no request to any origin but the
// ones given, no CSP violation, no script error, no error answer but the one a mode expects).
// Run by tests/e2e/test_connect_browser.cpp, which checks what the flow left behind.
//   approve  open the link, Continue, approve at the provider; waits for the page the flow ends on
//   deny     the same, but deny at the provider
//   tamper   the same as approve, with the state the provider sends back changed
//   reopen   open the link (already used, or expired)
// Prints one JSON line: {"url": the last page's URL, "status": its HTTP status, "text": its text}.
// Screenshots (HYDRA_SCREENSHOT_DIR): connect-page, connect-page-phone, provider-consent, <mode>-end.
import { guardedPage, launchBrowser, screenshot } from "./lib/harness.mjs";

const timeout = Number(process.env.HYDRA_BROWSER_TIMEOUT_MS ?? 30000);
const [mode, link, ...origins] = process.argv.slice(2);
if (!["approve", "deny", "tamper", "reopen"].includes(mode) || !link || origins.length === 0) {
  console.error("usage: node connect.mjs approve|deny|tamper|reopen <connect URL> <origin>...");
  process.exit(2);
}
// The error answers a mode leads to on purpose: the control plane's error page.
const expectedStatus = { reopen: [404, 410], tamper: [400, 403, 404] }[mode] ?? [];

const browser = await launchBrowser();
const problems = [];
let last = null;
try {
  const page = await guardedPage(browser, origins, problems);
  page.on("response", (response) => {
    if (response.request().isNavigationRequest() && response.request().frame() === page.mainFrame()) last = response;
  });
  await page.goto(link, { waitUntil: "load", timeout });
  if (mode !== "reopen") {
    await screenshot(page, "connect-page");
    // The same page on a phone's screen: it must read there too.
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await screenshot(page, "connect-page-phone");
    await page.setViewport({ width: 1280, height: 800 });
    await Promise.all([page.waitForNavigation({ waitUntil: "load", timeout }), page.click("form[action$='/continue'] button")]);
    await page.waitForSelector("#approve", { timeout });
    await screenshot(page, "provider-consent");
    if (mode === "deny") {
      await Promise.all([page.waitForNavigation({ waitUntil: "load", timeout }), page.click("#deny")]);
    } else {
      let href = await page.$eval("#approve", (a) => a.href);
      if (mode === "tamper") {
        const url = new URL(href);
        url.searchParams.set("state", url.searchParams.get("state").slice(0, -4) + "AAAA");
        href = url.href;
      }
      await page.goto(href, { waitUntil: "load", timeout });
      if (mode === "approve") {
        // The waiting page polls until the broker has exchanged the code, then moves on to the
        // session's success_url (or error_url), off the control plane's /connect/ pages.
        const deadline = Date.now() + timeout;
        while (new URL(page.url()).pathname.startsWith("/connect/")) {
          if (Date.now() > deadline) throw new Error(`still on ${page.url()} after ${timeout} ms`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await page.waitForNetworkIdle({ idleTime: 300, timeout });
      }
    }
  }
  await screenshot(page, `${mode}-end`);
  const status = last ? last.status() : 0;
  const text = (await page.evaluate(() => document.body.innerText)).replace(/\s+/g, " ").trim();
  // The expected error answer (and Chromium's console line about it) is not a problem; any other is.
  const expected = (p) => expectedStatus.some((code) => p === `${code} for ${page.url()}` ||
    p === `console error: Failed to load resource: the server responded with a status of ${code} (${last?.statusText()})`);
  const unexpected = problems.filter((p) => !(expectedStatus.includes(status) && expected(p)));
  if (unexpected.length > 0) {
    console.error(unexpected.join("\n"));
    process.exitCode = 1;
  }
  console.log(JSON.stringify({ url: page.url(), status, text }));
} catch (error) {
  console.error(`${error.message}\n${problems.join("\n")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
