"""Free loopback TCP ports, for the devstack's neighbours: demo, tests, bench."""

from __future__ import annotations

import socket
from collections.abc import Iterable

HOST = "127.0.0.1"


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether `port` can be bound on `host` right now."""
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    """A port the kernel considers free on `host` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def free_port_block(count: int, preferred: Iterable[int] = (), tries: int = 200) -> int:
    """A base port p with p .. p+count-1 all free: the first of `preferred`
    that fits, else one near a kernel-chosen port."""
    for base in preferred:
        if all(port_is_free(base + i) for i in range(count)):
            return base
    for _ in range(tries):
        base = free_port()
        if base + count < 65535 and all(port_is_free(base + i) for i in range(count)):
            return base
    raise OSError(f"no {count} consecutive free TCP ports on {HOST}")
