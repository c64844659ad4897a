"""A job's live record: forward-only execution states, outcomes, changes."""

from __future__ import annotations

import itertools

import pytest

from bacalao.models.history import JobHistoryType
from bacalao.models.states import (
    ExecutionDesiredStateType,
    ExecutionStateType,
    JobStateType,
)
from bacalao.orchestrator.record import JobRecord, is_forward

from .support import make_job

E = ExecutionStateType
HAPPY_PATH = [
    E.New,
    E.AskForBid,
    E.AskForBidAccepted,
    E.BidAccepted,
    E.Running,
    E.Publishing,
]
TERMINAL = [s for s in ExecutionStateType if s.terminal]


def record(job_type: str = "batch", count: int = 1) -> JobRecord:
    job = make_job("noop", ID="j-1", Type=job_type, Count=count, Version=1, Revision=1)
    return JobRecord(job=job)


@pytest.mark.parametrize(("old", "new"), list(itertools.combinations(HAPPY_PATH, 2)))
def test_moving_along_the_happy_path_is_forward(old: E, new: E) -> None:
    assert is_forward(old, new)
    assert not is_forward(new, old)


@pytest.mark.parametrize("new", TERMINAL)
@pytest.mark.parametrize("old", HAPPY_PATH)
def test_any_live_state_may_end(old: E, new: E) -> None:
    assert is_forward(old, new)


@pytest.mark.parametrize("new", list(ExecutionStateType))
@pytest.mark.parametrize("old", TERMINAL)
def test_nothing_leaves_a_terminal_state(old: E, new: E) -> None:
    assert not is_forward(old, new)


@pytest.mark.parametrize("state", list(ExecutionStateType))
def test_staying_put_is_not_forward(state: E) -> None:
    assert not is_forward(state, state)


def test_new_execution_is_asked_to_bid_and_logged() -> None:
    rec = record()
    execution = rec.new_execution("node-abcdefgh1234", "eval-1")
    assert execution.ID.startswith("e-")
    assert execution.state is E.AskForBid
    assert execution.NodeID == "node-abcdefgh1234"
    assert (execution.JobID, execution.EvalID, execution.JobVersion) == (
        "j-1",
        "eval-1",
        1,
    )
    messages = [h.Event.Message for h in rec.history]
    assert messages == ["Requested execution on efgh1234", "Asked to bid"]
    assert rec.history[0].Event.Details == {"NodeID": "node-abcdefgh1234"}
    assert rec.history[1].Type is JobHistoryType.ExecutionLevel
    assert rec.history[1].ExecutionID == execution.ID


def test_slots_wanted_counts_live_and_completed_executions() -> None:
    rec = record(count=3)
    assert rec.slots_wanted() == 3
    running = rec.new_execution("a", "v")
    rec.move(running, E.Running)
    done = rec.new_execution("b", "v")
    rec.move(done, E.Completed)
    failed = rec.new_execution("c", "v")
    rec.move(failed, E.Failed)
    assert rec.slots_wanted() == 1
    assert {e.ID for e in rec.live()} == {running.ID, done.ID}
    assert [e.ID for e in rec.active()] == [running.ID]


def test_batch_job_completes_when_count_executions_completed() -> None:
    rec = record(count=2)
    first, second = rec.new_execution("a", "v"), rec.new_execution("b", "v")
    rec.move(first, E.Completed)
    assert rec.outcome() is None
    rec.move(second, E.Completed)
    assert rec.outcome() == (JobStateType.Completed, "")


def test_failed_execution_alone_does_not_end_a_batch_job() -> None:
    rec = record()
    rec.move(rec.new_execution("a", "v"), E.Failed)
    assert rec.outcome() is None


def test_ops_job_completes_when_all_its_executions_are_done() -> None:
    rec = record("ops", 0)
    first, second = rec.new_execution("a", "v"), rec.new_execution("b", "v")
    rec.move(first, E.Completed)
    assert rec.outcome() is None  # one still running
    rec.move(second, E.Failed)
    assert rec.outcome() == (JobStateType.Completed, "")


@pytest.mark.parametrize("job_type", ["service", "daemon"])
def test_long_running_jobs_never_complete_by_themselves(job_type: str) -> None:
    rec = record(job_type, 1 if job_type == "service" else 0)
    rec.move(rec.new_execution("a", "v"), E.Completed)
    assert rec.outcome() is None


def test_terminal_job_has_no_outcome() -> None:
    rec = record()
    rec.move(rec.new_execution("a", "v"), E.Completed)
    rec.set_state(JobStateType.Stopped, "by user")
    assert rec.terminal
    assert rec.outcome() is None


def test_take_change_bumps_revision_and_collects_events_in_order() -> None:
    rec = record()
    execution = rec.new_execution("a", "v")
    rec.set_state(JobStateType.Running)
    change = rec.take_change()
    assert change.job is rec.job
    assert rec.job.Revision == 2
    assert rec.job.ModifyTime > 0
    assert change.executions == [execution]
    seqs = [e.SeqNum for e in change.events]
    assert seqs == [1, 2, 3]

    rec.move(execution, E.Completed)
    second = rec.take_change()
    assert rec.job.Revision == 3
    assert [e.SeqNum for e in second.events] == [4]
    assert second.executions == [execution]


def test_take_change_without_changes_changes_nothing() -> None:
    rec = record()
    change = rec.take_change()
    assert change.job is None
    assert change.executions == []
    assert change.events == []
    assert rec.job.Revision == 1


def test_each_change_is_taken_once() -> None:
    rec = record()
    rec.set_state(JobStateType.Queued, "waiting for nodes")
    assert len(rec.take_change().events) == 1
    assert rec.take_change().events == []


def test_set_state_records_the_transition() -> None:
    rec = record()
    rec.set_state(JobStateType.Failed, "no nodes")
    event = rec.history[-1]
    assert rec.state is JobStateType.Failed
    assert event.Event.Message == "Failed. no nodes"
    assert event.Event.Topic == "State Update"
    assert event.Event.Details == {"NewState": "Failed"}
    assert event.JobState is not None
    assert (event.JobState.Previous, event.JobState.New) == (
        JobStateType.Undefined,
        JobStateType.Failed,
    )


def test_setting_the_same_state_twice_logs_once() -> None:
    rec = record()
    rec.set_state(JobStateType.Running)
    rec.set_state(JobStateType.Running)
    assert len(rec.history) == 1


def test_moving_to_a_terminal_state_stops_the_execution() -> None:
    rec = record()
    execution = rec.new_execution("a", "v")
    revision = execution.Revision
    rec.move(execution, E.Failed, "exit 1")
    assert execution.DesiredState.StateType is ExecutionDesiredStateType.Stopped
    assert execution.ComputeState.Message == "exit 1"
    assert execution.Revision == revision + 1
    assert rec.history[-1].Event.Message == "Failed: exit 1"
    assert rec.history[-1].ExecutionState is not None
    assert rec.history[-1].ExecutionState.Previous is E.AskForBid
