"""Resource amounts: the strings users write and the numbers nodes track.

`ResourcesConfig` is what a task asks for ("500m", "1.5", "512Mb", "2GiB");
`Resources` is the parsed form (CPU cores as a float, bytes as integers) used
for capacity accounting and in node info.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from .base import WireModel

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "ki": 1024,
    "kib": 1024,
    "mi": 1024**2,
    "mib": 1024**2,
    "gi": 1024**3,
    "gib": 1024**3,
    "ti": 1024**4,
    "tib": 1024**4,
}
MAX_BYTES = 2**60
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_CPU = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m?)\s*$")


def parse_bytes(text: str) -> int:
    """Parse "512Mb", "2GiB", "1000" into bytes; `ValueError` on anything else."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size (e.g. 512Mb, 2GiB, 1000)")
    size = float(match.group(1)) * _UNITS[unit]
    if size > MAX_BYTES:
        raise ValueError(f"{text!r} is not a size any node has (over 1 EiB)")
    return int(size)


def parse_cpu(text: str) -> float:
    """Parse "500m", "0.5", "2" into cores; `ValueError` on anything else."""
    match = _CPU.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a CPU amount (e.g. 500m, 0.5, 2)")
    value = float(match.group(1))
    return value / 1000 if match.group(2) else value


def format_bytes(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


class ResourcesConfig(WireModel):
    """Resources a task asks for, as strings (empty means the node default)."""

    CPU: str = ""
    Memory: str = ""
    Disk: str = ""
    GPU: str = ""

    @field_validator("CPU", "Memory", "Disk", "GPU", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("CPU")
    @classmethod
    def _cpu(cls, value: str) -> str:
        if value:
            parse_cpu(value)
        return value

    @field_validator("Memory", "Disk")
    @classmethod
    def _size(cls, value: str) -> str:
        if value:
            parse_bytes(value)
        return value

    @field_validator("GPU")
    @classmethod
    def _gpu(cls, value: str) -> str:
        if value and not value.strip().isdigit():
            raise ValueError(f"{value!r} is not a GPU count")
        return value

    def parsed(self, defaults: Resources | None = None) -> Resources:
        base = defaults or Resources()
        return Resources(
            CPU=parse_cpu(self.CPU) if self.CPU else base.CPU,
            Memory=parse_bytes(self.Memory) if self.Memory else base.Memory,
            Disk=parse_bytes(self.Disk) if self.Disk else base.Disk,
            GPU=int(self.GPU) if self.GPU else base.GPU,
        )


class Resources(WireModel):
    """Parsed resource amounts: cores and bytes."""

    CPU: float = Field(0.0, ge=0)
    Memory: int = Field(0, ge=0)
    Disk: int = Field(0, ge=0)
    GPU: int = Field(0, ge=0)

    def fits_in(self, other: Resources) -> bool:
        return (
            self.CPU <= other.CPU + 1e-9
            and self.Memory <= other.Memory
            and self.Disk <= other.Disk
            and self.GPU <= other.GPU
        )

    def __add__(self, other: Resources) -> Resources:
        return Resources(
            CPU=self.CPU + other.CPU,
            Memory=self.Memory + other.Memory,
            Disk=self.Disk + other.Disk,
            GPU=self.GPU + other.GPU,
        )

    def __sub__(self, other: Resources) -> Resources:
        return Resources(
            CPU=max(self.CPU - other.CPU, 0.0),
            Memory=max(self.Memory - other.Memory, 0),
            Disk=max(self.Disk - other.Disk, 0),
            GPU=max(self.GPU - other.GPU, 0),
        )

    def shortfall(self, available: Resources) -> list[str]:
        """Names of the resources of which `available` holds too little."""
        out = []
        if self.CPU > available.CPU + 1e-9:
            out.append(f"cpu (asks {self.CPU:g}, free {available.CPU:g})")
        if self.Memory > available.Memory:
            out.append(
                f"memory (asks {format_bytes(self.Memory)}, "
                f"free {format_bytes(available.Memory)})"
            )
        if self.Disk > available.Disk:
            out.append(
                f"disk (asks {format_bytes(self.Disk)}, "
                f"free {format_bytes(available.Disk)})"
            )
        if self.GPU > available.GPU:
            out.append(f"gpu (asks {self.GPU}, free {available.GPU})")
        return out
