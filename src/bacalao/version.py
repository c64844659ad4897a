"""The version of this build, in Bacalhau's BuildVersionInfo shape."""

from __future__ import annotations

import platform
from datetime import UTC, datetime

from .models.node import BuildVersionInfo

VERSION = "0.1.0"
BUILD_DATE = datetime(2026, 11, 22, tzinfo=UTC)


def build_version() -> BuildVersionInfo:
    major, minor, *_ = VERSION.split(".")
    machine = platform.machine().lower()
    return BuildVersionInfo(
        Major=major,
        Minor=minor,
        GitVersion=f"v{VERSION}",
        GitCommit="",
        BuildDate=BUILD_DATE,
        GOOS=platform.system().lower(),
        GOARCH={"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine),
    )
