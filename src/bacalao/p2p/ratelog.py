"""Counting and logging events about peers, bounded against hostile peers.

`PeerCounts` counts events per peer for the `max_peers` peers seen last.
`PeerLog` logs the first event about a peer, then at most one per peer
per `interval` (saying how many it held back in between), and at most
`budget` lines per `interval` in all, since peer IDs cost nothing to make.
It remembers the `max_peers` peers it heard of last.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Seen:
    last: float
    held: int = 0


class PeerCounts:
    """Events per peer, for the `max_peers` peers with the latest events;
    `live` is the mapping itself (read it, do not change it)."""

    def __init__(self, max_peers: int = 1024) -> None:
        self._max_peers = max_peers
        self._counts: OrderedDict[str, int] = OrderedDict()
        self.live: dict[str, int] = self._counts

    def add(self, peer: str) -> None:
        self._counts[peer] = self._counts.get(peer, 0) + 1
        self._counts.move_to_end(peer)
        while len(self._counts) > self._max_peers:
            self._counts.popitem(last=False)

    def snapshot(self) -> dict[str, int]:
        """A copy, highest counts first."""
        return dict(sorted(self._counts.items(), key=lambda kv: -kv[1]))


class PeerLog:
    """Rate-limited log lines about peers (see the module docstring)."""

    def __init__(
        self,
        logger: logging.Logger,
        level: int = logging.WARNING,
        *,
        interval: float = 60.0,
        budget: int = 30,
        max_peers: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._level = level
        self._interval = interval
        self._budget = budget
        self._max_peers = max_peers
        self._clock = clock
        self._peers: OrderedDict[str, _Seen] = OrderedDict()
        self._window_start = -interval
        self._window_lines = 0
        self._held_over_budget = 0

    def __call__(self, peer: str, message: str, *args: object) -> bool:
        """Log `message % args` about `peer` unless held back; True if logged."""
        now = self._clock()
        seen = self._peers.get(peer)
        if seen is not None and now - seen.last < self._interval:
            seen.held += 1
            return False
        if not self._spend(now):
            if seen is not None:
                seen.held += 1
            return False
        held = seen.held if seen is not None else 0
        self._remember(peer, _Seen(now))
        self._emit(message, args, held)
        return True

    def _spend(self, now: float) -> bool:
        if now - self._window_start >= self._interval:
            self._window_start, self._window_lines = now, 0
        if self._window_lines >= self._budget:
            self._held_over_budget += 1
            return False
        self._window_lines += 1
        return True

    def _remember(self, peer: str, seen: _Seen) -> None:
        self._peers[peer] = seen
        self._peers.move_to_end(peer)
        while len(self._peers) > self._max_peers:
            self._peers.popitem(last=False)

    def _emit(self, message: str, args: tuple[object, ...], held: int) -> None:
        extra = []
        if held:
            extra.append(f"{held} more from this peer not logged")
        if self._held_over_budget:
            extra.append(f"{self._held_over_budget} about other peers not logged")
            self._held_over_budget = 0
        if extra:
            message = f"{message} ({'; '.join(extra)})"
        self._logger.log(self._level, message, *args)


__all__ = ["PeerCounts", "PeerLog"]
