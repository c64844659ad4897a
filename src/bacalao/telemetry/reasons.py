"""Why a bid was declined, as one of a few label values.

A compute node's decline reason is free text ("busy: 2 running, 0 queued
...", "engine 'docker' is not available on this node", ...) written by a
peer; a metric label must come from a small fixed set, so `bid_reason`
maps any text to one of `BID_REASONS`. The first rule that matches wins.
"""

from __future__ import annotations

BID_REASONS = ("busy", "resources", "engine", "storage", "unreachable", "other")

_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("unreachable", ("could not ask", "unreachable", "timed out", "timeout")),
    ("busy", ("busy",)),
    ("resources", ("needs more", "resources", "memory", "cpu", "gpu", "disk")),
    ("storage", ("input source", "publisher", "storage", "s3", "ipfs", "url")),
    ("engine", ("engine", "image", "network type", "docker", "wasm", "noop")),
)


def bid_reason(text: str) -> str:
    """The `BID_REASONS` value that sums up a decline `text`."""
    lowered = text.lower()
    for reason, words in _RULES:
        if any(word in lowered for word in words):
            return reason
    return "other"


__all__ = ["BID_REASONS", "bid_reason"]
