"""Device errors a user can act on; each has a stable code."""

from models.errors import CompanionError


class DeviceError(CompanionError):
    code = "DEVICE_ERROR"


class DeviceUnknown(DeviceError):
    code = "DEVICE_UNKNOWN"


class DeviceUnavailable(DeviceError):
    code = "DEVICE_OFFLINE"


class DeviceUnconfirmed(DeviceError):
    code = "DEVICE_UNCONFIRMED"


class BrokerUnavailable(DeviceError):
    code = "MQTT_DISCONNECTED"


class InvalidDeviceCommand(DeviceError):
    code = "DEVICE_INVALID_COMMAND"
