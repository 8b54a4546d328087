// Words a person reads: a device's state by its kind and class, and errors without codes or dicts.
const BINARY = { // Home Assistant's binary_sensor device classes: [word when on, word when off]
  door: ["Open", "Closed"], window: ["Open", "Closed"], garage_door: ["Open", "Closed"], opening: ["Open", "Closed"],
  motion: ["Motion", "No motion"], occupancy: ["Occupied", "Clear"], presence: ["Home", "Away"],
  moisture: ["Wet", "Dry"], smoke: ["Smoke!", "Clear"], gas: ["Gas!", "Clear"], carbon_monoxide: ["CO!", "Clear"],
  problem: ["Problem", "OK"], safety: ["Unsafe", "Safe"], tamper: ["Tampered", "OK"], vibration: ["Vibrating", "Still"],
  battery: ["Low", "Normal"], battery_charging: ["Charging", "Not charging"], cold: ["Cold", "Normal"],
  heat: ["Hot", "Normal"], light: ["Light", "Dark"], lock: ["Unlocked", "Locked"], plug: ["Plugged in", "Unplugged"],
  power: ["Power", "No power"], connectivity: ["Connected", "Disconnected"], running: ["Running", "Stopped"],
  sound: ["Sound", "Quiet"], update: ["Update available", "Up to date"],
};
const WORDS = { open: "Open", closed: "Closed", opening: "Opening…", closing: "Closing…", stopped: "Stopped",
  cleaning: "Cleaning", docked: "Docked", idle: "Idle", paused: "Paused", returning: "Returning to dock",
  error: "Error", off: "Off", heat: "Heat", cool: "Cool", auto: "Auto", dry: "Dry", fan_only: "Fan only",
  heat_cool: "Heat/cool" };

export const known = (v) => v !== undefined && v !== null && v !== "";

export function withUnit(value, unit) {
  if (!known(value)) return "Unknown";
  const number = typeof value === "number" ? Number(value.toFixed(Math.abs(value) < 10 ? 2 : 1)) : value;
  return unit ? `${number} ${unit}` : String(number);
}

export function word(value) {
  return WORDS[value] || (typeof value === "string" ? value.charAt(0).toUpperCase() + value.slice(1).replaceAll("_", " ") : String(value));
}

/** The one line that says how a device is: "On · 40 %", "Closed", "Locked", "21.5 °C", "Unknown". */
export function stateWord(device) {
  const s = device.state || {}, attrs = device.attributes || {};
  if (device.available === false) return "Unavailable";
  switch (device.kind) {
    case "binary_sensor": {
      if (!known(s.on)) return "Unknown";
      const pair = BINARY[device.device_class] || ["On", "Off"];
      return s.on ? pair[0] : pair[1];
    }
    case "lock": return known(s.locked) ? (s.locked ? "Locked" : "Unlocked") : "Unknown";
    case "sensor": return withUnit(s.value, attrs.value?.unit);
    case "cover": case "valve": case "vacuum": return known(s.state) ? word(s.state) : "Unknown";
    case "climate": {
      const mode = known(s.mode) ? word(s.mode) : "Unknown";
      return known(s.current_temperature) ? `${mode} · ${withUnit(s.current_temperature, attrs.current_temperature?.unit || "°C")}` : mode;
    }
    case "select": return known(s.option) ? s.option : "Unknown";
    case "scene": case "button": return "";
    default: {
      if (!known(s.on)) return "Unknown";
      if (!s.on) return "Off";
      if (known(s.brightness) && attrs.brightness) return `On · ${s.brightness} %`;
      if (known(s.percentage) && attrs.percentage) return `On · ${s.percentage} %`;
      return "On";
    }
  }
}

const ERRORS = {
  DEVICE_UNCONFIRMED: "It did not confirm the change. It may be switched off at the wall, out of range or busy.",
  DEVICE_OFFLINE: "It is offline: check its power and connection.",
  MQTT_DISCONNECTED: "The hub has lost its connection to the devices (the MQTT broker).",
  MQTT_QUEUE_FULL: "The hub is busy sending commands; try again in a moment.",
  MQTT_MESSAGE_REFUSED: "The broker refused the command.",
  DEVICES_OFF: "Device control is turned off on this hub.",
  DEVICE_UNKNOWN: "The hub no longer knows this device.",
  BRAIN_OFF: "The hub's assistant is not running.",
  UNREACHABLE: "Can't reach the hub. Check that it is on and on the same network.",
  INTERNAL: "The hub failed at this request.",
};

/** An ApiError (or any error) in words, never a code or a Python dict. */
export function errorWords(err) {
  if (ERRORS[err?.code]) return ERRORS[err.code];
  const message = String(err?.message || "Something went wrong");
  const plain = /[{[]/.test(message) ? `That did not work (${err?.code || "error"}).` : message.charAt(0).toUpperCase() + message.slice(1);
  return err?.hint ? `${plain} (${err.hint})` : plain;
}
