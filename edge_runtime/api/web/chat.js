// The conversation: your turns and the hub's, a thinking indicator, history loaded on open.
import { $, api, el, state } from "./api.js";
import { showActions } from "./devices.js";
import { errorWords } from "./words.js";

const WHO = { you: "You", hub: "Hub", event: "" };

export function say(kind, text, { at, where } = {}) {
  $("chat-empty").hidden = true;
  const li = el("li", { className: kind });
  if (WHO[kind]) li.append(el("span", { className: "who", textContent: where ? `${WHO[kind]} · ${where}` : WHO[kind] }));
  li.append(el("span", { className: "text", textContent: text }));
  if (at) li.title = new Date(at * 1000).toLocaleString();
  $("log").append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

export async function loadHistory() {
  let turns;
  try {
    turns = await api("/v1/history?limit=30");
  } catch (err) {
    say("event", `History could not be loaded: ${errorWords(err)}`);
    return;
  }
  $("log").replaceChildren();
  for (const turn of turns.reverse()) {
    const where = turn.conversation === "hub" ? "at the hub" : undefined;
    say("you", turn.text, { at: turn.at, where });
    say("hub", turn.reply, { at: turn.at });
  }
  $("chat-empty").hidden = turns.length > 0;
}

let thinking = null;

export function startThinking() {
  stopThinking();
  thinking = say("hub thinking", "Thinking…");
  thinking.setAttribute("aria-label", "The hub is thinking");
  $("ask-send").disabled = true;
  $("ask-form").setAttribute("aria-busy", "true");
}

export function stopThinking() {
  thinking?.remove();
  thinking = null;
  $("ask-send").disabled = false;
  $("ask-form").removeAttribute("aria-busy");
}

export async function ask(event) {
  event.preventDefault();
  const text = $("ask-text").value.trim();
  if (!text || thinking) return;
  $("ask-text").value = "";
  say("you", text);
  startThinking();
  if (state.channel?.readyState === "open") { // the reply comes back over the data channel
    state.channel.send(JSON.stringify({ type: "chat", text }));
    setTimeout(() => { if (thinking) stopThinking(); }, 30000);
    return;
  }
  try {
    const answer = await api("/v1/ask", { method: "POST", body: { text, conversation: "app" } });
    stopThinking();
    say("hub", answer.reply);
    showActions(answer.actions);
  } catch (err) {
    stopThinking();
    say("event", errorWords(err));
  }
  $("ask-text").focus();
}

/** Events from the LAN stream and the data channel that belong in the conversation. */
export function chatEvent(event, via) {
  // Our own turns come over the data channel (voice) or the /v1/ask answer (text); the LAN
  // stream adds what was said to the hub's own microphone.
  const ours = via === "webrtc" || event.source === "hub";
  const where = event.source === "hub" && via !== "webrtc" ? "at the hub" : undefined;
  if (event.type === "transcript" && ours && event.final !== false) say("you", event.text, { where });
  if (event.type === "reply" && ours) {
    if (via === "webrtc") stopThinking();
    say("hub", event.text);
  }
  if (event.type === "timer") say("event", "Timer: time is up");
  if (event.type === "error") say("event", errorWords(event));
}
