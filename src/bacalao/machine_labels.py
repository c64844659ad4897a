"""What a node finds out about its machine by itself: GPUs and automatic labels.

`detect_gpus()` asks `nvidia-smi` (where it is installed) for the GPUs
and their memory; `automatic_labels(gpus)` gives the labels Bacalhau's
nodes carry without being told: `os_type` and `os_arch` (Go's names, so a
constraint written for Bacalhau matches), and per GPU `GPU-<i>` (its model,
spaces as dashes) and `GPU-<i>-Memory` (e.g. `15360-MiB`). Labels the
operator sets win over these.

`detect_gpus` runs a program: call it off the trio loop.
"""

from __future__ import annotations

import csv
import logging
import platform
import shutil
import subprocess
from dataclasses import dataclass

log = logging.getLogger(__name__)

NVIDIA_SMI = "nvidia-smi"
NVIDIA_QUERY = [
    "--query-gpu=index,gpu_name,memory.total",
    "--format=csv,noheader,nounits",
]
# Python's machine names -> Go's GOARCH, as Bacalhau's labels use them
_GO_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "i386": "386",
    "i686": "386",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


@dataclass(frozen=True)
class Gpu:
    """One GPU as its vendor's tool reports it."""

    index: int
    name: str
    memory_mib: int
    vendor: str = "NVIDIA"


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """GPUs from `nvidia-smi --query-gpu=index,gpu_name,memory.total
    --format=csv,noheader,nounits`; `ValueError` for output not of that form."""
    gpus = []
    for row in csv.reader(text.splitlines(), skipinitialspace=True):
        if not row:
            continue
        if len(row) != 3:
            raise ValueError(f"unexpected nvidia-smi line: {','.join(row)!r}")
        index, name, memory = (field.strip() for field in row)
        if not index.isdigit() or not memory.isdigit() or not name:
            raise ValueError(f"unexpected nvidia-smi line: {','.join(row)!r}")
        gpus.append(Gpu(int(index), name, int(memory)))
    return gpus


def detect_gpus(timeout: float = 10.0) -> list[Gpu]:
    """The machine's NVIDIA GPUs; none where `nvidia-smi` is absent or fails."""
    program = shutil.which(NVIDIA_SMI)
    if program is None:
        return []
    try:
        done = subprocess.run(
            [program, *NVIDIA_QUERY],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return parse_nvidia_smi(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.warning("could not list GPUs with %s: %s", program, exc)
        return []


def automatic_labels(gpus: list[Gpu]) -> dict[str, str]:
    """The labels a node carries without being told."""
    machine = platform.machine().lower()
    labels = {
        "os_type": platform.system().lower(),
        "os_arch": _GO_ARCH.get(machine, machine),
    }
    for gpu in gpus:
        labels[f"GPU-{gpu.index}"] = gpu.name.replace(" ", "-")
        labels[f"GPU-{gpu.index}-Memory"] = f"{gpu.memory_mib}-MiB"
    return labels
