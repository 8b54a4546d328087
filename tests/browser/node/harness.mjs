// What the browser scripts share: a Chromium with a profile on disk (Chromium offers to install a PWA
// only outside incognito), checkpoints the Python test answers, screenshots and axe-core's checks.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export async function launch(args, prefix) {
  const profile = mkdtempSync(join(tmpdir(), `companion-${prefix}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"], headless: true,
    viewport: { width: args.width, height: args.height }, colorScheme: "light" });
  return { context, profile };
}

// Writes <sync>/<name>.wait and waits for <sync>/<name>.go: the test changes the real world meanwhile.
export async function checkpoint(sync, name, timeoutMs = 120000) {
  writeFileSync(join(sync, `${name}.wait`), "");
  const until = Date.now() + timeoutMs;
  while (!existsSync(join(sync, `${name}.go`))) {
    if (Date.now() > until) throw new Error(`checkpoint ${name}: the test did not answer`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function shot(page, out, dir, prefix, name) {
  const path = join(dir, `${prefix}-${String(out.shots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  out.shots.push(path);
}

export async function axe(page, out, name) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  out.axe[name] = result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
}

// The app's first page, its console and errors kept in `out`, open on the pairing screen.
export async function openApp(context, out, url) {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (message) => out.console.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (err) => out.console.push(`pageerror: ${err.message}`));
  await page.goto(url);
  await page.waitForSelector("#status[data-state=unpaired]", { timeout: 15000 });
  return page;
}
