"""The HTTP-network policy and proxy, without Docker."""

from __future__ import annotations

from functools import partial

import pytest
import trio
import trio.testing

from bacalao.executors.http_policy import (
    BadRequest,
    HttpPolicy,
    domain_problem,
    parse_request_head,
)
from bacalao.executors.http_proxy import handle_client

POLICY = HttpPolicy(("example.com", ".pypi.org", "93.184.215.14"))


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("example.com", True),
        ("EXAMPLE.com.", True),
        ("www.example.com", False),
        ("pypi.org", True),
        ("files.pypi.org", True),
        ("notpypi.org", False),
        ("93.184.215.14", True),
        ("93.184.215.15", False),
    ],
)
def test_domains_match_as_squid_dstdomain(host: str, allowed: bool):
    assert (POLICY.host_refusal(host) is None) is allowed


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "reserved"),
        ("10.1.2.3", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fd00::1", "private"),
    ],
)
def test_addresses_the_proxy_will_not_dial(address: str, refused: str | None):
    reason = POLICY.address_refusal(address)
    assert (reason is None) if refused is None else refused in (reason or "")


def test_private_addresses_when_the_operator_allows_them():
    policy = HttpPolicy(("x",), allow_private=True)
    assert policy.address_refusal("10.1.2.3") is None
    assert policy.address_refusal("127.0.0.1") is not None


def test_domain_problems():
    assert domain_problem("example.com") is None
    assert domain_problem(".example.com") is None
    assert domain_problem("10.0.0.1") is None
    assert domain_problem("::1") is None
    assert domain_problem("exa mple.com") is not None
    assert domain_problem("http://example.com") is not None
    assert domain_problem(".") is not None


def test_parse_absolute_form_request():
    head = (
        b"GET http://example.com:8080/a?b=1 HTTP/1.1\r\nHost: example.com\r\n"
        b"Proxy-Connection: keep-alive\r\nUser-Agent: t\r\n\r\n"
    )
    request = parse_request_head(head)
    assert (request.host, request.port, request.tunnel) == ("example.com", 8080, False)
    assert request.head == (
        b"GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n"
        b"Connection: close\r\n\r\n"
    )


def test_parse_connect_request():
    request = parse_request_head(b"CONNECT pypi.org:443 HTTP/1.1\r\n\r\n")
    assert (request.host, request.port, request.tunnel) == ("pypi.org", 443, True)
    ipv6 = parse_request_head(b"CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n\r\n")
    assert (ipv6.host, ipv6.port) == ("2001:db8::1", 8443)


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
        b"GET ftp://example.com/ HTTP/1.1\r\n\r\n",
        b"CONNECT example.com:99999 HTTP/1.1\r\n\r\n",
        b"nonsense\r\n\r\n",
    ],
)
def test_bad_requests(head: bytes):
    with pytest.raises(BadRequest):
        parse_request_head(head)


async def ask_proxy(policy: HttpPolicy, request: bytes) -> bytes:
    """Send `request` to a proxy connection; what it answers."""
    client, server = trio.testing.lockstep_stream_pair()
    answer = b""
    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(handle_client, server, policy=policy))
        await client.send_all(request)
        while chunk := await client.receive_some():
            answer += chunk
    return answer


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"GET http://example.org/ HTTP/1.1\r\n\r\n", b"403 Forbidden (example.org is"),
        (b"CONNECT evil.org:443 HTTP/1.1\r\n\r\n", b"403 Forbidden (evil.org is"),
        (b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", b"400 Bad Request (send"),
        (
            b"CONNECT localhost:22 HTTP/1.1\r\n\r\n",
            b"403 Forbidden (localhost resolves",
        ),
    ],
)
async def test_the_proxy_says_why_it_refuses(request_head: bytes, status: bytes):
    policy = HttpPolicy(("example.com", "localhost"))
    with trio.fail_after(5):
        answer = await ask_proxy(policy, request_head)
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert b"\r\n\r\nbacalao: " in answer
