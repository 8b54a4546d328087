"""MQTT device conventions (Home Assistant discovery, Zigbee2MQTT, Homie 5) read into one
device model, and a simulator that speaks them on a real broker. Imports nothing of ours."""

from device_drivers.codec import Codec, Discovery, StateUpdate, implied
from device_drivers.homeassistant import HomeAssistant
from device_drivers.homie import Homie
from device_drivers.model import (
    STATELESS_KINDS,
    Attribute,
    Convention,
    Device,
    DriverError,
    InvalidCommand,
    InvalidPayload,
    Kind,
)
from device_drivers.mqtt_url import BrokerAddress
from device_drivers.zigbee2mqtt import Zigbee2MQTT

__all__ = [
    "STATELESS_KINDS",
    "Attribute",
    "BrokerAddress",
    "Codec",
    "Convention",
    "Device",
    "Discovery",
    "DriverError",
    "HomeAssistant",
    "Homie",
    "InvalidCommand",
    "InvalidPayload",
    "Kind",
    "StateUpdate",
    "Zigbee2MQTT",
    "implied",
]
