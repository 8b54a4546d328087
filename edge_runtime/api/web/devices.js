// Devices: cards grouped by room, controls by kind, the device's confirmation (or error) on its card.
import { $, api, el, state } from "./api.js";
import { errorWords, known, stateWord, withUnit, word } from "./words.js";

const HIDDEN = new Set(["diagnostic", "config"]); // readable, but folded under the device's "Details"
const notes = new Map(); // device id -> { kind: "busy" | "ok" | "error", text }
const opened = new Set(); // device ids whose "Details" are open, kept across renders
let reloading = null;

export async function loadDevices() {
  try {
    const devices = await api("/v1/devices");
    state.devices = new Map(devices.map((d) => [d.id, d]));
    $("devices-note").textContent = devices.length ? "" : "No devices yet: the hub lists what announces itself over MQTT.";
  } catch (err) {
    $("devices-note").textContent = errorWords(err);
  }
  renderDevices();
}

export function updateDevice(event) {
  const device = state.devices.get(event.device);
  if (!device || (event.event !== "state" && event.event !== "availability")) {
    reloading ??= setTimeout(() => { reloading = null; loadDevices(); }, 150); // added, renamed, moved: list again
    return;
  }
  if (event.values) device.state = { ...device.state, ...event.values };
  if (event.available !== undefined) device.available = event.available;
  redraw(device.id);
}

/** What a spoken or typed request did to devices, shown on their cards. */
export function showActions(actions = []) {
  for (const action of actions) {
    if (!state.devices.has(action.device)) continue;
    notes.set(action.device, action.confirmed ? { kind: "ok", text: "Done: the device confirmed it" }
      : { kind: "error", text: errorWords({ code: action.error, message: `It did not work (${action.error || "no answer"})` }) });
    redraw(action.device);
  }
}

function redraw(id) {
  const old = document.querySelector(`#devices li.card[data-device="${CSS.escape(id)}"]`);
  if (!old) return renderDevices();
  old.replaceWith(card(state.devices.get(id), extrasOf(id)));
}

function extrasOf(id) {
  const device = state.devices.get(id);
  if (!device?.group) return [];
  return [...state.devices.values()].filter((d) => d.id !== id && d.group === device.group && HIDDEN.has(d.entity_category));
}

export function renderDevices() {
  const all = [...state.devices.values()];
  const shown = all.filter((d) => !HIDDEN.has(d.entity_category));
  const groups = new Set(shown.map((d) => d.group).filter(Boolean));
  const loose = all.filter((d) => HIDDEN.has(d.entity_category) && !groups.has(d.group));
  const rooms = new Map();
  for (const device of shown) {
    const room = device.area || "";
    if (!rooms.has(room)) rooms.set(room, []);
    rooms.get(room).push(device);
  }
  const names = [...rooms.keys()].sort((a, b) => (a === "") - (b === "") || a.localeCompare(b));
  const root = $("devices");
  root.replaceChildren(...names.map((room, i) => {
    const heading = el("h3", { id: `room-${i}`, textContent: room || "No room" });
    const list = el("ul", { className: "cards" }, ...rooms.get(room).map((d) => card(d, extrasOf(d.id))));
    const section = el("section", { className: "room" }, heading, list);
    section.setAttribute("aria-labelledby", heading.id);
    return section;
  }));
  if (loose.length) root.append(el("details", { className: "diagnostics" },
    el("summary", { textContent: `Diagnostics (${loose.length})` }), facts(loose)));
}

function facts(devices) {
  return el("dl", {}, ...devices.flatMap((d) => [el("dt", { textContent: d.name }), el("dd", { textContent: stateWord(d) || "—" })]));
}

function card(device, extras) {
  const note = notes.get(device.id);
  const unavailable = device.available === false;
  const status = stateWord(device);
  const li = el("li", { className: "card" + (unavailable ? " offline" : "") });
  li.dataset.device = device.id;
  li.dataset.kind = device.kind;
  if (note?.kind === "busy") li.setAttribute("aria-busy", "true");
  const stateEl = el("span", { className: "state", textContent: status });
  stateEl.dataset.state = status === "Unknown" ? "unknown" : status === "Unavailable" ? "unavailable" : "known";
  li.append(el("div", { className: "card-head" }, el("span", { className: "name", textContent: device.name }), stateEl));
  const controls = unavailable ? [] : controlsFor(device);
  if (controls.length) {
    const box = el("div", { className: "controls" }, ...controls);
    if (note?.kind === "busy") box.querySelectorAll("button, input, select").forEach((c) => { c.disabled = true; });
    li.append(box);
  }
  const noteEl = el("p", { className: "note " + (note?.kind || ""), textContent: note?.text || "" });
  noteEl.setAttribute("role", "status");
  li.append(noteEl);
  const about = [device.manufacturer, device.model].filter(Boolean).join(" · ");
  if (extras.length || about || device.problem) {
    const details = el("details", { open: opened.has(device.id) }, el("summary", { textContent: "Details" }),
      extras.length ? facts(extras.map((e) => ({ ...e, name: shortName(e.name, device) }))) : null,
      about ? el("p", { className: "muted", textContent: about }) : null,
      device.problem ? el("p", { className: "error", textContent: "Its last message could not be read." }) : null);
    details.addEventListener("toggle", () => (details.open ? opened.add(device.id) : opened.delete(device.id)));
    li.append(details);
  }
  return li;
}

function shortName(name, device) {
  const base = device.group_name || device.name;
  return name.toLowerCase().startsWith(base.toLowerCase() + " ") ? name.slice(base.length + 1) : name;
}

function button(text, values, device, label) {
  const b = el("button", { type: "button", textContent: text });
  if (label) b.setAttribute("aria-label", `${label} ${device.name}`);
  b.onclick = () => control(device, values);
  return b;
}

function range(label, device, name, { min = 0, max = 100, step = 1, unit = "%" } = {}) {
  const value = device.state[name];
  const input = el("input", { type: "range", min, max, step, value: known(value) ? value : (min + max) / 2 });
  const output = el("output", { textContent: known(value) ? withUnit(value, unit) : "—" });
  if (!known(value)) input.dataset.unknown = "true";
  input.oninput = () => { output.textContent = withUnit(Number(input.value), unit); };
  input.onchange = () => control(device, { [name]: Number(input.value) });
  return el("label", { className: "slider" }, el("span", { textContent: label }), input, output);
}

function controlsFor(device) {
  const a = device.attributes || {}, s = device.state || {}, w = (n) => a[n]?.writable;
  const out = [];
  const k = device.kind;
  if (w("on") && ["light", "switch", "fan"].includes(k)) {
    if (!known(s.on)) out.push(el("div", { className: "buttons" }, button("On", { on: true }, device, "Turn on"), button("Off", { on: false }, device, "Turn off")));
    else {
      const toggle = button(s.on ? "Turn off" : "Turn on", { on: !s.on }, device);
      toggle.setAttribute("aria-pressed", String(Boolean(s.on)));
      out.push(toggle);
    }
  }
  if (known(s.on) || !w("on")) {
    if (w("brightness")) out.push(range("Brightness", device, "brightness", a.brightness));
    if (w("color_temp")) out.push(range("Colour temperature", device, "color_temp", { min: a.color_temp.min ?? 2000, max: a.color_temp.max ?? 6500, step: 50, unit: "K" }));
    if (w("rgb")) {
      const rgb = Array.isArray(s.rgb) ? s.rgb : null;
      const picker = el("input", { type: "color", value: rgb ? "#" + rgb.map((c) => Number(c).toString(16).padStart(2, "0")).join("") : "#ffffff" });
      picker.onchange = () => control(device, { rgb: [1, 3, 5].map((i) => parseInt(picker.value.slice(i, i + 2), 16)) });
      out.push(el("label", { className: "slider" }, el("span", { textContent: "Colour" }), picker, el("output", { textContent: rgb ? "" : "—" })));
    }
    if (w("percentage")) out.push(range("Speed", device, "percentage", a.percentage));
  }
  if (k === "lock" && w("locked")) out.push(known(s.locked) ? button(s.locked ? "Unlock" : "Lock", { locked: !s.locked }, device)
    : el("div", { className: "buttons" }, button("Lock", { locked: true }, device, "Lock"), button("Unlock", { locked: false }, device, "Unlock")));
  if ((k === "cover" || k === "valve") && w("state")) out.push(el("div", { className: "buttons" },
    ...["open", "stop", "close"].map((c) => button(word(c), { state: c }, device, word(c)))));
  if (k === "cover" && w("position")) out.push(range("Position", device, "position", a.position));
  if (k === "vacuum" && w("state")) out.push(el("div", { className: "buttons" },
    button("Start", { state: "start" }, device, "Start"), button("Pause", { state: "pause" }, device, "Pause"),
    button("Dock", { state: "return_to_base" }, device, "Send to dock")));
  if ((k === "scene" || k === "button") && w("press")) out.push(button(k === "scene" ? "Activate" : "Press", { press: true }, device, k === "scene" ? "Activate" : "Press"));
  for (const name of ["mode", "option"]) {
    if (!w(name) || !a[name].options?.length) continue;
    const select = el("select", {}, ...a[name].options.map((o) => el("option", { value: o, textContent: word(o), selected: o === s[name] })));
    if (!known(s[name])) select.prepend(el("option", { value: "", textContent: "Unknown", selected: true, disabled: true }));
    select.onchange = () => control(device, { [name]: select.value });
    out.push(el("label", { className: "slider" }, el("span", { textContent: name === "mode" ? "Mode" : "Option" }), select));
  }
  if (w("target_temperature")) out.push(range("Target", device, "target_temperature", { ...a.target_temperature, step: 0.5, unit: a.target_temperature.unit || "°C" }));
  return out;
}

export async function control(device, values) {
  notes.set(device.id, { kind: "busy", text: "Sending…" });
  redraw(device.id);
  try {
    const answer = await api(`/v1/devices/${encodeURIComponent(device.id)}`, { method: "POST", body: values });
    state.devices.set(device.id, answer.device);
    notes.set(device.id, { kind: "ok", text: "Done: the device confirmed it" });
  } catch (err) {
    notes.set(device.id, { kind: "error", text: errorWords(err) });
  }
  redraw(device.id);
}
