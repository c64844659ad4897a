"""`bacalao version`: the client's version and, unless `--client`, the node's.

The client's version comes from the installed package's metadata, so
`bacalao version --client` imports neither pydantic nor the client.
"""

from __future__ import annotations

import platform
from typing import Any

import click

from .context import api_options, client_for
from .output import output_option, render, table

_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def client_version() -> dict[str, str]:
    """This CLI's version in BuildVersionInfo's shape."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("bacalao")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        number = "0.0.0"
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
@output_option()
@api_options
@click.pass_context
def version(ctx: click.Context, client_only: bool, output: str) -> None:
    """Print the client's and the node's versions."""
    versions: dict[str, Any] = {"clientVersion": client_version()}
    if not client_only:
        from ..client_errors import ClientError

        try:
            server = client_for(ctx).version()
        except ClientError as exc:
            click.echo(
                f"Warning: cannot get the node's version: {exc.message}", err=True
            )
        else:
            versions["serverVersion"] = server.model_dump(mode="json")
    if output != "table":
        click.echo(render(versions, output))
        return
    headers = ["client", *(["server"] if "serverVersion" in versions else [])]
    row = [v["GitVersion"] for v in versions.values()]
    click.echo(table(headers, [row]))


__all__ = ["client_version", "version"]
