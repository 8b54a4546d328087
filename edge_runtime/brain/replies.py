"""What the brain says, per language. English is complete; other languages fall back to it."""

from __future__ import annotations

from typing import Any

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "turned_on": "Turned on {what}.",
        "turned_off": "Turned off {what}.",
        "set": "Set {what}.",
        "moved": "Moved {what}.",
        "locked": "Locked {what}.",
        "unlocked": "Unlocked {what}.",
        "opened": "Opened {what}.",
        "closed": "Closed {what}.",
        "done": "Done: {what}.",
        "activated": "Activated {what}.",
        "pressed": "Pressed {what}.",
        "started": "Started {what}.",
        "stopped": "Stopped {what}.",
        "sent_home": "Sent {what} back to its dock.",
        "the_device": "the {name}",
        "n_devices": "{n} devices",
        "offline_device": "The {name} is offline.",
        "no_answer": "The {name} did not respond.",
        "no_device": "I couldn't find a device for that.",
        "state_yes": "Yes, the {name} is {state}.",
        "state_no": "No, the {name} is {state}.",
        "state_is": "The {name} is {state}.",
        "unknown_state": "in an unknown state",
        "temperature": "It's {value:g} degrees in the {where}.",
        "confirm_question": "Do you want me to {what}?",
        "confirm_cancelled": "Okay, I won't.",
        "offline": "I can't reach the cloud right now, so I can't answer that. I can still run your devices "
        "and timers.",
        "cloud_slow": "The cloud is taking too long, so I can't answer that right now.",
        "not_linked": "I'm not linked to the cloud, so I can't answer that. Run companion hub link to set it up.",
        "unsure_device": "I'm not sure what to do with the {name}.",
        "cannot": "Sorry, I can't do that yet.",
        "unlock": "unlock the {name}",
        "open": "open the {name}",
        "disarm": "disarm the {name}",
        "lock": "lock the {name}",
        "close": "close the {name}",
        "arm": "arm the {name}",
        "change": "change the {name}",
        "remembered": "Okay, I'll remember that.",
        "recalled": "You told me: {text}",
        "state_unknown": "I don't know the state of the {name} yet.",
        "any_yes": "Yes, {names} {verb} {state}.",
        "any_no": "No, no {noun} are {state}.",
        "all_yes": "Yes, all {n} {noun} are {state}.",
        "all_no": "No, {names} {verb} not {state}.",
        "which": "{names} {verb} {state}.",
        "which_none": "No {noun} are {state}.",
        "how_many": "{n} of the {total} {noun} are {state}.",
        "cannot_media": "I can't control media players yet, so I haven't done anything.",
        "cannot_kind": "I can't control a {kind} yet, so I haven't done anything.",
        "cannot_clean_area": "I can't send the vacuum to one room yet, so I haven't done anything.",
        "which_name": "There are {n} devices called {name}: {options}. Which one do you mean?",
        "which_kind": "Which {kind} do you mean: {options}?",
        "no_area": "I don't know a room called {area}.",
        "no_floor": "I don't know a floor called {floor}.",
        "no_name": "I don't know a device called {name}.",
        "no_name_in_area": "I don't know a device called {name} in the {area}.",
        "no_kind_in_area": "There is no {kind} in the {area}.",
        "no_kind_on_floor": "There is no {kind} on the {floor}.",
        "no_kind": "There is no {kind} here.",
        "which_area": "Which room do you mean?",
        "out_of_range": "The {name} can be set between {low:g} and {high:g} degrees, not {value:g}.",
        "colour_temp_max": "The {name} goes up to {limit} K.",
        "colour_temp_min": "The {name} goes down to {limit} K.",
        "not_sure": "I'm not sure what you want me to do, so I haven't done anything.",
        "not_now_later": "I can't schedule that, so I haven't done anything.",
        "later": "Okay, I'll {command} in {when}.",
        "not_later": "I can't {command} later, so I haven't set anything.",
        "not_later_risky": "I won't {what} later: that needs your yes when it happens. Ask me then.",
    },
    "de": {
        "turned_on": "{what} eingeschaltet.",
        "turned_off": "{what} ausgeschaltet.",
        "set": "{what} eingestellt.",
        "moved": "{what} bewegt.",
        "locked": "{what} abgeschlossen.",
        "unlocked": "{what} aufgeschlossen.",
        "opened": "{what} geöffnet.",
        "closed": "{what} geschlossen.",
        "done": "Erledigt: {what}.",
        "the_device": "{name}",
        "n_devices": "{n} Geräte",
        "offline_device": "{name} ist offline.",
        "no_answer": "{name} hat nicht geantwortet.",
        "no_device": "Dafür habe ich kein Gerät gefunden.",
        "state_yes": "Ja, {name} ist {state}.",
        "state_no": "Nein, {name} ist {state}.",
        "state_is": "{name} ist {state}.",
        "unknown_state": "in einem unbekannten Zustand",
        "temperature": "Es sind {value:g} Grad in {where}.",
        "confirm_question": "Soll ich wirklich: {what}?",
        "confirm_cancelled": "Gut, dann nicht.",
        "offline": "Ich erreiche die Cloud gerade nicht, deshalb kann ich das nicht beantworten. Geräte und "
        "Timer funktionieren weiter.",
        "cloud_slow": "Die Cloud braucht zu lange, deshalb kann ich das gerade nicht beantworten.",
        "not_linked": "Ich bin nicht mit der Cloud verbunden, deshalb kann ich das nicht beantworten.",
        "unsure_device": "Ich weiß nicht, was ich mit {name} tun soll.",
        "cannot": "Das kann ich leider noch nicht.",
        "unlock": "{name} aufschließen",
        "open": "{name} öffnen",
        "disarm": "{name} unscharf schalten",
        "lock": "{name} abschließen",
        "close": "{name} schließen",
        "arm": "{name} scharf schalten",
        "change": "{name} ändern",
        "remembered": "Gut, das merke ich mir.",
        "recalled": "Du hast mir gesagt: {text}",
        "cannot_media": "Mediaplayer kann ich noch nicht steuern, deshalb habe ich nichts getan.",
        "no_kind_in_area": "In {area} gibt es kein Gerät der Art {kind}.",
        "no_name": "Ich kenne kein Gerät namens {name}.",
        "time": "Es ist {hour}:{minute:02d} Uhr.",
        "date": "Heute ist {weekday}, der {day}. {month} {year}.",
    },
}
STATES = {
    "de": {
        "on": "an",
        "off": "aus",
        "locked": "abgeschlossen",
        "unlocked": "aufgeschlossen",
        "open": "offen",
        "closed": "geschlossen",
    }
}
YES = {
    "yes",
    "yeah",
    "yep",
    "sure",
    "do it",
    "go ahead",
    "confirm",
    "ok",
    "okay",
    "please do",
    "yes please",
    "ja",
    "ja bitte",
    "mach das",
    "bestätigt",
}
NO = {"no", "nope", "don't", "do not", "cancel", "stop", "never mind", "nevermind", "no thanks", "nein", "abbrechen"}


WEEKDAYS = {"de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]}
MONTHS = {
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ]
}


def say(language: str, key: str, **values: Any) -> str:
    table = PHRASES.get(language, PHRASES["en"])
    template = table[key] if key in table else PHRASES["en"][key]
    return template.format(**values)


def state_word(language: str, state: str) -> str:
    return STATES.get(language, {}).get(state, state)
