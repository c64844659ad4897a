"""How long placement and each phase of an execution took, for people.

The phases come from `bacalao.models.phases` (read from the job's
history); this module only writes them: `bid 3 ms · start 1 ms · run 1.2 s`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..models.history import JobHistory
from ..models.phases import execution_phases
from ..models.phases import placement as _placement


def phases(events: Iterable[JobHistory]) -> list[tuple[str, float]]:
    """(phase, seconds) of one execution, from its history events in order."""
    return [(p.name, p.seconds) for p in execution_phases(events)]


def placement(history: Iterable[JobHistory]) -> float | None:
    """Seconds from the job's submission to its first bid ask, if known."""
    found = _placement(history)
    return None if found is None else found.seconds


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


__all__ = ["duration", "phases", "phases_text", "placement"]
