// The app's camera screen (#20) in Debian's Chromium: pair, see each camera with its room, whether it
// is online and its last event, load a snapshot on demand, see a camera go unavailable live, and run
// axe-core. Prints one JSON line. At a checkpoint it writes <sync>/<name>.wait and waits for
// <sync>/<name>.go (the test stops a real camera stream meanwhile).
//   node cameras.mjs '{"url": "...", "code": "123456", "width": 390, "height": 844, "shots": "/tmp/x",
//                      "sync": "/tmp/y", "online": "front_door", "broken": "attic", "stopped": "garage"}'
import { rmSync } from "node:fs";
import { axe as axeCheck, checkpoint as waitFor, launch, openApp, shot as snap } from "./harness.mjs";

const args = JSON.parse(process.argv[2]);
const { context, profile } = await launch(args, "cameras");
const out = { console: [], shots: [], axe: {} };
const checkpoint = (name) => waitFor(args.sync, name);
const shot = (page, name) => snap(page, out, args.shots, "cameras", name);
const axe = (page, name) => axeCheck(page, out, name);
const card = (id) => `#cameras li.camera[data-camera="${id}"]`;

const listed = (page) => page.$$eval("#cameras li.camera", (cards) => cards.map((c) => ({
  id: c.dataset.camera, name: c.querySelector(".name").textContent, room: c.querySelector(".room").textContent,
  state: c.querySelector(".state").textContent, last: c.querySelector(".last-event").textContent })));

try {
  const page = await openApp(context, out, args.url);
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
