// The hub's LAN API: one fetch wrapper, the app's shared state, and a few DOM helpers.
export const $ = (id) => document.getElementById(id);
export const TOKEN_KEY = "companion.token";
export const state = { token: localStorage.getItem(TOKEN_KEY), events: [], pc: null, channel: null, ws: null,
  devices: new Map(), hubName: "", connection: "connecting", onUnauthorized: () => {} };
window.companion = state; // the end-to-end tests read this

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || (status ? `HTTP ${status}` : "the hub did not answer"));
    this.status = status;
    this.code = body?.error?.code || (status ? "HTTP_" + status : "UNREACHABLE");
    this.hint = body?.error?.hint;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, null); // the network failed: the hub is unreachable, not "Failed to fetch"
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const err = new ApiError(response.status, data);
    if (response.status === 401 && path !== "/v1/pairing") state.onUnauthorized(err.code);
    throw err;
  }
  return data;
}

export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function record(event) {
  state.events.push(event);
  if (state.events.length > 500) state.events.shift();
}
