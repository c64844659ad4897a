"""Who an `HTTP`-network task may talk to: decisions made without I/O.

A task with `Network.Type: HTTP` reaches the outside only through the
filtering proxy (`http_proxy`), which asks `HttpPolicy` twice per request:

- `host_refusal(host)`: is the host one of the job's `Domains`? An entry
  `example.com` allows exactly that host; `.example.com` allows it and
  every subdomain (as Squid's `dstdomain`, which Bacalhau's gateway used).
  An IP address entry allows that address written as the host.
- `address_refusal(ip)`: may the proxy connect to the address the host
  resolved to? Loopback, link-local (cloud metadata lives there),
  multicast and unspecified addresses never; private ranges (RFC 1918,
  RFC 4193, CGNAT) only when the operator allows it. Checking the address
  actually dialled defeats DNS names that point inside the node's network.

`parse_request_head` reads what a client sent the proxy.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_DOMAIN = re.compile(r"^\.?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_-]+$")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def normalize_host(host: str) -> str:
    """Lower case, no trailing dot, no IPv6 brackets."""
    return host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")


def domain_problem(domain: str) -> str | None:
    """Why `domain` cannot be an entry of `Domains`, or None."""
    text = normalize_host(domain)
    if _is_ip(text) or (_DOMAIN.match(text) and text.strip(".")):
        return None
    return f"invalid domain {domain!r} (expected a host name, .domain or IP address)"


@dataclass(frozen=True)
class HttpPolicy:
    """The allow-list of one task and what the node lets any task reach."""

    domains: tuple[str, ...]
    allow_private: bool = False

    def host_refusal(self, host: str) -> str | None:
        """None when `host` is in the job's Domains, else why not."""
        wanted = normalize_host(host)
        for entry in self.domains:
            allowed = normalize_host(entry)
            if wanted == allowed.lstrip("."):
                return None
            if allowed.startswith(".") and wanted.endswith(allowed):
                return None
        return f"{wanted} is not in the job's Network.Domains"

    def address_refusal(self, address: str) -> str | None:
        """None when the proxy may connect to `address`, else why not."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        mapped = getattr(ip, "ipv4_mapped", None)
        if mapped is not None:
            ip = mapped
        if ip.is_loopback or ip.is_link_local or ip.is_multicast:
            return f"{address} is a loopback, link-local or multicast address"
        if ip.is_unspecified or ip.is_reserved:
            return f"{address} is a reserved address"
        private = ip.is_private or ip in _CGNAT
        if private and not self.allow_private:
            return f"{address} is a private address this node does not let tasks reach"
        return None


@dataclass(frozen=True)
class ProxyRequest:
    """A request a client sent the proxy, in the parts the proxy needs."""

    method: str
    host: str
    port: int
    tunnel: bool  # CONNECT host:port
    head: bytes  # what to send upstream first (empty for a tunnel)


class BadRequest(ValueError):
    """The client did not send a proxy request we understand."""


def parse_request_head(head: bytes) -> ProxyRequest:
    """Parse a request head (up to and including the blank line)."""
    lines = head.split(b"\r\n")
    try:
        method, target, version = lines[0].decode("latin-1").split(" ")
    except ValueError:
        raise BadRequest("malformed request line") from None
    if not version.startswith("HTTP/1."):
        raise BadRequest(f"unsupported protocol {version!r}")
    if method == "CONNECT":
        host, port = _authority(target, default_port=443)
        return ProxyRequest(method, host, port, True, b"")
    url = urlsplit(target)
    if url.scheme != "http" or not url.hostname:
        raise BadRequest(
            "send absolute http:// URLs or CONNECT to this proxy "
            "(set http_proxy/https_proxy, which the node already does)"
        )
    try:
        port = url.port or 80
    except ValueError:
        raise BadRequest(f"bad port in {target!r}") from None
    path = url.path or "/"
    if url.query:
        path += "?" + url.query
    return ProxyRequest(
        method, url.hostname, port, False, _origin_head(method, path, version, lines)
    )


def _authority(target: str, default_port: int) -> tuple[str, int]:
    host, sep, port = target.rpartition(":")
    if not sep or host.endswith(":"):  # no port, or a bare IPv6 address
        host, port = target, str(default_port)
    if not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise BadRequest(f"bad CONNECT target {target!r}")
    return normalize_host(host), int(port)


_HOP_BY_HOP = (
    b"proxy-connection",
    b"proxy-authorization",
    b"connection",
    b"keep-alive",
)


def _origin_head(method: str, path: str, version: str, lines: list[bytes]) -> bytes:
    """The request as the origin server sees it, closing after one response."""
    kept = [
        line
        for line in lines[1:]
        if line and line.split(b":", 1)[0].strip().lower() not in _HOP_BY_HOP
    ]
    first = f"{method} {path} {version}".encode("latin-1")
    return b"\r\n".join([first, *kept, b"Connection: close", b"", b""])


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
