// The app's camera screen (#20) in Debian's Chromium: pair, see each camera with its room, whether it
// is online and its last event, load a snapshot on demand, see a camera go unavailable live, and run
// axe-core. Prints one JSON line. At a checkpoint it writes <sync>/<name>.wait and waits for
// <sync>/<name>.go (the test stops a real camera stream meanwhile).
//   node cameras.mjs '{"url": "...", "code": "123456", "width": 390, "height": 844, "shots": "/tmp/x",
//                      "sync": "/tmp/y", "online": "front_door", "broken": "attic", "stopped": "garage"}'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const args = JSON.parse(process.argv[2]);
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const profile = mkdtempSync(join(tmpdir(), "companion-cameras-"));
const context = await chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"], headless: true, viewport: { width: args.width, height: args.height }, colorScheme: "light" });
const out = { console: [], shots: [], axe: {} };
const card = (id) => `#cameras li.camera[data-camera="${id}"]`;

async function checkpoint(name, timeoutMs = 120000) {
  writeFileSync(join(args.sync, `${name}.wait`), "");
  const until = Date.now() + timeoutMs;
  while (!existsSync(join(args.sync, `${name}.go`))) {
    if (Date.now() > until) throw new Error(`checkpoint ${name}: the test did not answer`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function shot(page, name) {
  const path = join(args.shots, `cameras-${String(out.shots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  out.shots.push(path);
}

async function axe(page, name) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  out.axe[name] = result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
}

const listed = (page) => page.$$eval("#cameras li.camera", (cards) => cards.map((c) => ({
  id: c.dataset.camera, name: c.querySelector(".name").textContent, room: c.querySelector(".room").textContent,
  state: c.querySelector(".state").textContent, last: c.querySelector(".last-event").textContent })));

try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (message) => out.console.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (err) => out.console.push(`pageerror: ${err.message}`));
  await page.goto(args.url);
  await page.waitForSelector("#status[data-state=unpaired]", { timeout: 15000 });
  await page.fill("#pair-code", args.code);
  await page.click("#pair-button");
  await page.waitForSelector("#status[data-state=online]", { timeout: 15000 });
  await page.waitForSelector(`${card(args.online)} .state[data-state=online]`, { timeout: 30000 });
  out.section_visible = await page.isVisible("#cameras-section");
  out.cameras = await listed(page);
  out.before_click = await page.$$eval("#cameras img.snapshot", (imgs) => imgs.length); // on demand only

  await page.click(`${card(args.online)} button`);
  await page.waitForFunction((sel) => { const img = document.querySelector(sel); return img && img.complete && img.naturalWidth > 0; },
    `${card(args.online)} img.snapshot`, { timeout: 15000 });
  out.snapshot = await page.$eval(`${card(args.online)} img.snapshot`, (img) => ({ width: img.naturalWidth,
    height: img.naturalHeight, shown_width: img.getBoundingClientRect().width, alt: img.alt, src: img.src.split(":")[0] }));
  await page.click(`${card(args.broken)} button`);
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.length > 0, `${card(args.broken)} .note`, { timeout: 10000 });
  out.broken_note = await page.$eval(`${card(args.broken)} .note`, (n) => n.textContent);
  out.overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.$eval("#cameras-section", (s) => s.scrollIntoView());
  await shot(page, "snapshot");
  await axe(page, "cameras");

  await checkpoint("camera-down"); // the test stops a camera's stream: its card turns unavailable, live
  await page.waitForSelector(`${card(args.stopped)} .state[data-state=unavailable]`, { timeout: 30000 });
  out.after_stop = (await listed(page)).find((c) => c.id === args.stopped);
  out.snapshot_kept = await page.$$eval(`${card(args.online)} img.snapshot`, (imgs) => imgs.length);
  await shot(page, "camera-down");
} catch (err) {
  out.error = String(err?.stack || err);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
