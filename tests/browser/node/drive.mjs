// Drives the hub's reference web app in Debian's Chromium (playwright-core, no browser download).
// The microphone is a WAV (Chromium's fake capture device). Prints one JSON line with what the
// page saw: its events, its log, and the reply audio's inbound RTP stats.
//   node drive.mjs '{"url": "...", "code": "123456", "wav": "/path.wav", "scenario": "talk"}'
import { chromium } from "playwright-core";

const args = JSON.parse(process.argv[2]);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const launchArgs = [
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  `--use-file-for-fake-audio-capture=${args.wav}%noloop`,
  "--autoplay-policy=no-user-gesture-required",
  "--no-sandbox",
];
const deadline = Date.now() + (args.timeout_ms || 90000);
const browser = await chromium.launch({ executablePath, args: launchArgs, headless: true });
const out = { scenario: args.scenario, console: [] };
try {
  const page = await browser.newPage();
  page.on("console", (message) => out.console.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (err) => out.console.push(`pageerror: ${err.message}`));
  await page.goto(args.url);
  out.pairing_note = await page.textContent("#pair-shared");
  await page.fill("#pair-code", args.code);
  await page.fill("#pair-name", "Chromium");
  await page.click("#pair-button");
  await page.waitForSelector("#main-view:not([hidden])", { timeout: 15000 });
  await page.waitForFunction(() => document.querySelectorAll("#devices li").length > 0, null, { timeout: 15000 });
  out.devices = await page.$$eval("#devices li .name", (names) => names.map((n) => n.textContent));
  const started = Date.now();
  await page.click("#voice-start");
  await page.waitForFunction(() => window.companion.pc?.connectionState === "connected", null, { timeout: 20000 });
  out.connect_ms = Date.now() - started;

  const has = (type) => page.evaluate((t) => window.companion.events.some((e) => e.via === "webrtc" && e.type === t), type);
  if (args.scenario === "talk") {
    while (!(await has("reply")) && Date.now() < deadline) await page.waitForTimeout(200);
    // The reply is spoken: wait for its audio to arrive on the inbound track.
    let stats = await page.evaluate(() => window.companion.audioStats());
    while ((!stats || !(stats.energy > 0.001)) && Date.now() < deadline) {
      await page.waitForTimeout(200);
      stats = await page.evaluate(() => window.companion.audioStats());
    }
    out.stats = stats;
    if (args.switch_on) {
      // Control a device from its card: the button waits for the device's confirmation.
      const card = `#devices li[data-device="${args.switch_on}"]`;
      await page.click(`${card} button`);
      await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes("Turn off"), card, { timeout: 10000 });
      out.switched = await page.$eval(card, (li) => li.textContent);
    }
  } else if (args.scenario === "barge-in") {
    // Wait until the hub is speaking, then barge in; speech must stop at once.
    while (!(await page.evaluate(() => window.companion.events.some((e) => e.via === "webrtc" && e.type === "state" && e.state === "speaking"))) && Date.now() < deadline) {
      await page.waitForTimeout(100);
    }
    out.speaking_seen = Date.now() < deadline;
    const speaking = await page.evaluate(() => window.companion.audioStats());
    await page.waitForTimeout(600);
    const before = await page.evaluate(() => window.companion.audioStats());
    await page.click("#voice-stop-reply");
    while (!(await page.evaluate(() => window.companion.events.some((e) => e.via === "webrtc" && e.type === "state" && e.state === "interrupted"))) && Date.now() < deadline) {
      await page.waitForTimeout(50);
    }
    const stopped = await page.evaluate(() => window.companion.audioStats());
    await page.waitForTimeout(1500);
    const after = await page.evaluate(() => window.companion.audioStats());
    out.energy = { speaking: speaking?.energy, before: before?.energy, at_stop: stopped?.energy, after: after?.energy };
  }
  out.events = await page.evaluate(() => window.companion.events);
  out.log = await page.$$eval("#log li", (items) => items.map((li) => `${li.className}: ${li.textContent}`));
  await page.click("#voice-end");
  await page.waitForTimeout(300);
} catch (err) {
  out.error = String(err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
