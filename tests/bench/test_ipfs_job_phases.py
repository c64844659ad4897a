"""Figure 14 splits a job's time into phases from server-side clocks: the
job's CreateTime/ModifyTime, its history's BidAccepted event and the
container's docker events. The phases must add up to the job's total and
a missing clock must be an error, not a silent zero."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fig_ipfs_job import PHASES, job_spec, phases
from harness import BenchError

T0 = 1_800_000_000_000_000_000  # ns since the epoch, on a whole second
MS = 1_000_000


def _history(ns: int, state: str = "BidAccepted") -> dict:
    stamp = datetime.fromtimestamp(ns / 1e9, UTC).isoformat().replace("+00:00", "Z")
    event = {"Timestamp": stamp, "Details": {"NewState": state}}
    return {"Type": "ExecutionLevel", "Event": event}


def _events(create: int, start: int, die: int) -> list[dict]:
    marks = {"create": create, "start": start, "die": die, "destroy": die + 5 * MS}
    return [
        {"Type": "container", "Action": action, "timeNano": ns}
        for action, ns in marks.items()
    ] + [{"Type": "network", "Action": "connect", "timeNano": T0}]


def test_phases_split_the_job_total_at_each_clock() -> None:
    job = {"ID": "j-1", "CreateTime": T0, "ModifyTime": T0 + 2_000 * MS}
    history = [_history(T0 + 2 * MS, "AskForBid"), _history(T0 + 10 * MS)]
    got = phases(
        job, history, _events(T0 + 1_510 * MS, T0 + 1_810 * MS, T0 + 1_850 * MS)
    )
    assert got["schedule"] == pytest.approx(10)
    assert got["stage"] == pytest.approx(1_500)
    assert got["start"] == pytest.approx(300)
    assert got["task"] == pytest.approx(40)
    assert got["finish"] == pytest.approx(150)
    assert sum(got[p] for p in PHASES) == pytest.approx(got["server"])
    assert got["server"] == pytest.approx(2_000)


def test_a_job_without_its_container_events_is_an_error() -> None:
    job = {"ID": "j-2", "CreateTime": T0, "ModifyTime": T0 + 100 * MS}
    events = [e for e in _events(T0, T0, T0) if e["Action"] != "start"]
    with pytest.raises(BenchError, match="j-2"):
        phases(job, [_history(T0 + MS)], events)


def test_the_job_is_pinned_to_the_runner_and_mounts_its_input() -> None:
    spec = job_spec("QmTarget")
    assert spec["Constraints"] == [
        {"Key": "bench-role", "Operator": "=", "Values": ["runner"]}
    ]
    task = spec["Tasks"][0]
    assert task["InputSources"][0]["Source"]["Params"] == {"CID": "QmTarget"}
    assert task["Engine"]["Params"]["Parameters"] == ["ls", "-l", "/data"]
    assert "InputSources" not in job_spec(None)["Tasks"][0]
