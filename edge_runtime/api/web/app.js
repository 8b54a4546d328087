// Companion reference app: pair, talk over WebRTC, chat, control devices. No build step.
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "companion.token";
const state = { token: localStorage.getItem(TOKEN_KEY), events: [], pc: null, channel: null, ws: null, devices: new Map() };
window.companion = state; // the end-to-end tests read this

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code || "HTTP_" + status;
    this.hint = body?.error?.hint;
  }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const err = new ApiError(response.status, data);
    if (response.status === 401 && path !== "/v1/pairing") forget(err.code);
    throw err;
  }
  return data;
}

function record(event) {
  state.events.push(event);
  if (state.events.length > 500) state.events.shift();
}

function say(kind, text) {
  const li = document.createElement("li");
  li.className = kind;
  li.textContent = text;
  $("log").append(li);
  li.scrollIntoView({ block: "end" });
}

function setStatus(text) { $("status").textContent = text; }

function forget(reason) {
  localStorage.removeItem(TOKEN_KEY);
  state.token = null;
  endVoice();
  state.ws?.close();
  showPairing(reason === "TOKEN_REVOKED" ? "This app was unpaired. Pair it again." : "");
}

function showPairing(message = "") {
  $("main-view").hidden = true;
  $("pair-view").hidden = false;
  $("pair-error").textContent = message;
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("pair");
  if (fromLink) $("pair-code").value = fromLink;
}

async function pair(event) {
  event.preventDefault();
  $("pair-error").textContent = "";
  try {
    const name = $("pair-name").value.trim() || navigator.userAgent.split(" ")[0];
    const paired = await api("/v1/pairing", { method: "POST", body: { code: $("pair-code").value.trim(), name } });
    state.token = paired.token;
    localStorage.setItem(TOKEN_KEY, paired.token);
    history.replaceState(null, "", location.pathname);
    await start();
  } catch (err) {
    $("pair-error").textContent = err.hint ? `${err.message} (${err.hint})` : err.message;
  }
}

// --- events: transcripts, replies, device changes, timers
function connectEvents(delay = 500) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/v1/events?access_token=${encodeURIComponent(state.token)}`);
  state.ws = ws;
  ws.onopen = () => setStatus("online");
  ws.onmessage = (message) => onEvent(JSON.parse(message.data), "lan");
  ws.onclose = (closed) => {
    setStatus("offline");
    if (closed.code === 4401) return forget(closed.reason);
    if (state.token && state.ws === ws) setTimeout(() => connectEvents(Math.min(delay * 2, 10000)), delay);
  };
}

function onEvent(event, via) {
  record({ ...event, via });
  switch (event.type) {
    // Our own turns come over the data channel (voice) or the /v1/ask answer (text); the LAN
    // stream adds what was said to the hub's own microphone.
    case "transcript": if (via === "webrtc" || event.source === "hub") say("you", event.text); break;
    case "reply": if (via === "webrtc" || event.source === "hub") say("hub", event.text); break;
    case "device": updateDevice(event); break;
    case "timer": say("event", "⏰ timer"); break;
    case "state": $("voice-state").textContent = event.state; break;
    case "error": say("event", `error ${event.code}: ${event.message ?? ""}`); break;
  }
}

// --- devices
async function loadDevices() {
  const devices = await api("/v1/devices").catch((err) => { say("event", err.message); return []; });
  state.devices = new Map(devices.map((d) => [d.id, d]));
  renderDevices();
}

function updateDevice(event) {
  const device = state.devices.get(event.device);
  if (!device || (event.event !== "state" && event.event !== "availability")) return void loadDevices();
  if (event.values) Object.assign(device.state, event.values);
  if (event.available !== undefined) device.available = event.available;
  renderDevices();
}

function renderDevices() {
  const list = $("devices");
  list.replaceChildren();
  for (const device of state.devices.values()) {
    const li = document.createElement("li");
    li.dataset.device = device.id;
    li.className = device.available === false ? "offline" : "";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = `${device.name}${device.area ? " · " + device.area : ""}`;
    li.append(name);
    const attrs = device.attributes || {};
    if (attrs.on?.writable) {
      const toggle = document.createElement("button");
      toggle.textContent = device.state.on ? "Turn off" : "Turn on";
      toggle.onclick = () => control(device, { on: !device.state.on });
      li.append(toggle);
    }
    if (attrs.brightness?.writable) {
      const slider = Object.assign(document.createElement("input"), { type: "range", min: 0, max: 100, value: device.state.brightness ?? 0 });
      slider.onchange = () => control(device, { brightness: Number(slider.value) });
      li.append(slider);
    }
    const summary = document.createElement("small");
    summary.className = "muted";
    summary.textContent = Object.entries(device.state).map(([k, v]) => `${k}: ${v}`).join(", ");
    li.append(summary);
    list.append(li);
  }
}

async function control(device, values) {
  try {
    const answer = await api(`/v1/devices/${encodeURIComponent(device.id)}`, { method: "POST", body: values });
    state.devices.set(device.id, answer.device);
    renderDevices();
  } catch (err) {
    say("event", `${device.name}: ${err.message}`);
  }
}

// --- text
async function ask(event) {
  event.preventDefault();
  const text = $("ask-text").value.trim();
  if (!text) return;
  $("ask-text").value = "";
  say("you", text);
  if (state.channel?.readyState === "open") return state.channel.send(JSON.stringify({ type: "chat", text }));
  try {
    const answer = await api("/v1/ask", { method: "POST", body: { text, conversation: "app" } });
    say("hub", answer.reply);
  } catch (err) {
    say("event", err.message);
  }
}

// --- voice over WebRTC
async function startVoice() {
  $("voice-start").disabled = true;
  $("voice-state").textContent = "connecting…";
  try {
    const config = await api("/v1/webrtc/config");
    const pc = new RTCPeerConnection({ iceServers: config.iceServers });
    state.pc = pc;
    const mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    mic.getTracks().forEach((track) => pc.addTrack(track, mic));
    const channel = pc.createDataChannel("events");
    state.channel = channel;
    channel.onmessage = (message) => onEvent(JSON.parse(message.data), "webrtc");
    pc.ontrack = (event) => { $("reply-audio").srcObject = event.streams[0] || new MediaStream([event.track]); };
    pc.onconnectionstatechange = () => {
      $("voice-state").textContent = pc.connectionState === "connected" ? "say “hey Jarvis”, or hold to talk" : pc.connectionState;
      if (["failed", "closed"].includes(pc.connectionState)) endVoice();
    };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answer = await api("/v1/webrtc/offer", { method: "POST", body: { sdp: pc.localDescription.sdp, type: "offer" } });
    state.session = answer.session;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    for (const id of ["voice-ptt", "voice-stop-reply", "voice-end"]) $(id).disabled = false;
  } catch (err) {
    say("event", `voice: ${err.message}`);
    endVoice();
  }
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000); // good enough: the LAN candidates come first
  });
}

function send(message) {
  if (state.channel?.readyState === "open") state.channel.send(JSON.stringify(message));
}

function endVoice() {
  const session = state.session;
  state.session = null;
  state.channel?.close();
  state.pc?.getSenders().forEach((sender) => sender.track?.stop());
  state.pc?.close();
  state.pc = state.channel = null;
  if (session && state.token) api(`/v1/webrtc/${session}`, { method: "DELETE" }).catch(() => {});
  $("voice-start").disabled = false;
  for (const id of ["voice-ptt", "voice-stop-reply", "voice-end"]) $(id).disabled = true;
  $("voice-state").textContent = "voice off";
}

async function audioStats() {
  if (!state.pc) return null;
  const report = await state.pc.getStats();
  for (const stat of report.values()) {
    if (stat.type === "inbound-rtp" && stat.kind === "audio") {
      return { packets: stat.packetsReceived, energy: stat.totalAudioEnergy, samples: stat.totalSamplesReceived };
    }
  }
  return null;
}
state.audioStats = audioStats;
state.send = send;

async function start() {
  $("pair-view").hidden = true;
  $("main-view").hidden = false;
  const info = await api("/health");
  $("hub-name").textContent = info.name;
  connectEvents();
  await loadDevices();
}

function bind() {
  $("pair-form").addEventListener("submit", pair);
  $("ask-form").addEventListener("submit", ask);
  $("voice-start").addEventListener("click", startVoice);
  $("voice-end").addEventListener("click", endVoice);
  $("voice-stop-reply").addEventListener("click", () => send({ type: "interrupt" }));
  const ptt = $("voice-ptt");
  const press = (down) => (event) => { event.preventDefault(); ptt.classList.toggle("held", down); send({ type: "ptt", pressed: down }); };
  ptt.addEventListener("pointerdown", press(true));
  ptt.addEventListener("pointerup", press(false));
  ptt.addEventListener("pointerleave", (event) => { if (ptt.classList.contains("held")) press(false)(event); });
  $("unpair").addEventListener("click", async () => {
    const me = (await api("/v1/apps").catch(() => [])).find((a) => a.this);
    if (me) await api(`/v1/apps/${me.id}`, { method: "DELETE" }).catch(() => {});
    forget();
  });
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
}

bind();
if (state.token) start().catch(() => showPairing()); else showPairing();
