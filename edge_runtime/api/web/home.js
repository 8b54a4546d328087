// The home's hubs (#21): this one and the others that share its home key, with their room, whether
// they are online, and a link to each one's own app (each hub pairs with the app on its own).
import { $, api, el } from "./api.js";

export async function loadHome() {
  const section = $("home-section");
  let home;
  try {
    home = await api("/v1/home");
  } catch {
    section.hidden = true; // a hub with no broker (no peers): nothing to show
    return;
  }
  section.hidden = home.hubs.length < 2; // a home of one: no list
  $("hubs").replaceChildren(...home.hubs.map(hubItem));
}

/** An `announcement` from another hub: shown in the chat's place for notices. */
export function announcementText(event) {
  return event.from_room ? `Announcement from the ${event.from_room}: ${event.text}` : `Announcement: ${event.text}`;
}

function hubItem(hub) {
  const state = el("span", { className: "state", textContent: hub.this ? "This hub" : hub.online ? "Online" : "Offline" });
  state.dataset.state = hub.online ? "online" : "offline";
  const name = el("span", { className: "name", textContent: hub.name || hub.hub });
  const item = el("li", { className: "card home-hub" },
    el("div", { className: "card-head" }, name, state),
    el("p", { className: "room muted", textContent: hub.room ? `Room: ${hub.room}` : "No room" }));
  if (!hub.this && hub.online && hub.api) {
    const link = el("a", { href: `${hub.api}/app/`, textContent: `Talk to ${hub.name || "this hub"}` });
    link.rel = "noopener";
    item.append(link);
  }
  item.dataset.hub = hub.hub;
  return item;
}
