"""How the client reaches a node: http or https, its API token, and what a
failure to connect means for the user. Standard library only; `ssl` is
imported only when TLS is used.

    node = Endpoint("node.example", 1234, tls=True, cacert="ca.pem", token="...")
    connection = node.connection(timeout=30)   # an http.client connection
"""

from __future__ import annotations

import functools
import http.client
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import ConnectError

if TYPE_CHECKING:
    import ssl

TRUST_HINT = (
    "trust its certificate with --cacert FILE (BACALAO_CACERT), "
    "or skip the check with --insecure"
)
USER_AGENT = "bacalao-client"
START_HINT = "or point --api-host/--api-port (BACALAO_API_HOST/PORT) at a node"


@dataclass(frozen=True)
class Endpoint:
    """A node's API address and how to talk to it.

    `tls`: https, checking the node's certificate against the system's CAs,
    or only against `cacert` (a PEM file) when given; `insecure` skips the
    check. `token` goes in `Authorization: Bearer` on every request.
    """

    host: str
    port: int
    tls: bool = False
    token: str | None = None
    cacert: str | None = None
    insecure: bool = False

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def connection(self, timeout: float | None) -> http.client.HTTPConnection:
        """A new (not yet connected) connection to the node."""
        return self.connection_to(self.host, self.port, self.tls, timeout)

    def connection_to(
        self, host: str, port: int | None, tls: bool, timeout: float | None
    ) -> http.client.HTTPConnection:
        """A connection to any node, trusting what this endpoint trusts."""
        if not tls:
            return http.client.HTTPConnection(host, port, timeout=timeout)
        context = ssl_context(self.cacert, self.insecure)
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)

    def ssl_context(self) -> ssl.SSLContext | None:
        return ssl_context(self.cacert, self.insecure) if self.tls else None

    def connect_error(self, exc: OSError, timeout: float | None) -> ConnectError:
        """What `exc`, raised while talking to the node, means for the user."""
        where = self.base_url
        if isinstance(exc, ConnectionRefusedError):
            return ConnectError(
                f"no bacalao node at {where} (is it running? start one "
                "with `bacalao serve` or `bacalao devstack`)",
                hint=START_HINT,
            )
        if isinstance(exc, TimeoutError):
            return ConnectError(
                f"the node at {where} did not answer within {timeout:g} s"
            )
        if self.tls:
            return _tls_error(exc, where)
        if isinstance(exc, ConnectionResetError | http.client.RemoteDisconnected):
            return ConnectError(
                f"the node at {where} hung up without answering",
                hint="if it serves https, pass --tls or an https:// --api-host",
            )
        return ConnectError(f"cannot talk to {where}: {exc}")


def _tls_error(exc: OSError, where: str) -> ConnectError:
    import ssl

    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or str(exc)
        return ConnectError(
            f"the certificate of {where} is not trusted ({reason})", hint=TRUST_HINT
        )
    if isinstance(exc, ssl.SSLError):
        return ConnectError(
            f"TLS with {where} failed ({exc.reason or exc})",
            hint="if the node serves plain http, drop --tls and use http://",
        )
    return ConnectError(f"cannot talk to {where}: {exc}")


@functools.cache
def ssl_context(cacert: str | None, insecure: bool) -> ssl.SSLContext:
    """A client TLS context: the system's CAs, or only `cacert`; no checks
    at all if `insecure`."""
    import ssl

    context = ssl.create_default_context(cafile=cacert)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def parse_api_url(text: str) -> tuple[bool | None, str, int | None]:
    """`(tls, host, port)` of an --api-host value: a bare host gives
    `(None, host, None)`; `https://host:1234` gives `(True, "host", 1234)`."""
    if "://" not in text:
        return None, text, None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not an http:// or https:// address")
    if parts.path.strip("/"):
        raise ValueError(f"{text!r}: give the node's address without a path")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    return parts.scheme == "https", parts.hostname, port


__all__ = ["Endpoint", "parse_api_url", "ssl_context"]
