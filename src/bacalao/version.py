"""The version of this build: the one place its number is written.

pyproject.toml reads `VERSION` from here (setuptools' dynamic version), the
CLI shows `version_info()` as its own version, and the API serves
`build_version()` at /api/v1/agent/version, both in Bacalhau's
BuildVersionInfo shape. Standard library only at import, so that
`bacalao version --client` stays cheap.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models.node import BuildVersionInfo

VERSION = "0.1.0"
BUILD_DATE = datetime(2026, 11, 22, tzinfo=UTC)
_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def version_info() -> dict[str, str]:
    """This build's version as plain data in BuildVersionInfo's shape."""
    major, minor, *_ = VERSION.split(".")
    machine = platform.machine().lower()
    return {
        "Major": major,
        "Minor": minor,
        "GitVersion": f"v{VERSION}",
        "GitCommit": "",
        "BuildDate": BUILD_DATE.isoformat().replace("+00:00", "Z"),
        "GOOS": platform.system().lower(),
        "GOARCH": _ARCH.get(machine, machine),
    }


def build_version() -> BuildVersionInfo:
    """This build's version as the API serves it."""
    from .models.node import BuildVersionInfo

    return BuildVersionInfo.model_validate(version_info())


__all__ = ["BUILD_DATE", "VERSION", "build_version", "version_info"]
