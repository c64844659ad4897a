"""API bearer tokens: which requests may reach a handler.

With tokens configured, every request (HTTP or WebSocket) except the
health check `GET /api/v1/agent/alive` must carry `Authorization: Bearer
<token>` naming one of them, or it is answered 401 before its route is
even looked up. A token is compared as a SHA-256 digest against every
configured one with `hmac.compare_digest`, so the time an answer takes
tells nothing about how much of a guess was right. No tokens: an open API.

A browser cannot set headers on a WebSocket, so a WebSocket upgrade (the
logs route) may carry the token as the `access_token` query parameter
instead (RFC 6750 section 2.3). Plain HTTP routes do not accept it there:
a URL ends up in histories and proxy logs, and a browser's `fetch` can
send the header (the dashboard reads the event stream that way).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

from .errors import Unauthorized

OPEN_ROUTES = frozenset(
    (method, ("api", "v1", "agent", "alive")) for method in ("GET", "HEAD")
)
HINT = (
    "send the header `Authorization: Bearer <token>` "
    "(bacalao CLI: --api-token or BACALAO_API_TOKEN)"
)
CHALLENGE = ("www-authenticate", 'Bearer realm="bacalao"')
QUERY_TOKEN = "access_token"  # WebSocket upgrades only (module docstring)


class BearerTokens:
    """The tokens a node's API accepts (see the module docstring)."""

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self._digests = tuple(_digest(t) for t in tokens)

    @property
    def required(self) -> bool:
        return bool(self._digests)

    def check(
        self,
        method: str,
        segments: tuple[str, ...],
        headers: Mapping[str, str],
        query_token: str | None = None,
    ) -> None:
        """Return if the request may go on; raise `Unauthorized` otherwise.

        `query_token`: the `access_token` of a WebSocket upgrade, used when
        there is no Authorization header.
        """
        if not self._digests or (method, segments) in OPEN_ROUTES:
            return
        token = bearer_token(headers.get("authorization", "")) or query_token
        if token is None:
            raise Unauthorized("this node's API requires a token", hint=HINT)
        if not self.accepts(token):
            raise Unauthorized("the API token was not accepted", hint=HINT)

    def accepts(self, token: str) -> bool:
        digest = _digest(token)
        accepted = False
        for known in self._digests:  # all of them, whatever matches first
            accepted |= hmac.compare_digest(known, digest)
        return accepted


def bearer_token(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` value, else None."""
    scheme, _, value = header.strip().partition(" ")
    token = value.strip()
    return token if scheme.lower() == "bearer" and token else None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


__all__ = ["CHALLENGE", "OPEN_ROUTES", "QUERY_TOKEN", "BearerTokens", "bearer_token"]
