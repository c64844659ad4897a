"""Counting and logging about peers: bounded however many peers misbehave."""

from __future__ import annotations

import logging

import pytest

from bacalao.p2p.ratelog import PeerCounts, PeerLog

LOGGER = "bacalao.test.peerlog"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_first_event_then_one_a_minute_with_the_count_held_back(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    log = PeerLog(logging.getLogger(LOGGER), clock=clock)
    assert log("peer-a", "bad message %d", 1)
    for i in range(500):
        clock.now += 0.1
        assert not log("peer-a", "bad message %d", i)
    clock.now += 11  # a minute after the first line
    assert log("peer-a", "bad message %s", "again")
    assert lines(caplog) == [
        "bad message 1",
        "bad message again (500 more from this peer not logged)",
    ]


def test_peers_are_limited_each_on_their_own(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    log = PeerLog(logging.getLogger(LOGGER), clock=clock)
    for _ in range(3):
        log("peer-a", "from a")
        log("peer-b", "from b")
    assert lines(caplog) == ["from a", "from b"]


def test_new_peer_ids_cannot_flood_the_log(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    log = PeerLog(logging.getLogger(LOGGER), budget=5, clock=clock)
    for i in range(1000):
        log(f"peer-{i}", "from %s", i)
    assert len(lines(caplog)) == 5
    clock.now += 60
    log("late", "a new minute")
    assert lines(caplog)[-1] == "a new minute (995 about other peers not logged)"


def test_memory_is_bounded(clock: Clock) -> None:
    log = PeerLog(logging.getLogger(LOGGER), max_peers=10, clock=clock)
    counts = PeerCounts(max_peers=10)
    for i in range(1000):
        log(f"peer-{i}", "x")
        counts.add(f"peer-{i}")
    assert len(log._peers) == 10
    assert len(counts.snapshot()) == 10


def test_counts_keep_recent_peers_highest_first() -> None:
    counts = PeerCounts(max_peers=2)
    for peer in ("a", "b", "b", "a", "b", "c"):
        counts.add(peer)
    assert counts.snapshot() == {"b": 3, "c": 1}
    assert list(counts.snapshot()) == ["b", "c"]
