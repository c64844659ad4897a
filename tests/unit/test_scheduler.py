"""The scheduler alone: made-up worlds in, plans and job states out.

No orchestrator, store, clock or network: each test builds a job record
and the node table, calls one reaction and reads the record and the plan.
The state-machine test drives random sequences of events and checks the
rules a user relies on after every step.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bacalao.models.states import ExecutionStateType, JobStateType, State
from bacalao.models.wire import Bid, ExecutionUpdate
from bacalao.network.nodes import NodeView
from bacalao.orchestrator.record import JobRecord
from bacalao.orchestrator.scheduler import Scheduler, SchedulerSettings, World

from .support import make_job, make_node

E = ExecutionStateType
J = JobStateType
SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND


def views(*node_ids: str, **node: Any) -> list[NodeView]:
    return [
        NodeView(make_node(n, **node), connected=True, seen_ago=0.0) for n in node_ids
    ]


def record(job_type: str = "batch", count: int = 1, **task: Any) -> JobRecord:
    job = make_job(
        "noop", ID="j-1", Type=job_type, Count=count, CreateTime=T0, task=task
    )
    job.State = State[JobStateType](StateType=J.Pending)  # as submitted
    return JobRecord(job=job)


def world(*node_ids: str, at: float = 0.0, **node: Any) -> World:
    return World(nodes=views(*node_ids, **node), now=at, now_ns=T0 + int(at * SECOND))


def accept(s: Scheduler, r: JobRecord, execution_id: str, w: World) -> None:
    s.on_bid(r, execution_id, Bid(ExecutionID=execution_id, Accepted=True), "", w)


def report(
    s: Scheduler, r: JobRecord, execution_id: str, state: E, w: World, **fields: Any
) -> str:
    node = r.executions[execution_id].NodeID
    update = ExecutionUpdate(
        JobID=r.job.ID, ExecutionID=execution_id, NodeID=node, State=state, **fields
    )
    return s.on_update(r, update, w).refused


SCHEDULER = Scheduler(SchedulerSettings(queue_timeout=10.0))


# -- placement, table-driven --------------------------------------------


@pytest.mark.parametrize(
    ("job_type", "count", "nodes", "asked"),
    [
        ("batch", 1, ["n-a", "n-b", "n-c"], 1),
        ("batch", 2, ["n-a", "n-b", "n-c"], 2),
        ("batch", 3, ["n-a"], 1),  # one slot per node: the rest must wait
        ("service", 2, ["n-a", "n-b"], 2),
        ("ops", 1, ["n-a", "n-b", "n-c"], 3),  # everywhere
        ("daemon", 1, ["n-a", "n-b"], 2),
    ],
)
def test_placement_asks_as_many_nodes_as_the_job_type_needs(
    job_type: str, count: int, nodes: list[str], asked: int
) -> None:
    r = record(job_type, count)
    plan = SCHEDULER.place(r, world(*nodes))
    assert len(plan.asks) == asked
    assert len({e.NodeID for e in plan.asks}) == asked  # never twice on one node
    assert all(e.state == E.AskForBid for e in plan.asks)


def test_a_job_waits_in_the_queue_for_a_node_then_fails_saying_why() -> None:
    r = record()
    plan = SCHEDULER.place(r, world())  # no compute node known yet
    assert not plan.asks
    assert plan.open_call  # asks the whole network
    assert r.state == J.Queued
    assert "no compute nodes are known" in r.job.State.Message
    SCHEDULER.place(r, world(at=11.0))
    assert r.state == J.Failed
    assert "after waiting 11 s in the queue" in r.job.State.Message


def test_a_job_no_known_node_can_ever_run_fails_at_once_naming_why() -> None:
    r = record()
    SCHEDULER.place(r, world("n-a", engines=("docker",)))
    assert r.state == J.Failed
    assert "do not support engine 'noop'" in r.job.State.Message


def test_a_job_with_its_own_queue_timeout_waits_for_a_big_enough_node() -> None:
    r = record(Timeouts={"QueueTimeout": 20}, Resources={"CPU": "1"})
    Scheduler(SchedulerSettings(queue_timeout=0)).place(r, world("n-a", cpu=0.1))
    assert r.state == J.Queued
    assert "too small" in r.job.State.Message


def test_an_accepted_bid_runs_the_job_and_completion_completes_it() -> None:
    r = record()
    [execution] = SCHEDULER.place(r, world("n-a")).asks
    accept(SCHEDULER, r, execution.ID, world())
    assert r.state == J.Running
    assert report(SCHEDULER, r, execution.ID, E.Completed, world()) == ""
    assert r.state == J.Completed
    assert r.executions[execution.ID].state == E.Completed


def test_a_declined_bid_places_the_job_on_another_node() -> None:
    r = record()
    [first] = SCHEDULER.place(r, world("n-a", "n-b")).asks
    busy = Bid(ExecutionID=first.ID, Accepted=False, Reason="busy: no slot")
    SCHEDULER.on_bid(r, first.ID, busy, "", world())
    [second] = SCHEDULER.place(r, world("n-a", "n-b")).asks
    assert second.NodeID != first.NodeID


def test_a_failed_execution_that_may_not_be_retried_fails_the_job() -> None:
    r = record()
    [execution] = SCHEDULER.place(r, world("n-a")).asks
    accept(SCHEDULER, r, execution.ID, world())
    report(SCHEDULER, r, execution.ID, E.Failed, world(), Message="exit code 3")
    assert r.state == J.Failed
    assert "exit code 3" in r.job.State.Message


def test_an_update_from_another_node_is_refused() -> None:
    r = record()
    [execution] = SCHEDULER.place(r, world("n-a")).asks
    forged = ExecutionUpdate(
        JobID="j-1", ExecutionID=execution.ID, NodeID="n-evil", State=E.Completed
    )
    assert "not given to you" in SCHEDULER.on_update(r, forged, world()).refused
    assert r.state != J.Completed


def test_a_lost_node_fails_its_execution_and_the_job_goes_elsewhere() -> None:
    r = record()
    [execution] = SCHEDULER.place(r, world("n-a", "n-b")).asks
    accept(SCHEDULER, r, execution.ID, world())
    SCHEDULER.on_node_lost(r, execution.NodeID, "node is gone")
    assert r.executions[execution.ID].state == E.Failed
    [again] = SCHEDULER.place(r, world("n-a", "n-b")).asks
    assert again.ID != execution.ID


def test_a_silent_node_loses_its_execution_on_the_timer() -> None:
    s = Scheduler(SchedulerSettings(execution_lease_timeout=45.0))
    r = record()
    [execution] = s.place(r, world("n-a", "n-b")).asks
    accept(s, r, execution.ID, world(at=0.0))
    assert s.on_timer(r, world(at=30.0)).expired == 0
    plan = s.on_timer(r, world(at=50.0))
    assert plan.expired == 1
    assert "stopped reporting" in r.executions[execution.ID].ComputeState.Message
    [again] = s.place(r, world("n-a", "n-b", at=50.0)).asks
    assert again.NodeID != execution.NodeID  # not back on the silent node


def test_queue_timeout_bounds_the_wait_in_a_busy_nodes_own_queue() -> None:
    r = record(Timeouts={"QueueTimeout": 3})
    [execution] = SCHEDULER.place(r, world("n-a")).asks
    accept(SCHEDULER, r, execution.ID, world())  # queued on the node
    SCHEDULER.on_timer(r, world(at=2.0))
    assert r.state == J.Running
    SCHEDULER.on_timer(r, world(at=3.5))
    assert r.state == J.Failed
    assert "did not start within its queue timeout of 3 s" in r.job.State.Message
    assert [c[0].ID for c in SCHEDULER.finish(r).cancels] == [execution.ID]


def test_queue_timeout_does_not_touch_a_job_that_started() -> None:
    r = record(Timeouts={"QueueTimeout": 3})
    [execution] = SCHEDULER.place(r, world("n-a")).asks
    accept(SCHEDULER, r, execution.ID, world())
    report(SCHEDULER, r, execution.ID, E.Running, world(at=1.0))
    SCHEDULER.on_timer(r, world(at=10.0))
    assert r.state == J.Running


def test_the_timer_wakes_for_the_queue_timeout() -> None:
    r = record(Timeouts={"QueueTimeout": 3})
    [execution] = SCHEDULER.place(r, world("n-a")).asks
    accept(SCHEDULER, r, execution.ID, world())
    assert SCHEDULER.wake_at(r, world(at=1.0)) == pytest.approx(3.0)


def test_an_ops_job_does_not_run_on_nodes_that_join_after_it_was_placed() -> None:
    r = record("ops")
    first = SCHEDULER.place(r, world("n-a", "n-b")).asks
    assert {e.NodeID for e in first} == {"n-a", "n-b"}
    later = SCHEDULER.place(r, world("n-a", "n-b", "n-late"))
    assert later.asks == []


def test_a_daemon_job_runs_on_nodes_that_join_later() -> None:
    r = record("daemon")
    SCHEDULER.place(r, world("n-a"))
    [late] = SCHEDULER.place(r, world("n-a", "n-late")).asks
    assert late.NodeID == "n-late"


def test_total_timeout_fails_the_job() -> None:
    r = record(Timeouts={"TotalTimeout": 5})
    SCHEDULER.place(r, world("n-a"))
    SCHEDULER.on_timer(r, world(at=6.0))
    assert r.state == J.Failed
    assert "TotalTimeout" in r.job.State.Message


def test_stop_ends_the_job_and_finish_cancels_what_runs() -> None:
    r = record("service", 2)
    asks = SCHEDULER.place(r, world("n-a", "n-b")).asks
    for execution in asks:
        accept(SCHEDULER, r, execution.ID, world())
    SCHEDULER.on_stop(r, "stopped by user")
    assert r.state == J.Stopped
    cancelled = SCHEDULER.finish(r).cancels
    assert sorted(e.ID for e, _ in cancelled) == sorted(e.ID for e in asks)
    assert all(e.state == E.Cancelled for e in r.executions.values())


def test_a_job_that_keeps_failing_gives_up() -> None:
    s = Scheduler(SchedulerSettings(max_attempts_per_slot=3))
    r = record()
    for _ in range(3):
        [execution] = s.place(r, world("n-a")).asks
        accept(s, r, execution.ID, world())
        retry = {"Retryable": "true"}
        report(s, r, execution.ID, E.Failed, world(), Message="oom", Details=retry)
        s.on_nodes_changed(r)  # the node is worth asking again
    s.place(r, world("n-a"))
    assert r.state == J.Failed
    assert "gave up after 3 executions failed" in r.job.State.Message


# -- random sequences of events ------------------------------------------

NODES = ("n-a", "n-b", "n-c")


class JobLife(RuleBasedStateMachine):
    """Any order of answers, reports, losses and ticks keeps the rules."""

    def __init__(self) -> None:
        super().__init__()
        self.s = Scheduler(SchedulerSettings(queue_timeout=30.0))
        self.r: JobRecord = record()
        self.now = 0.0

    @rule(
        job_type=st.sampled_from(["batch", "service", "ops"]), count=st.integers(1, 3)
    )
    @precondition(lambda self: not self.r.executions)
    def new_job(self, job_type: str, count: int) -> None:
        self.r = record(job_type, 1 if job_type == "ops" else count)

    def _world(self, nodes: bool = True) -> World:
        return world(*(NODES if nodes else ()), at=self.now)

    @rule()
    def place(self) -> None:
        plan = self.s.place(self.r, self._world())
        assert all(e.state == E.AskForBid for e in plan.asks)

    def _pick(self, data: st.DataObject, states: tuple[E, ...]) -> str | None:
        # in the order they were made: their IDs are random, so sorting them
        # would make hypothesis replay a different sequence
        ids = [e.ID for e in self.r.executions.values() if e.state in states]
        return data.draw(st.sampled_from(ids)) if ids else None

    @rule(data=st.data(), accepted=st.booleans())
    def bid_answer(self, data: st.DataObject, accepted: bool) -> None:
        execution_id = self._pick(data, (E.AskForBid,))
        if execution_id is not None:
            bid = Bid(ExecutionID=execution_id, Accepted=accepted, Reason="busy: x")
            self.s.on_bid(self.r, execution_id, bid, "", self._world(False))

    @rule(data=st.data(), state=st.sampled_from([E.Running, E.Completed, E.Failed]))
    def update(self, data: st.DataObject, state: E) -> None:
        execution_id = self._pick(data, (E.BidAccepted, E.Running))
        if execution_id is not None:
            details = {"Retryable": data.draw(st.sampled_from(["true", "false"]))}
            report(
                self.s, self.r, execution_id, state, self._world(False), Details=details
            )

    @rule(node=st.sampled_from(NODES))
    def node_lost(self, node: str) -> None:
        self.s.on_node_lost(self.r, node, "gone")

    @rule(seconds=st.floats(0.1, 60.0))
    def tick(self, seconds: float) -> None:
        self.now += seconds
        self.s.on_timer(self.r, self._world(False))

    @rule()
    def stop(self) -> None:
        if not self.r.terminal:
            self.s.on_stop(self.r, "stopped by user")

    @rule()
    def finish(self) -> None:
        if self.r.terminal:
            self.s.finish(self.r)

    @invariant()
    def never_more_running_than_count_allows(self) -> None:
        job = self.r.job
        running = [e for e in self.r.executions.values() if e.state.active]
        limit = len(NODES) if job.runs_everywhere else job.Count
        assert len(running) <= limit

    @invariant()
    def never_two_live_executions_on_one_node(self) -> None:
        nodes = [e.NodeID for e in self.r.executions.values() if e.state.active]
        assert len(nodes) == len(set(nodes))

    @invariant()
    def every_terminal_job_has_a_reason(self) -> None:
        if self.r.state in (J.Failed, J.Stopped):
            assert self.r.job.State.Message

    @invariant()
    def a_completed_batch_job_has_its_count_completed(self) -> None:
        if self.r.state == J.Completed and self.r.job.Type == "batch":
            done = [e for e in self.r.executions.values() if e.state == E.Completed]
            assert len(done) >= self.r.job.Count

    @invariant()
    def history_numbers_only_grow(self) -> None:
        seqs = [event.SeqNum for event in self.r.history]
        assert seqs == sorted(set(seqs))


JobLife.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_job_life = JobLife.TestCase
