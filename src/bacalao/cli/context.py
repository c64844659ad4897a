"""Which node the CLI talks to, and the client for it.

`--api-host`/`--api-port` (env `BACALAO_API_HOST`/`BACALAO_API_PORT`) are
given to the root command or to any client command; the nearest one wins.
The client is imported only when a command needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from ..client import Client

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1234

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Target:
    """The node's API address; `explicit` once set on the command line."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    explicit: bool = False


def _set_host(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        target = ctx.ensure_object(Target)
        target.host, target.explicit = value, True


def _set_port(ctx: click.Context, _param: click.Parameter, value: int | None) -> None:
    if value is not None:
        target = ctx.ensure_object(Target)
        target.port, target.explicit = value, True


def api_options(command: F) -> F:
    """Let a client command take `--api-host`/`--api-port` after its name."""
    port = click.option(
        "--api-port",
        type=click.IntRange(1, 65535),
        expose_value=False,
        callback=_set_port,
        help="Port of the node's API (default: the global --api-port).",
    )
    host = click.option(
        "--api-host",
        expose_value=False,
        callback=_set_host,
        help="Host of the node's API (default: the global --api-host).",
    )
    return host(port(command))


def client_for(ctx: click.Context) -> Client:
    """A client of the node this invocation targets."""
    from ..client import Client

    target = ctx.ensure_object(Target)
    return Client(target.host, target.port)


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Target", "api_options", "client_for"]
