// Companion reference app: pair, talk over WebRTC, chat, control devices. ES modules, no build step.
//   api.js (fetch, state)  pairing.js (code, QR)  devices.js (cards by room)  words.js (state and error words)
//   chat.js (turns, thinking, history)  voice.js (WebRTC)  cameras.js (cameras, snapshots on demand)
//   home.js (the home's other hubs)
//   app.js (start-up, event stream, connection state)
import { $, TOKEN_KEY, api, record, state } from "./api.js";
import { cameraEvent, loadCameras } from "./cameras.js";
import { ask, chatEvent, loadHistory } from "./chat.js";
import { announcementText, loadHome } from "./home.js";
import { loadDevices, showActions, updateDevice } from "./devices.js";
import { bindPairing, showPairing } from "./pairing.js";
import { bindVoice, endVoice } from "./voice.js";

const PILL = { connecting: "Connecting…", unpaired: "Not paired", online: "Connected", unreachable: "Unreachable" };
let retryTimer = null;
let retryDelay = 1000;
let stale = false; // something may have been missed while the stream was down: reload on reconnect

function setConnection(kind) {
  state.connection = kind;
  const pill = $("status");
  pill.textContent = PILL[kind];
  pill.dataset.state = kind;
  const banner = $("banner");
  banner.hidden = kind !== "unreachable";
  if (kind === "unreachable") {
    const who = state.hubName ? `the hub “${state.hubName}”` : "the hub";
    $("banner-text").textContent = `Can't reach ${who}. Reconnecting by itself…`;
  }
}

function setHubName(name) {
  state.hubName = name || "";
  $("hub-name").textContent = state.hubName;
  document.title = state.hubName ? `${state.hubName} · Companion` : "Companion";
}

function retry(fn) {
  clearTimeout(retryTimer);
  setConnection("unreachable");
  retryTimer = setTimeout(fn, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 15000);
}

function forget(reason) {
  localStorage.removeItem(TOKEN_KEY);
  state.token = null;
  endVoice();
  const ws = state.ws;
  state.ws = null;
  ws?.close();
  setConnection("unpaired");
  showPairing(reason === "TOKEN_REVOKED" ? "This app was unpaired. Pair it again." : reason ? "This app's pairing is no longer valid. Pair it again." : "");
}

function onEvent(event, via) {
  record({ ...event, via });
  if (event.type === "device") updateDevice(event);
  else if (event.type === "action") showActions([{ device: event.device, confirmed: event.outcome === "confirmed", error: event.error }]);
  else if (event.type === "state") $("voice-state").textContent = event.state;
  else if (event.type === "camera") cameraEvent(event);
  else if (event.type === "announcement") $("voice-state").textContent = announcementText(event);
  else chatEvent(event, via);
}

function connectEvents() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/v1/events?access_token=${encodeURIComponent(state.token)}`);
  state.ws = ws;
  ws.onopen = () => {
    retryDelay = 1000;
    setConnection("online");
    if (stale) { stale = false; loadDevices(); loadHistory(); loadCameras(); loadHome(); }
  };
  ws.onmessage = (message) => onEvent(JSON.parse(message.data), "lan");
  ws.onclose = (closed) => {
    if (state.ws !== ws) return;
    if (closed.code === 4401) return forget(closed.reason);
    stale = true;
    if (state.token) retry(connectEvents);
  };
}

async function start() {
  $("pair-view").hidden = true;
  $("main-view").hidden = false;
  setConnection("connecting");
  await Promise.all([loadDevices(), loadHistory(), loadCameras(), loadHome()]);
  connectEvents();
}

async function boot() {
  setConnection("connecting");
  try {
    const info = await api("/v1/pairing"); // who the hub is; needs no token
    setHubName(info.name);
  } catch (err) {
    if (err.code !== "UNREACHABLE") throw err;
    if (!state.token) showPairing();
    else { $("main-view").hidden = false; $("pair-view").hidden = true; }
    return retry(boot);
  }
  retryDelay = 1000;
  if (!state.token) {
    setConnection("unpaired");
    return showPairing();
  }
  await start();
}

function bind() {
  state.onUnauthorized = forget;
  bindPairing(start);
  bindVoice(onEvent);
  $("ask-form").addEventListener("submit", ask);
  $("banner-retry").addEventListener("click", () => {
    clearTimeout(retryTimer);
    retryDelay = 1000;
    (state.token && state.hubName ? connectEvents : boot)();
  });
  $("unpair").addEventListener("click", async () => {
    const me = (await api("/v1/apps").catch(() => [])).find((a) => a.this);
    if (me) await api(`/v1/apps/${me.id}`, { method: "DELETE" }).catch(() => {});
    forget();
  });
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
}

bind();
boot().catch(() => showPairing());
