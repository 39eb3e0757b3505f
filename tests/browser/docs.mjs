// node tests/browser/docs.mjs <base URL>...: /docs (Swagger UI) and /redoc of each running
// binary render every operation of its /openapi.json, with no request leaving that binary's
// origin, no CSP violation, no error. Exit code 0 when all holds; otherwise the problems, one a
// line. Run by tests/e2e/test_docs_pages.cpp against the real binaries (one browser for all).
import { guardedPage, launchBrowser, screenshot } from "./lib/harness.mjs";

const timeout = Number(process.env.HYDRA_BROWSER_TIMEOUT_MS ?? 30000);
const bases = process.argv.slice(2).map((url) => new URL(url));
if (bases.length === 0) {
  console.error("usage: node docs.mjs <base URL>...");
  process.exit(2);
}

// What must appear: each operation of the document the pages render.
async function operationsOf(base) {
  const document = await (await fetch(new URL("openapi.json", base))).json();
  const operations = [];
  for (const [route, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item)) operations.push({ method, route, id: op.operationId, summary: op.summary });
  }
  if (operations.length === 0) throw new Error(`${base}openapi.json has no operations`);
  return operations;
}

async function checkSwaggerUi(page, base, operations) {
  await page.goto(new URL("docs", base).href, { waitUntil: "load" });
  // One .opblock per operation: its method and path as Swagger UI rendered them.
  const expected = operations.map((o) => `${o.method.toUpperCase()} ${o.route}`).sort();
  await page.waitForFunction(
    (n) => document.querySelectorAll(".swagger-ui .opblock").length >= n, { timeout }, expected.length);
  const rendered = await page.$$eval(".swagger-ui .opblock", (blocks) =>
    blocks.map((b) => `${b.querySelector(".opblock-summary-method")?.textContent.trim()} ${b.querySelector(".opblock-summary-path")?.getAttribute("data-path")}`).sort());
  const problems = [];
  if (JSON.stringify(rendered) !== JSON.stringify(expected)) {
    problems.push(`rendered ${JSON.stringify(rendered)}, expected ${JSON.stringify(expected)}`);
  }
  // Its style sheet applies (served with the right type, allowed by the policy).
  const styled = await page.$eval(".swagger-ui .opblock", (b) => getComputedStyle(b).borderTopStyle);
  if (styled !== "solid") problems.push(`Swagger UI's styles are not applied (an operation's border is ${styled})`);
  return problems;
}

async function checkRedoc(page, base, operations) {
  await page.goto(new URL("redoc", base).href, { waitUntil: "load" });
  // Redoc gives each operation a section whose id ends in operation/<operationId>, headed by its summary.
  await page.waitForFunction(
    (ids) => ids.every((id) => document.querySelector(`[data-section-id$="operation/${CSS.escape(id)}"]`)),
    { timeout }, operations.map((o) => o.id));
  const problems = [];
  for (const o of operations) {
    const heading = await page.$eval(`[data-section-id$="operation/${o.id}"] h2`, (h) => h.textContent.trim()).catch(() => null);
    if (heading !== o.summary) problems.push(`operation ${o.id} headed ${JSON.stringify(heading)}, expected ${JSON.stringify(o.summary)}`);
  }
  // Every <style> element Redoc added is in force (one the policy refused has no sheet), and
  // together they hold Redoc's rules: the page is styled, not just rendered.
  const sheets = await page.$$eval("style", (styles) => styles.map((s) => (s.sheet ? s.sheet.cssRules.length : -1)));
  const rules = sheets.reduce((n, r) => n + Math.max(r, 0), 0);
  if (sheets.includes(-1) || rules < 50) problems.push(`Redoc's styles are not applied (rules per <style>: ${JSON.stringify(sheets)})`);
  return problems;
}

const browser = await launchBrowser();
const problems = [];
let rendered = 0;
try {
  for (const base of bases) {
    const operations = await operationsOf(base);
    for (const [name, check] of [["docs", checkSwaggerUi], ["redoc", checkRedoc]]) {
      const found = [];
      const page = await guardedPage(browser, base.origin, found);
      try {
        found.push(...(await check(page, base, operations)));
        // Anything loaded late (fonts, images, telemetry) would show up here.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await screenshot(page, `${base.port}-${name}`);
      } catch (error) {
        found.push(`${error.message}`);
      } finally {
        await page.close();
      }
      problems.push(...found.map((p) => `${base.origin}/${name}: ${p}`));
    }
    rendered += operations.length;
  }
} finally {
  await browser.close();
}
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`docs pages: ${rendered} operations of ${bases.length} servers rendered by /docs and /redoc, no request left their origins`);
