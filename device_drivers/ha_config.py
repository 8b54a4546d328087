"""Home Assistant's discovery configs as HA reads them: abbreviated keys made long, `~` expanded.

The abbreviations are those of HA's MQTT integration for the platforms the hub supports, templates
included: real firmware (Tasmota, ESPHome, Zigbee2MQTT) sends the short forms.
"""

from __future__ import annotations

from typing import Any

from device_drivers.model import InvalidPayload

_PAIRS = """
act_t action_topic; act_tpl action_template; avty availability; avty_mode availability_mode;
avty_t availability_topic; avty_tpl availability_template; bri_cmd_t brightness_command_topic;
bri_cmd_tpl brightness_command_template; bri_scl brightness_scale; bri_stat_t brightness_state_topic;
bri_val_tpl brightness_value_template; clr_mode_stat_t color_mode_state_topic;
clr_mode_val_tpl color_mode_value_template; clr_temp_cmd_t color_temp_command_topic;
clr_temp_cmd_tpl color_temp_command_template; clr_temp_stat_t color_temp_state_topic;
clr_temp_val_tpl color_temp_value_template; clr_temp_k color_temp_kelvin; clrm color_mode;
cmd_t command_topic; cmd_tpl command_template; curr_temp_t current_temperature_topic;
curr_temp_tpl current_temperature_template; dev device; dev_cla device_class; ent_cat entity_category;
hs_cmd_t hs_command_topic; hs_cmd_tpl hs_command_template; hs_stat_t hs_state_topic; hs_val_tpl hs_value_template;
json_attr_t json_attributes_topic; json_attr_tpl json_attributes_template; max_mirs max_mireds;
min_mirs min_mireds; max_k max_kelvin; min_k min_kelvin; max_temp max_temp; min_temp min_temp;
mode_cmd_t mode_command_topic; mode_cmd_tpl mode_command_template; mode_stat_t mode_state_topic;
mode_stat_tpl mode_state_template; obj_id object_id; opt optimistic; pct_cmd_t percentage_command_topic;
pct_cmd_tpl percentage_command_template; pct_stat_t percentage_state_topic; pct_val_tpl percentage_value_template;
pl_avail payload_available; pl_not_avail payload_not_available; pl_cls payload_close; pl_open payload_open;
pl_stop payload_stop; pl_lock payload_lock; pl_unlk payload_unlock; pl_on payload_on; pl_off payload_off;
pos_clsd position_closed; pos_open position_open; pos_t position_topic; pos_tpl position_template;
set_pos_t set_position_topic; set_pos_tpl set_position_template; rgb_cmd_t rgb_command_topic;
rgb_cmd_tpl rgb_command_template; rgb_stat_t rgb_state_topic; rgb_val_tpl rgb_value_template;
spd_rng_min speed_range_min; spd_rng_max speed_range_max; stat_cla state_class; stat_clsd state_closed;
stat_closing state_closing; stat_off state_off; stat_on state_on; stat_open state_open;
stat_opening state_opening; stat_stopped state_stopped; stat_locked state_locked; stat_unlocked state_unlocked;
stat_locking state_locking; stat_unlocking state_unlocking; stat_jam state_jammed; stat_t state_topic;
stat_val_tpl state_value_template; sup_clrm supported_color_modes; temp_cmd_t temperature_command_topic;
temp_cmd_tpl temperature_command_template; temp_stat_t temperature_state_topic;
temp_stat_tpl temperature_state_template; temp_unit temperature_unit; temp_step temp_step;
uniq_id unique_id; unit_of_meas unit_of_measurement; val_tpl value_template; xy_cmd_t xy_command_topic;
xy_cmd_tpl xy_command_template; xy_stat_t xy_state_topic; xy_val_tpl xy_value_template;
fx_cmd_t effect_command_topic; fx_stat_t effect_state_topic; fx_val_tpl effect_value_template;
fx_list effect_list; pl_prs payload_press; ops options; rpt_pos reports_position;
pl_strt payload_start; pl_ret payload_return_to_base; pl_paus payload_pause; pl_loc payload_locate;
pl_cln_sp payload_clean_spot; sup_feat supported_features;
p platform; t topic; o origin; e encoding; qos qos; ret retain
"""
ABBREVIATIONS = dict(pair.split() for pair in _PAIRS.replace("\n", " ").split(";") if pair.strip())
DEVICE_ABBREVIATIONS = {
    "ids": "identifiers",
    "mf": "manufacturer",
    "mdl": "model",
    "sa": "suggested_area",
    "sw": "sw_version",
    "hw": "hw_version",
    "cns": "connections",
    "via_device": "via_device",
    "name": "name",
}


def expand(config: dict[str, Any]) -> dict[str, Any]:
    """Long keys, and `~` replaced by the base topic, as Home Assistant reads a config."""
    out = {ABBREVIATIONS.get(k, k): v for k, v in config.items()}
    base = out.get("~")
    if base:
        for key, value in out.items():
            if isinstance(value, str) and key.endswith("topic"):
                out[key] = value.replace("~", base) if value.startswith("~") or value.endswith("~") else value
    if isinstance(out.get("availability"), list):
        if not all(isinstance(a, dict) for a in out["availability"]):
            raise InvalidPayload("each 'availability' entry must be an object")
        out["availability"] = [expand({"~": base, **a} if base else a) for a in out["availability"]]
    if isinstance(out.get("device"), dict):
        out["device"] = {DEVICE_ABBREVIATIONS.get(k, k): v for k, v in out["device"].items()}
    return out


def entity_name(config: dict[str, Any], fallback: str) -> str:
    """What people call the entity: its device's name when the entity has none (HA's `name: null`), the
    device's name and the entity's otherwise, "Front Door Contact", never "Front Door Contact contact"."""
    device = config.get("device") if isinstance(config.get("device"), dict) else {}
    own = config.get("name")
    owner = str(device.get("name") or "").strip() if device else ""
    if not owner:
        return str(own or fallback)
    if not own:
        return owner
    own = str(own).strip()
    if own.lower().startswith(owner.lower()) or owner.lower().split()[-1:] == [own.lower()]:
        return own if own.lower().startswith(owner.lower()) else owner
    return f"{owner} {own}"


def device_key(config: dict[str, Any]) -> tuple[str, str]:
    """The HA device an entity belongs to (`ha-dev:<first identifier>`) and its name; ("", "") without one."""
    device = config.get("device")
    if not isinstance(device, dict):
        return "", ""
    ids = device.get("identifiers")
    first = ids[0] if isinstance(ids, list) and ids else ids
    if not isinstance(first, str | int) or first == "":
        connections = device.get("connections")
        first = "|".join(map(str, connections[0])) if isinstance(connections, list) and connections else ""
    return (f"ha-dev:{first}" if first != "" else ""), str(device.get("name") or "")
