"""Hardware probe and the choices made from it. Reports names and numbers; imports no runtime."""

from device.plan import GeneratorPlan, ModelOption, choose_generator, plan_for
from device.probe import RUNTIMES, DeviceInfo, probe

__all__ = [
    "RUNTIMES",
    "DeviceInfo",
    "GeneratorPlan",
    "ModelOption",
    "choose_generator",
    "plan_for",
    "probe",
]
