// Cameras: each with its room, whether it is online, and its last event (kept live from the event
// stream); a snapshot only when asked for, fetched with the app's token and shown from memory.
import { $, ApiError, api, el, state } from "./api.js";
import { errorWords } from "./words.js";

const cameras = new Map(); // slug -> the camera as GET /v1/cameras gives it
const shots = new Map(); // slug -> { url, at } | { error }
const AVAILABILITY = { online: "Online", unavailable: "Unavailable", starting: "Starting…" };

const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
const clock = (at) => new Date(at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

export async function loadCameras() {
  const section = $("cameras-section");
  try {
    const list = await api("/v1/cameras");
    cameras.clear();
    for (const camera of list) cameras.set(slug(camera.name), camera);
    section.hidden = list.length === 0;
    $("cameras-note").textContent = "";
  } catch (err) {
    cameras.clear();
    section.hidden = err.code === "VISION_OFF" || err.status === 404; // a hub without cameras: no section
    $("cameras-note").textContent = errorWords(err);
  }
  renderCameras();
}

/** A `camera` event from the hub's stream: the camera's availability and last event, redrawn. */
export function cameraEvent(event) {
  const camera = cameras.get(slug(event.camera));
  if (!camera) return loadCameras(); // one added since the list was loaded
  if (event.kind === "available") camera.state = "online";
  if (event.kind === "unavailable") camera.state = "unavailable";
  if (event.kind === "motion" || event.kind === "motion_cleared") camera.motion = event.kind === "motion";
  camera.last_event = event;
  redraw(slug(event.camera));
}

function redraw(id) {
  const old = document.querySelector(`#cameras li.camera[data-camera="${CSS.escape(id)}"]`);
  if (old) old.replaceWith(card(id, cameras.get(id)));
  else renderCameras();
}

function renderCameras() {
  $("cameras").replaceChildren(...[...cameras.keys()].map((id) => card(id, cameras.get(id))));
}

function card(id, camera) {
  const availability = el("span", { className: "state", textContent: AVAILABILITY[camera.state] || camera.state });
  availability.dataset.state = camera.state;
  const head = el("div", { className: "card-head" }, el("span", { className: "name", textContent: camera.name }), availability);
  const last = camera.last_event;
  const lastLine = el("p", { className: "last-event" },
    last ? `${last.text} ` : "Nothing seen yet.",
    last ? el("time", { textContent: clock(last.at), dateTime: new Date(last.at * 1000).toISOString() }) : null);
  const button = el("button", { type: "button", className: "secondary", textContent: "Show snapshot" });
  button.setAttribute("aria-label", `Show snapshot: ${camera.name} camera`);
  button.addEventListener("click", () => snapshot(id, camera));
  const shot = shots.get(id);
  const picture = shot?.url ? el("img", { className: "snapshot", src: shot.url, alt: `Snapshot from the ${camera.name} camera at ${clock(shot.at)}` }) : null;
  const note = el("p", { className: "note error", textContent: shot?.error || "" });
  note.setAttribute("role", "alert");
  const item = el("li", { className: "card camera" }, // no dimming when offline: its button must stay legible
    head, el("p", { className: "room muted", textContent: camera.room ? `Room: ${camera.room}` : "No room" }),
    lastLine, button, note, picture);
  item.dataset.camera = id;
  return item;
}

async function snapshot(id, camera) {
  const button = document.querySelector(`#cameras li.camera[data-camera="${CSS.escape(id)}"] button`);
  if (button) button.disabled = true;
  try {
    const response = await fetch(`/v1/cameras/${encodeURIComponent(camera.name)}/snapshot`, {
      headers: { Authorization: `Bearer ${state.token}` }, cache: "no-store" });
    if (!response.ok) {
      const err = new ApiError(response.status, await response.json().catch(() => null));
      if (response.status === 401) state.onUnauthorized(err.code);
      throw err;
    }
    const blob = await response.blob();
    forget(id);
    shots.set(id, { url: URL.createObjectURL(blob), at: Date.now() / 1000 });
  } catch (err) {
    forget(id);
    shots.set(id, { error: errorWords(err instanceof ApiError ? err : new ApiError(0, null)) });
  }
  redraw(id);
}

function forget(id) {
  if (shots.get(id)?.url) URL.revokeObjectURL(shots.get(id).url);
  shots.delete(id);
}
