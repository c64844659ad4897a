"""`bacalao version`: the client's version and, unless `--client`, the node's.

The client's version is `bacalao.version.version_info()`, the one number
pyproject.toml and the node's API also use; `bacalao version --client`
imports neither pydantic nor the client.
"""

from __future__ import annotations

from typing import Any

import click

from ..version import version_info as client_version
from .context import api_options, client_for
from .output import View, view_options


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


__all__ = ["client_version", "version"]
