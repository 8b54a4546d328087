// Pairing: type the hub's 6-digit code, or scan its QR code (BarcodeDetector, where the browser has one).
import { $, TOKEN_KEY, api, state } from "./api.js";
import { errorWords } from "./words.js";

const NEW_CODE = "Get a new code on the hub: companion hub pair-code --new";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
let scanning = null;

export function showPairing(message = "") {
  $("main-view").hidden = true;
  $("pair-view").hidden = false;
  $("pair-error").textContent = message;
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("pair");
  if (fromLink) $("pair-code").value = fromLink;
}

function pairingWords(err) {
  if (err.code === "PAIRING_WRONG_CODE") return `That is not the hub's code (${err.hint || "check it and try again"}). ${NEW_CODE}`;
  if (["PAIRING_LOCKED", "PAIRING_NO_CODE"].includes(err.code)) return `${errorWords({ message: err.message })}. ${NEW_CODE}`;
  if (err.code === "VALIDATION_ERROR") return "The code is the 6 digits the hub shows.";
  return errorWords(err);
}

export function bindPairing(onPaired) {
  $("pair-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("pair-error").textContent = "";
    $("pair-button").disabled = true;
    try {
      const name = $("pair-name").value.trim() || navigator.userAgent.split(" ")[0];
      const paired = await api("/v1/pairing", { method: "POST", body: { code: $("pair-code").value.replace(/\s/g, ""), name } });
      state.token = paired.token;
      localStorage.setItem(TOKEN_KEY, paired.token);
      history.replaceState(null, "", location.pathname);
      await onPaired();
    } catch (err) {
      $("pair-error").textContent = pairingWords(err);
    } finally {
      $("pair-button").disabled = false;
    }
  });
  const canScan = "BarcodeDetector" in window && !!navigator.mediaDevices?.getUserMedia;
  $("scan-button").hidden = !canScan;
  $("scan-button").addEventListener("click", () => (scanning ? stopScan() : scan()));
}

async function scan() {
  try {
    if (!(await BarcodeDetector.getSupportedFormats()).includes("qr_code")) throw new Error("this browser cannot read QR codes: type the code");
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    const video = $("scan-video");
    scanning = stream;
    video.srcObject = stream;
    $("scan-box").hidden = false;
    $("scan-button").textContent = "Stop scanning";
    await video.play();
    while (scanning === stream) {
      const found = await detector.detect(video).catch(() => []);
      if (found.length) { stopScan(); usePairingText(found[0].rawValue); return; }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (err) {
    stopScan();
    $("pair-error").textContent = err.name === "NotAllowedError" ? "The camera is not allowed: type the code instead." : `Scanning failed: ${err.message}`;
  }
}

function stopScan() {
  scanning?.getTracks().forEach((t) => t.stop());
  scanning = null;
  $("scan-box").hidden = true;
  $("scan-button").textContent = "Scan QR code";
}

/** A scanned code: "123456", or the hub's link ".../app/#pair=123456". */
export function usePairingText(text) {
  const bare = text.trim().replace(/\s/g, "");
  let code = /^\d{6}$/.test(bare) ? bare : null;
  if (!code) {
    let url;
    try { url = new URL(text.trim()); } catch { url = null; }
    code = url && new URLSearchParams(url.hash.slice(1)).get("pair");
    if (!code) { $("pair-error").textContent = "That QR code is not a Companion pairing code."; return; }
    if (url.origin !== location.origin && !LOOPBACK.has(url.hostname) && /^https?:$/.test(url.protocol)) {
      location.href = url.href; // another hub's own app
      return;
    }
    if (LOOPBACK.has(url.hostname) && !LOOPBACK.has(location.hostname)) {
      $("scan-note").textContent = `That QR code points at ${url.hostname}, an address only the hub itself can reach; `
        + "pairing here instead. Set COMPANION_API_HOST on the hub so its QR code carries its network address.";
    }
  }
  $("pair-code").value = code;
  $("pair-form").requestSubmit();
}
