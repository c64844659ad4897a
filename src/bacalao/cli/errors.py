"""How the CLI reports failure: one line on stderr, a non-zero exit, no traceback.

    CliError        (a click.ClickException) a problem and, where known, its fix
     └─ JobFailed   the job ran and ended Failed or Stopped

`as_cli_error` turns anything a command raised into a `CliError`: client
errors keep their message and hint (a 401 gets the CLI's own: which flag
carries the token), anything unexpected is named by type.
Set `BACALAO_DEBUG=1` to see the traceback of an unexpected error instead.
"""

from __future__ import annotations

import os
from typing import IO, Any

import click

from ..client.errors import ClientError

TOKEN_HINT = "pass the node's API token with --api-token or BACALAO_API_TOKEN"


class CliError(click.ClickException):
    """A failure shown as `Error: <problem>[; <fix>]` on one line."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        text = "; ".join(line.strip() for line in message.splitlines() if line.strip())
        if hint:
            text = f"{text}; {hint}"
        super().__init__(text)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class JobFailed(CliError):
    """The job ended Failed (or Stopped); the reason is its state message."""


def debugging() -> bool:
    return os.environ.get("BACALAO_DEBUG", "") not in ("", "0", "false")


def as_cli_error(exc: Exception) -> CliError:
    """The one-line error to show for `exc`."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, ClientError):
        return CliError(exc.message, TOKEN_HINT if exc.status == 401 else exc.hint)
    reason = str(exc) or "no details"
    return CliError(
        f"unexpected {type(exc).__name__}: {reason}",
        "rerun with BACALAO_DEBUG=1 for a traceback and please report it",
    )


__all__ = ["CliError", "JobFailed", "as_cli_error", "debugging"]
