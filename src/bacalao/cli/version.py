"""`bacalao version`: the client's version and, unless `--client`, the node's.

The client's version is the one in the name of the installed package's
`bacalao-<version>.dist-info` folder, found by listing the import path —
`importlib.metadata` would cost ~40 ms of a ~100 ms start — so
`bacalao version --client` imports neither pydantic nor the client.
"""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

import click

from .context import api_options, client_for
from .output import View, view_options

_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def installed_version() -> str:
    """The installed bacalao's version ("0.0.0" from a bare checkout)."""
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("bacalao-") and name.endswith(".dist-info"):
                return name.removeprefix("bacalao-").removesuffix(".dist-info")
    return "0.0.0"  # pragma: no cover - running from a bare checkout


def client_version() -> dict[str, str]:
    """This CLI's version in BuildVersionInfo's shape."""
    number = installed_version()
    major, minor, *_ = [*number.split("."), "0", "0"]
    machine = platform.machine().lower()
    return {
        "Major": major,
        "Minor": minor,
        "GitVersion": f"v{number}",
        "GitCommit": "",
        "BuildDate": "1970-01-01T00:00:00Z",
        "GOOS": platform.system().lower(),
        "GOARCH": _ARCH.get(machine, machine),
    }


@click.command(
    epilog="""\b
Examples:
  bacalao version
  bacalao version --client
  bacalao version --output json""",
)
@click.option("--client", "client_only", is_flag=True, help="Only this CLI's version.")
@view_options(tabular=True)
@api_options
@click.pass_context
def version(ctx: click.Context, client_only: bool, view: View) -> None:
    """Print the client's and the node's versions."""
    versions: dict[str, Any] = {"clientVersion": client_version()}
    if not client_only:
        from ..client.errors import ClientError

        try:
            server = client_for(ctx).version()
        except ClientError as exc:
            click.echo(
                f"Warning: cannot get the node's version: {exc.message}", err=True
            )
        else:
            versions["serverVersion"] = server.model_dump(mode="json")
    headers = ["client", *(["server"] if "serverVersion" in versions else [])]
    row = [v["GitVersion"] for v in versions.values()]
    view.echo(versions, lambda: view.table(headers, [row]))


__all__ = ["client_version", "installed_version", "version"]
