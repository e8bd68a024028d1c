"""Hardware probe. Reports names and numbers; imports no model runtime."""

from device.probe import RUNTIMES, DeviceInfo, probe

__all__ = ["RUNTIMES", "DeviceInfo", "probe"]
