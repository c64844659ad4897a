"""The phases of a job's walk, read from its history events.

The requester records every state an execution enters, with its time:
AskForBid (the node is asked), BidAccepted (it took the job: it now waits
for capacity, stages the inputs and starts the task), Running (the task
runs), Publishing (results are published), then Completed, Failed or
Cancelled. A phase lasts from the state that opens it to the next state
recorded; a state an execution skipped (a task shorter than the running
report's delay is reported only when it completes) leaves its phase out.
Placement runs from the job's first event (its submission) to its first
bid ask. `job describe` shows these; the requester's trace spans use them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .history import JobHistory

# the state that opens each phase, in order, and the phase's name
OPENS = {
    "AskForBid": "bid",
    "BidAccepted": "start",
    "Running": "run",
    "Publishing": "publish",
}
ENDS = frozenset({"AskForBidRejected", "Completed", "Failed", "Cancelled"})


@dataclass(frozen=True)
class Phase:
    """One phase and when it began and ended."""

    name: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return max((self.end - self.start).total_seconds(), 0.0)


def new_state(event: JobHistory) -> str:
    """The execution state an event records entering, or ""."""
    return event.Event.Details.get("NewState", "")


def execution_phases(events: Iterable[JobHistory]) -> list[Phase]:
    """The phases of one execution, from its history events in order."""
    opened: list[tuple[str, datetime]] = []
    ended: datetime | None = None
    for event in events:
        state = new_state(event)
        if state in OPENS:
            opened.append((OPENS[state], event.Time))
        elif state in ENDS:
            ended = event.Time
    marks = [t for _name, t in opened[1:]] + ([ended] if ended is not None else [])
    return [
        Phase(name, began, max(end, began))
        for (name, began), end in zip(opened, marks, strict=False)
    ]


def placement(history: Iterable[JobHistory]) -> Phase | None:
    """From the job's submission to its first bid ask, if both are known."""
    submitted: datetime | None = None
    for event in history:
        if submitted is None:
            submitted = event.Time
        if new_state(event) == "AskForBid":
            return Phase("place", submitted, max(event.Time, submitted))
    return None


__all__ = ["ENDS", "OPENS", "Phase", "execution_phases", "new_state", "placement"]
