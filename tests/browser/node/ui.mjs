// The web app as a phone (or desktop) user meets it, in Debian's Chromium: pairing, rooms, cards,
// the chat, history, the reconnect banner, dark theme, the offline page, and axe-core's checks.
// Prints one JSON line. Screenshots go to args.shots. At a checkpoint it writes <sync>/<name>.wait
// and waits for <sync>/<name>.go: the test changes the real world (a door, the hub) meanwhile.
//   node ui.mjs '{"url": "...", "code": "123456", "width": 390, "height": 844, "shots": "/tmp/x", "sync": "/tmp/y",
//                 "flow": "phone" | "desktop", "light": "ha:kitchen_light", "broken": "ha:broken_plug", "door": "ha:front_door"}'
import { rmSync } from "node:fs";
import { axe as axeCheck, checkpoint as waitFor, launch, openApp, shot as snap } from "./harness.mjs";

const args = JSON.parse(process.argv[2]);
const { context, profile } = await launch(args, "ui");
const out = { flow: args.flow, console: [], shots: [], axe: {} };
const checkpoint = (name) => waitFor(args.sync, name);
const shot = (page, name) => snap(page, out, args.shots, args.flow, name);
const axe = (page, name) => axeCheck(page, out, name);
const card = (id) => `#devices li.card[data-device="${id}"]`;

const text = (page, selector) => page.$eval(selector, (n) => n.textContent.trim());
const cardState = (page, id) => text(page, `${card(id)} .state`);

async function rooms(page) {
  return page.$$eval("#devices section.room", (sections) => Object.fromEntries(sections.map((s) => [
    s.querySelector("h3").textContent, [...s.querySelectorAll("li.card .name")].map((n) => n.textContent)])));
}

try {
  const page = await openApp(context, out, args.url);
  out.unpaired = { pill: await text(page, "#status"), hub: await text(page, "#hub-name"),
    scan_button: await page.isVisible("#scan-button"), has_detector: await page.evaluate(() => "BarcodeDetector" in window) };
  await shot(page, "pairing");
  await axe(page, "pairing");

  if (args.flow === "phone") { // a wrong code first: the error says how to get a new one
    await page.fill("#pair-code", args.wrong_code);
    await page.click("#pair-button");
    await page.waitForFunction(() => document.querySelector("#pair-error").textContent.length > 0, null, { timeout: 10000 });
    out.wrong_code = await text(page, "#pair-error");
  }
  if (args.flow === "phone") { // typed
    await page.fill("#pair-code", args.code);
    await page.click("#pair-button");
  } else { // what the QR code of `hub pair-code --qr` holds, through the handler the camera's detector calls
    const link = new URL(`#pair=${args.code}`, args.url).href;
    await page.evaluate(async (scanned) => (await import(new URL("pairing.js", location.href).href)).usePairingText(scanned), link);
  }
  await page.waitForSelector("#main-view:not([hidden])", { timeout: 15000 });
  await page.waitForSelector("#status[data-state=online]", { timeout: 15000 });
  await page.waitForSelector(`${card(args.light)}`, { timeout: 15000 });
  out.paired = { pill: await text(page, "#status"), hub: await text(page, "#hub-name") };
  out.rooms = await rooms(page);
  out.states = await page.$$eval("#devices li.card", (cards) => Object.fromEntries(cards.map((c) => [c.dataset.device, c.querySelector(".state").textContent])));
  out.cards = await page.$$eval("#devices li.card", (cards) => Object.fromEntries(cards.map((c) => [c.dataset.device, c.innerText])));
  out.details = await page.$$eval("#devices details", (ds) => ds.map((d) => d.textContent));
  out.light_controls = await page.$$eval(`${card(args.light)} .controls label`, (ls) => ls.map((l) => ({ label: l.querySelector("span").textContent, type: l.querySelector("input, select").type, output: l.querySelector("output")?.textContent })));
  out.overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  out.layout = await page.evaluate(() => {
    const box = (sel) => document.querySelector(sel).getBoundingClientRect().toJSON();
    return { chat: box("#main-view > .chat"), devices: box("#main-view > .devices") };
  });
  await shot(page, "devices");

  if (args.flow === "phone") {
    // Live updates: the door opens in the real (simulated) home; its card follows the event stream.
    out.door_before = await cardState(page, args.door);
    await checkpoint("door");
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "Open", `${card(args.door)} .state`, { timeout: 10000 });
    out.door_after = await cardState(page, args.door);

    // Switch the light from its card: "Sending…", then the device's confirmation on the card.
    await page.evaluate((sel) => {
      window.seenBusy = false;
      new MutationObserver(() => { if (document.querySelector(sel)?.getAttribute("aria-busy") === "true") window.seenBusy = true; })
        .observe(document.querySelector("#devices"), { subtree: true, childList: true, attributes: true });
    }, card(args.light));
    await page.click(`${card(args.light)} .controls > button`);
    await page.waitForSelector(`${card(args.light)} .note.ok`, { timeout: 10000 });
    out.switched = { busy_seen: await page.evaluate(() => window.seenBusy), state: await cardState(page, args.light),
      note: await text(page, `${card(args.light)} .note`), button: await text(page, `${card(args.light)} .controls > button`) };
    await shot(page, "switched");

    // A device that never confirms: the error is on its card, in words.
    await page.click(`${card(args.broken)} .controls > button`);
    await page.waitForSelector(`${card(args.broken)} .note.error`, { timeout: 15000 });
    out.broken = { note: await text(page, `${card(args.broken)} .note`), log: await page.$$eval("#log li", (l) => l.map((x) => x.textContent)) };

    // Ask in text: the thinking state (Send disabled), then the answer.
    await page.evaluate(() => {
      window.thinking = [];
      new MutationObserver(() => {
        if (document.querySelector("#log li.thinking")) window.thinking.push({ send_disabled: document.querySelector("#ask-send").disabled });
      }).observe(document.querySelector("#log"), { childList: true });
    });
    out.empty_chat = await page.isVisible("#chat-empty");
    await page.fill("#ask-text", args.question);
    await page.click("#ask-send");
    await page.waitForFunction(() => document.querySelectorAll("#log li.hub:not(.thinking)").length > 0 && !document.querySelector("#log li.thinking"), null, { timeout: 20000 });
    out.asked = { thinking: await page.evaluate(() => window.thinking), send_disabled_after: await page.isDisabled("#ask-send"),
      log: await page.$$eval("#log li", (l) => l.map((x) => ({ kind: x.className, text: x.querySelector(".text").textContent }))),
      looks: await page.evaluate(() => Object.fromEntries(["you", "hub"].map((k) => {
        const s = getComputedStyle(document.querySelector(`#log li.${k}`));
        return [k, { background: s.backgroundColor, align: s.alignSelf }];
      }))) };
    await shot(page, "answer");
    await axe(page, "main");

    await page.reload();
    await page.waitForSelector("#status[data-state=online]", { timeout: 15000 });
    await page.waitForFunction(() => document.querySelectorAll("#log li.hub").length > 0, null, { timeout: 10000 });
    out.history = await page.$$eval("#log li", (l) => l.map((x) => ({ kind: x.className, text: x.querySelector(".text").textContent })));
    await shot(page, "history");

    // The hub goes away: a banner says so and the app reconnects by itself when it is back.
    await checkpoint("hub-down");
    await page.waitForSelector("#banner:not([hidden])", { timeout: 15000 });
    out.down = { pill: await text(page, "#status"), banner: await text(page, "#banner-text") };
    await shot(page, "unreachable");
    await checkpoint("hub-up");
    await page.waitForSelector("#status[data-state=online]", { timeout: 40000 });
    out.up = { pill: await text(page, "#status"), banner_hidden: await page.isHidden("#banner") };

    await page.emulateMedia({ colorScheme: "dark" });
    out.dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await shot(page, "dark");
    await axe(page, "dark");
  } else {
    // A colour from the light's colour picker, confirmed by the device.
    await page.$eval(`${card(args.light)} input[type=color]`, (input) => { input.value = "#ff0000"; input.dispatchEvent(new Event("change")); });
    await page.waitForSelector(`${card(args.light)} .note.ok`, { timeout: 10000 });
    out.coloured = await page.$eval(`${card(args.light)} input[type=color]`, (input) => input.value);
    // Installable, and offline: the shell from the service worker, the offline page for the rest.
    await page.evaluate(() => navigator.serviceWorker.ready);
    const cdp = await context.newCDPSession(page);
    out.installability = (await cdp.send("Page.getInstallabilityErrors")).installabilityErrors;
    out.manifest = await page.evaluate(async () => (await fetch(document.querySelector("link[rel=manifest]").href)).json());
    await page.reload(); // now under the service worker's control
    await page.waitForSelector("#status[data-state=online]", { timeout: 15000 });
    await context.setOffline(true);
    await page.reload();
    await page.waitForSelector("#banner:not([hidden])", { timeout: 15000 });
    out.offline_shell = { banner: await text(page, "#banner-text"), pill: await text(page, "#status") };
    await page.goto(new URL("never-cached", args.url).href);
    out.offline_page = await page.textContent("body");
    await shot(page, "offline");
    await context.setOffline(false);
  }
} catch (err) {
  out.error = String(err);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
