"""How long each phase of an execution took, read from the job's history.

The requester records every state an execution enters, with its time:
AskForBid (the node is asked), BidAccepted (it took the job: it now waits
for capacity, stages the inputs and starts the task), Running (the task
runs), Publishing (results are published), then Completed, Failed or
Cancelled. A phase lasts from the state that opens it to the next state
recorded; a state an execution skipped (a task shorter than the running
report's delay is reported only when it completes) leaves its phase out.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..models.history import JobHistory

# the state that opens each phase, in order; the name it is shown by
PHASES = (
    ("AskForBid", "bid"),
    ("BidAccepted", "start"),
    ("Running", "run"),
    ("Publishing", "publish"),
)
ENDS = frozenset({"AskForBidRejected", "Completed", "Failed", "Cancelled"})


def phases(events: Iterable[JobHistory]) -> list[tuple[str, float]]:
    """(phase, seconds) of one execution, from its history events in order."""
    opened: list[tuple[str, float]] = []  # (phase, when it opened)
    ended: float | None = None
    names = dict(PHASES)
    for event in events:
        state = event.Event.Details.get("NewState", "")
        moment = event.Time.timestamp()
        if state in names:
            opened.append((names[state], moment))
        elif state in ENDS:
            ended = moment
    marks = [t for _name, t in opened[1:]] + ([ended] if ended is not None else [])
    return [
        (name, max(end - began, 0.0))
        for (name, began), end in zip(opened, marks, strict=False)
    ]


def placement(history: Iterable[JobHistory]) -> float | None:
    """Seconds from the job's submission to its first bid ask, if both are known."""
    submitted = asked = None
    for event in history:
        if submitted is None:
            submitted = event.Time.timestamp()
        if event.Event.Details.get("NewState") == "AskForBid":
            asked = event.Time.timestamp()
            break
    if submitted is None or asked is None:
        return None
    return max(asked - submitted, 0.0)


def duration(seconds: float) -> str:
    """`seconds` for people: 850 ms, 3.2 s, 4m05s."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def phases_text(events: Iterable[JobHistory]) -> str:
    """`bid 3 ms · start 1 ms · run 1.2 s`, or "" when nothing is known."""
    return " · ".join(f"{name} {duration(s)}" for name, s in phases(events))


__all__ = ["PHASES", "duration", "phases", "phases_text", "placement"]
