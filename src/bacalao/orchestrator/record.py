"""One job's live state on its requester, and the rules that change it.

`JobRecord` holds a job, its executions and its history in memory while
the job is active. Its methods change that state and collect the change
(`take_change`) so the caller can persist it in one transaction before
acting on it. Nothing here does I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..jobstore import Change
from ..models.execution import Execution, RunCommandResult
from ..models.history import Event, JobHistory, JobHistoryType, StateChange
from ..models.ids import new_execution_id, now_ns, short_node_id
from ..models.job import Job, SpecConfig
from ..models.states import (
    ExecutionDesiredStateType,
    ExecutionStateType,
    JobStateType,
    State,
)

E = ExecutionStateType

# Execution states in the order they may be entered; terminal ones share a rank.
_RANK = {
    E.Undefined: 0,
    E.New: 1,
    E.AskForBid: 2,
    E.AskForBidAccepted: 3,
    E.BidAccepted: 4,
    E.Running: 5,
    E.Publishing: 6,
}
_TERMINAL_RANK = 9


def is_forward(old: ExecutionStateType, new: ExecutionStateType) -> bool:
    """Whether an execution may move from `old` to `new` (never backwards)."""
    if old.terminal:
        return False
    return _RANK.get(new, _TERMINAL_RANK) > _RANK.get(old, _TERMINAL_RANK)


@dataclass
class Declined:
    """Why a node will not (now) run this job; transient ones are retried."""

    reason: str
    transient: bool


@dataclass
class JobRecord:
    job: Job
    executions: dict[str, Execution] = field(default_factory=dict)
    history: list[JobHistory] = field(default_factory=list)
    declined: dict[str, Declined] = field(default_factory=dict)
    queued_since: float | None = None
    # when each accepted execution was last named by its node (trio clock;
    # not persisted: a resumed job gives every execution a fresh lease)
    alive_at: dict[str, float] = field(default_factory=dict)
    checked_at: float = -math.inf  # when the timer checks last ran
    # the version that replaces this one (a new spec under the job's name,
    # or a rerun): this version's task ends, its executions are cancelled
    superseded_by: int = 0
    _change: Change = field(default_factory=Change)

    def __post_init__(self) -> None:
        # executions of earlier versions ended with them; they stay stored
        self.executions = {
            key: e
            for key, e in self.executions.items()
            if e.JobVersion in (0, self.job.Version)
        }

    @property
    def state(self) -> JobStateType:
        return self.job.State.StateType

    @property
    def terminal(self) -> bool:
        """Whether this version of the job has ended (or been superseded)."""
        return self.state.terminal or self.superseded_by > 0

    def ending(self) -> str:
        """Why the executions left when this version ends are cancelled."""
        if self.superseded_by:
            return f"job updated to version {self.superseded_by}"
        reason = f"job {self.state.name.lower()}"
        if self.job.State.Message:
            reason += f": {self.job.State.Message}"
        return reason

    # -- reading ---------------------------------------------------------

    def live(self) -> list[Execution]:
        """Executions that hold or will hold a slot: active or completed."""
        return [
            e
            for e in self.executions.values()
            if e.state.active or e.state == E.Completed
        ]

    def active(self) -> list[Execution]:
        return [e for e in self.executions.values() if e.state.active]

    def slots_wanted(self) -> int:
        """How many more executions a Count-based job needs."""
        return max(self.job.Count - len(self.live()), 0)

    def outcome(self) -> tuple[JobStateType, str] | None:
        """The terminal state the executions have led the job to, if any."""
        if self.terminal:
            return None
        done = [e for e in self.executions.values() if e.state == E.Completed]
        if self.job.Type == "batch" and len(done) >= self.job.Count:
            return JobStateType.Completed, ""
        if self.job.Type == "ops" and done and not self.active():
            return JobStateType.Completed, ""
        return None

    # -- changing --------------------------------------------------------

    def take_change(self) -> Change:
        change, self._change = self._change, Change()
        if change.job is not None or change.executions or change.events:
            self.job.Revision += 1
            self.job.ModifyTime = now_ns()
            change.job = self.job
        return change

    def set_state(
        self, new: JobStateType, message: str = "", *, event: str = ""
    ) -> None:
        old = self.state
        if old == new and self.job.State.Message == message:
            return
        self.job.State = State[JobStateType](StateType=new, Message=message)
        self._change.job = self.job
        text = event or (new.name + (f". {message}" if message else ""))
        self.add_event(
            text,
            "State Update" if not event else "Scheduling",
            details={"NewState": new.name},
            job_state=StateChange[JobStateType](Previous=old, New=new),
        )

    def add_event(
        self,
        message: str,
        topic: str,
        *,
        execution: Execution | None = None,
        details: dict[str, str] | None = None,
        job_state: StateChange[JobStateType] | None = None,
        exec_state: StateChange[ExecutionStateType] | None = None,
    ) -> None:
        seq = (self.history[-1].SeqNum + 1) if self.history else 1
        event = JobHistory(
            SeqNum=seq,
            Type=JobHistoryType.ExecutionLevel
            if execution
            else JobHistoryType.JobLevel,
            JobID=self.job.ID,
            JobVersion=self.job.Version,
            ExecutionID=execution.ID if execution else "",
            NodeID=execution.NodeID if execution else "",
            Event=Event(Message=message, Topic=topic, Details=details or {}),
            JobState=job_state,
            ExecutionState=exec_state,
        )
        self.history.append(event)
        self._change.events.append(event)

    def new_execution(
        self, node_id: str, evaluation_id: str, why: str = ""
    ) -> Execution:
        execution = Execution(
            ID=new_execution_id(),
            Namespace=self.job.Namespace,
            EvalID=evaluation_id,
            Name=self.job.Name,
            NodeID=node_id,
            JobID=self.job.ID,
            JobVersion=self.job.Version,
            DesiredState=State[ExecutionDesiredStateType](
                StateType=ExecutionDesiredStateType.Pending
            ),
            ComputeState=State[ExecutionStateType](StateType=E.New),
            CreateTime=now_ns(),
            ModifyTime=now_ns(),
        )
        self.executions[execution.ID] = execution
        self.add_event(
            f"Requested execution on {short_node_id(node_id)}"
            + (f" ({why})" if why else ""),
            "Scheduling",
            details={"NodeID": node_id, **({"Reason": why} if why else {})},
        )
        self.move(execution, E.AskForBid)
        return execution

    def move(
        self,
        execution: Execution,
        new: ExecutionStateType,
        message: str = "",
        *,
        desired: ExecutionDesiredStateType | None = None,
        details: dict[str, str] | None = None,
        run_output: RunCommandResult | None = None,
        published: SpecConfig | None = None,
    ) -> None:
        old = execution.state
        execution.ComputeState = State[ExecutionStateType](
            StateType=new, Message=message
        )
        if desired is not None:
            execution.DesiredState = State[ExecutionDesiredStateType](StateType=desired)
        elif new.terminal:
            execution.DesiredState = State[ExecutionDesiredStateType](
                StateType=ExecutionDesiredStateType.Stopped, Message=message
            )
        if run_output is not None:
            execution.RunOutput = run_output
        if published is not None:
            execution.PublishedResult = published
        execution.Revision += 1
        execution.ModifyTime = now_ns()
        if execution not in self._change.executions:
            self._change.executions.append(execution)
        text = _EXECUTION_MESSAGES.get(new, new.name)
        if message:
            text = f"{text}: {message}" if text else message
        self.add_event(
            text,
            "Execution",
            execution=execution,
            details={**(details or {}), "NewState": new.name},
            exec_state=StateChange[ExecutionStateType](Previous=old, New=new),
        )


_EXECUTION_MESSAGES = {
    E.AskForBid: "Asked to bid",
    E.AskForBidAccepted: "Bid accepted by node",
    E.AskForBidRejected: "Node declined",
    E.BidAccepted: "Bid accepted, execution starting",
    E.BidRejected: "Bid not needed",
    E.Running: "Running",
    E.Publishing: "Publishing results",
    E.Completed: "Completed successfully",
    E.Failed: "Failed",
    E.Cancelled: "Cancelled",
}


def record_from_snapshot(
    job: Job, executions: list[Execution], history: list[JobHistory]
) -> JobRecord:
    return JobRecord(job=job, executions={e.ID: e for e in executions}, history=history)
