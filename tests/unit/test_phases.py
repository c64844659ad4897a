"""`job describe` phase durations, from an execution's history events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bacalao.cli.phases import duration, phases, phases_text, placement
from bacalao.models.history import Event, JobHistory

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STATES = ("AskForBid", "AskForBidAccepted", "BidAccepted", "Running")
STATES += ("Publishing", "Completed", "Failed", "AskForBidRejected", "")


def event(state: str, ms: float) -> JobHistory:
    details = {"NewState": state} if state else {}
    return JobHistory(
        JobID="j-1",
        Event=Event(Message=state, Details=details),
        Time=T0 + timedelta(milliseconds=ms),
    )


def test_each_phase_lasts_until_the_next_state() -> None:
    walk = [
        event("AskForBid", 0),
        event("AskForBidAccepted", 2),
        event("BidAccepted", 3),
        event("Running", 60),
        event("Publishing", 1060),
        event("Completed", 1300),
    ]
    assert [(name, round(s, 6)) for name, s in phases(walk)] == [
        ("bid", 0.003),
        ("start", 0.057),
        ("run", 1.0),
        ("publish", 0.24),
    ]
    assert phases_text(walk) == "bid 3 ms · start 57 ms · run 1.0 s · publish 240 ms"


def test_a_declined_bid_has_only_its_bid_phase() -> None:
    walk = [event("AskForBid", 0), event("AskForBidRejected", 5)]
    assert [n for n, _ in phases(walk)] == ["bid"]


def test_an_unfinished_phase_is_left_out() -> None:
    assert [n for n, _ in phases([event("AskForBid", 0), event("BidAccepted", 4)])] == [
        "bid"
    ]


def test_placement_runs_from_submission_to_the_first_ask() -> None:
    history = [
        event("", 0),
        event("", 5),
        event("AskForBid", 12),
        event("AskForBid", 90),
    ]
    assert placement(history) is not None
    assert round(placement(history) or 0, 6) == 0.012
    assert placement([event("", 0)]) is None


@given(st.lists(st.tuples(st.sampled_from(STATES), st.floats(0, 1e7)), max_size=20))
def test_phases_are_known_names_never_negative(steps: list[tuple[str, float]]) -> None:
    found = phases([event(state, ms) for state, ms in steps])
    assert all(name in {"bid", "start", "run", "publish"} for name, _ in found)
    assert all(seconds >= 0 for _, seconds in found)


def test_durations_read_well() -> None:
    assert duration(0.0004) == "0 ms"
    assert duration(0.85) == "850 ms"
    assert duration(3.21) == "3.2 s"
    assert duration(245) == "4m05s"
