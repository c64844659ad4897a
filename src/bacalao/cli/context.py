"""Which node the CLI talks to, how, and the client for it.

`--api-host`/`--api-port` (env `BACALAO_API_HOST`/`BACALAO_API_PORT`, or
Bacalhau's `BACALHAU_API_HOST`/`BACALHAU_API_PORT` when those are unset) are
given to the root command or to any client command; the nearest one wins.
`--api-host` may be a URL (`https://node.example:1234`). `--api-token`,
`--tls`, `--cacert` and `--insecure` (env `BACALAO_API_TOKEN`,
`BACALAO_TLS`, `BACALAO_CACERT`, `BACALAO_INSECURE`) are the root
command's. The client is imported only when a command needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from ..client.api import Client

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1234

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Target:
    """The node's API address and how to reach it; `explicit` once the
    address is set on the command line."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    explicit: bool = False
    token: str | None = None
    tls: bool = False
    cacert: str | None = None
    insecure: bool = False

    def set_host(self, value: str) -> None:
        """Take an --api-host value: a host, or a URL with scheme and port."""
        if "://" not in value:
            self.host = value
            return
        from ..client.conn import parse_api_url

        try:
            tls, host, port = parse_api_url(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--api-host") from None
        self.host = host
        if tls is not None:
            self.tls = tls
        if port is not None:
            self.port = port


def _set_host(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        target = ctx.ensure_object(Target)
        target.set_host(value)
        target.explicit = True


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
    from ..client.api import Client

    target = ctx.ensure_object(Target)
    return Client(
        target.host,
        target.port,
        token=target.token,
        tls=target.tls,
        cacert=target.cacert,
        insecure=target.insecure,
    )


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Target", "api_options", "client_for"]
