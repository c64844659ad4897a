"""Keep an `HTTP`-network task away from this machine's own services.

An internal Docker network has no route out, but its containers still
reach the host itself (Docker routes them to the bridge address), so a
task could talk to any service of the node's machine that listens on all
interfaces. `host_guard` closes that: while the task runs, the host's
INPUT chain rejects everything arriving on the task network's bridge
except connections to the task's proxy port. The rules carry a comment
naming this node, so `remove_leftover_rules` can clear those of a node that
crashed.

It needs `iptables` and root. Where either is missing the guard does
nothing and says so once in the log (the proxy still holds the task to its
domains; only the host's own open ports stay reachable).
"""

from __future__ import annotations

import itertools
import logging
import os
import shlex
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

logger = logging.getLogger(__name__)

_COMMENT = "bacalao:"
_LOCK_WAIT = "5"  # seconds to wait for the xtables lock
_warned = False


def bridge_name(network_id: str) -> str:
    """The host interface Docker made for a bridge network."""
    return "br-" + network_id[:12]


def guard_rules(bridge: str, port: int, tag: str) -> list[list[str]]:
    """The rules, in insertion order (each goes first: the last one wins first)."""
    on = ["-i", bridge, "-m", "comment", "--comment", _COMMENT + tag]
    tcp = [*on, "-p", "tcp"]
    return [
        [*on, "-j", "REJECT"],
        [*tcp, "-j", "REJECT", "--reject-with", "tcp-reset"],
        [*tcp, "--dport", str(port), "-j", "ACCEPT"],
    ]


def _usable() -> str | None:
    global _warned
    path = shutil.which("iptables")
    if path is not None and os.geteuid() == 0:
        return path
    if not _warned:
        _warned = True
        logger.warning(
            "iptables is not usable (missing, or not root): HTTP-network tasks "
            "can reach services of this machine that listen on all interfaces"
        )
    return None


async def _iptables(binary: str, *args: str) -> bool:
    result = await trio.run_process(
        [binary, "-w", _LOCK_WAIT, *args],
        check=False,
        capture_stdout=True,
        capture_stderr=True,
    )
    if result.returncode != 0:
        logger.warning("iptables %s failed: %s", " ".join(args), result.stderr.decode())
    return result.returncode == 0


@asynccontextmanager
async def host_guard(bridge: str, port: int, tag: str) -> AsyncIterator[None]:
    """Reject traffic from `bridge` to this host, but for `port`, in the block."""
    binary = await trio.to_thread.run_sync(_usable)
    if binary is None:
        yield
        return
    added = []
    try:
        for rule in guard_rules(bridge, port, tag):
            if await _iptables(binary, "-I", "INPUT", *rule):
                added.append(rule)
        yield
    finally:
        with trio.CancelScope(shield=True):
            for rule in reversed(added):
                await _iptables(binary, "-D", "INPUT", *rule)


async def remove_leftover_rules(tag: str) -> None:
    """Delete the guard rules a crashed run of node `tag` left behind."""
    binary = await trio.to_thread.run_sync(_usable)
    if binary is None:
        return
    listing = await trio.run_process(
        [binary, "-w", _LOCK_WAIT, "-S", "INPUT"], check=False, capture_stdout=True
    )
    for line in listing.stdout.decode().splitlines():
        words = shlex.split(line)
        if words[:2] == ["-A", "INPUT"] and _COMMENT + tag in _comments(words):
            await _iptables(binary, "-D", *words[1:])


def _comments(words: list[str]) -> list[str]:
    return [b for a, b in itertools.pairwise(words) if a == "--comment"]


__all__ = ["bridge_name", "guard_rules", "host_guard", "remove_leftover_rules"]
