// Voice over WebRTC: the microphone to the hub, its spoken reply back, events on a data channel.
import { $, api, state } from "./api.js";
import { say } from "./chat.js";
import { errorWords } from "./words.js";

const LIVE = ["voice-ptt", "voice-stop-reply", "voice-end"];
let onEvent = () => {};

function live(on) {
  $("voice-start").hidden = on;
  $("voice-start").disabled = on;
  for (const id of LIVE) { $(id).hidden = !on; $(id).disabled = !on; }
}

export async function startVoice() {
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
    live(true);
  } catch (err) {
    say("event", `Voice: ${err.name === "NotAllowedError" ? "the microphone is not allowed" : errorWords(err)}`);
    endVoice();
  }
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") resolve(); });
    setTimeout(resolve, 3000); // good enough: the LAN candidates come first
  });
}

export function send(message) {
  if (state.channel?.readyState === "open") state.channel.send(JSON.stringify(message));
}

export function endVoice() {
  const session = state.session;
  state.session = null;
  state.channel?.close();
  state.pc?.getSenders().forEach((sender) => sender.track?.stop());
  state.pc?.close();
  state.pc = state.channel = null;
  if (session && state.token) api(`/v1/webrtc/${session}`, { method: "DELETE" }).catch(() => {});
  live(false);
  $("voice-state").textContent = "";
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

export function bindVoice(handler) {
  onEvent = handler;
  state.audioStats = audioStats;
  state.send = send;
  $("voice-start").addEventListener("click", startVoice);
  $("voice-end").addEventListener("click", endVoice);
  $("voice-stop-reply").addEventListener("click", () => send({ type: "interrupt" }));
  const ptt = $("voice-ptt");
  const press = (down) => (event) => { event.preventDefault(); ptt.classList.toggle("held", down); send({ type: "ptt", pressed: down }); };
  ptt.addEventListener("pointerdown", press(true));
  ptt.addEventListener("pointerup", press(false));
  ptt.addEventListener("pointerleave", (event) => { if (ptt.classList.contains("held")) press(false)(event); });
}
