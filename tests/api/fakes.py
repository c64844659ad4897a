"""A fake `Backend` for API, client and CLI tests: jobs in dicts, no network.

Jobs submitted to it can move on their own: with `auto_run` set, every
`get_job` call advances the job one step along a scripted run (Pending,
Running, then Completed or Failed), so a polling client sees each state
without the test sleeping. A noop job's `Stdout`/`Fail` params choose what
the run prints and whether it fails.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from bacalao.api.backend import LogLine, Submitted
from bacalao.events import EventHub, Subscription
from bacalao.models.execution import Execution, RunCommandResult
from bacalao.models.history import Event, JobHistory, JobHistoryType
from bacalao.models.ids import new_execution_id, new_job_id
from bacalao.models.job import Job, SpecConfig
from bacalao.models.node import BuildVersionInfo, ComputeNodeInfo, NodeInfo, NodeState
from bacalao.models.resources import Resources
from bacalao.models.states import ExecutionStateType, JobStateType, State
from bacalao.orchestrator.exceptions import (
    AmbiguousJobID,
    InvalidJob,
    JobNotFound,
    NotFound,
    Unavailable,
)

NODE_ID = "n-0f1e2d3c-aaaa-bbbb-cccc-000000000001"


def job_spec(engine: str = "noop", **params: object) -> dict[str, object]:
    """A minimal job spec as a client would send it."""
    return {
        "Type": "batch",
        "Tasks": [{"Name": "main", "Engine": {"Type": engine, "Params": params}}],
    }


def make_node(node_id: str, **overrides: object) -> NodeState:
    labels = overrides.pop("labels", {})
    cpu = float(overrides.pop("cpu", 2.0))  # type: ignore[arg-type]
    info = NodeInfo(
        NodeID=node_id,
        Labels=labels,  # type: ignore[arg-type]
        ComputeNodeInfo=ComputeNodeInfo(
            ExecutionEngines=["noop", "docker"],
            AvailableCapacity=Resources(CPU=cpu, Memory=2**30),
            MaxCapacity=Resources(CPU=4, Memory=2**31),
        ),
    )
    return NodeState(Info=info, **overrides)  # type: ignore[arg-type]


class _SteppingWatch:
    """A watcher of one scripted job: each time it waits for the next event,
    the job moves one step (as each poll's `get_job` moves it)."""

    def __init__(self, subscription: Subscription, run: Run | None) -> None:
        self._subscription = subscription
        self._run = run
        self.job_id = subscription.job_id

    @property
    def lagged(self) -> bool:
        return self._subscription.lagged

    async def receive(self) -> object:
        if self._run is not None and self._run.steps:
            self._run.steps.pop(0)()
        return await self._subscription.receive()

    def __enter__(self) -> _SteppingWatch:
        self._subscription.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._subscription.__exit__(None, None, None)


@dataclass
class Run:
    """The scripted steps of one job; each `get_job` applies the next one."""

    steps: list[Callable[[], None]] = field(default_factory=list)


class FakeBackend:
    """Implements `bacalao.api.backend.Backend` over in-memory dicts."""

    def __init__(self, *, auto_run: bool = False) -> None:
        self.node_id = NODE_ID
        self.auto_run = auto_run
        self.jobs: dict[str, Job] = {}
        self.executions: dict[str, list[Execution]] = {}
        self.history: dict[str, list[JobHistory]] = {}
        self.nodes: list[NodeState] = [make_node(NODE_ID)]
        self.submitted: list[tuple[Job, list[str]]] = []
        self.stopped: list[tuple[str, str]] = []
        self.list_calls: list[dict[str, object]] = []
        self.runs: dict[str, Run] = {}
        self.fail_with: Exception | None = None
        self.failure = ""  # scripted runs fail with this message unless it is ""
        self.get_calls = 0
        self.log_lines: list[LogLine] = [LogLine(1, "fake log line")]
        self.log_calls: list[tuple[str, str, bool, bool]] = []
        self.node_actions: list[tuple[str, str]] = []
        self.logs_fail_after = False  # raise Unavailable once the lines are out
        self.follow_forever = False  # with follow, never end (until cancelled)
        self.result_folders: dict[str, Path] = {}
        # what `downloadable` turns a published result of each type into
        self.signed: dict[str, SpecConfig] = {}
        # scripted runs write results here and publish them as urlDownload
        # at `api_base` (set both to serve `job get` from the fake)
        self.results_root: Path | None = None
        self.api_base = ""
        self.events = EventHub()  # every job change is published here
        self._clock = 1_700_000_000_000_000_000

    # -- helpers for tests ---------------------------------------------

    def tick(self) -> int:
        self._clock += 1_000_000_000
        return self._clock

    def add_job(self, **fields: object) -> Job:
        """Store a job directly (not through submit); returns it."""
        spec = job_spec()
        spec.update({"ID": new_job_id(), "Version": 1, "CreateTime": self.tick()})
        spec.update(fields)
        spec.setdefault("ModifyTime", spec["CreateTime"])
        spec.setdefault("State", {"StateType": "Completed"})
        job = Job.model_validate(spec)
        self.jobs[job.ID] = job
        self.executions.setdefault(job.ID, [])
        self.history.setdefault(job.ID, [])
        return job

    def add_event(self, job_id: str, message: str, **fields: object) -> JobHistory:
        items = self.history.setdefault(job_id, [])
        event = JobHistory.model_validate(
            {
                "SeqNum": len(items) + 1,
                "JobID": job_id,
                "JobVersion": 1,
                "Event": Event(Message=message, Topic="Test"),
                **fields,
            }
        )
        items.append(event)
        return event

    def add_execution(self, job_id: str, **fields: object) -> Execution:
        execution = Execution.model_validate(
            {
                "ID": new_execution_id(),
                "JobID": job_id,
                "NodeID": NODE_ID,
                "JobVersion": 1,
                "CreateTime": self.tick(),
                **fields,
            }
        )
        self.executions.setdefault(job_id, []).append(execution)
        return execution

    # -- Backend -------------------------------------------------------

    def version(self) -> BuildVersionInfo:
        return BuildVersionInfo(
            Major="0",
            Minor="1",
            GitVersion="v0.1.0",
            GitCommit="a" * 40,
            BuildDate=datetime(2026, 1, 2, tzinfo=UTC),
        )

    def node_info(self) -> NodeInfo:
        return self.nodes[0].Info

    def debug_info(self) -> dict[str, object]:
        return {
            "fake": {"jobs": len(self.jobs), "when": datetime(2026, 1, 1, tzinfo=UTC)}
        }

    async def submit_job(self, job: Job, *, warnings: list[str]) -> Submitted:
        if self.fail_with is not None:
            raise self.fail_with
        if job.Name == "reject-me":
            raise InvalidJob("Job.Name", "that name is refused by the fake")
        self.submitted.append((job, warnings))
        job_id = job.ID or new_job_id()
        now = self.tick()
        stored = job.model_copy(
            update={
                "ID": job_id,
                "Name": job.Name or job_id,
                "State": State[JobStateType](StateType=JobStateType.Pending),
                "Version": 1,
                "Revision": 1,
                "CreateTime": now,
                "ModifyTime": now,
            }
        )
        self.jobs[job_id] = stored
        self.executions[job_id] = []
        self.history[job_id] = []
        self._event(job_id, "Job submitted", JobStateType.Pending)
        self.events.job_changed(stored, [])
        if self.auto_run:
            self.runs[job_id] = self._script(stored)
        return Submitted(job_id, str(uuid.uuid4()), ["fake backend warning"])

    async def resolve_job_id(self, id_or_prefix: str) -> str:
        if id_or_prefix in self.jobs:
            return id_or_prefix
        found = sorted(j for j in self.jobs if j.startswith(id_or_prefix))
        if not found:
            raise JobNotFound(id_or_prefix)
        if len(found) > 1:
            raise AmbiguousJobID(id_or_prefix, found)
        return found[0]

    async def get_job(self, job_id: str) -> Job:
        self.get_calls += 1
        if job_id not in self.jobs:
            raise JobNotFound(job_id)
        run = self.runs.get(job_id)
        if run and run.steps:
            run.steps.pop(0)()
        return self.jobs[job_id]

    async def list_jobs(
        self,
        *,
        namespace: str | None,
        order_by: str,
        reverse: bool,
        where: Callable[[Job], bool] | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Job], bool]:
        self.list_calls.append(
            {
                "namespace": namespace,
                "order_by": order_by,
                "reverse": reverse,
                "offset": offset,
                "limit": limit,
            }
        )
        key = {"modify_time": lambda j: j.ModifyTime, "id": lambda j: j.ID}.get(
            order_by, lambda j: j.CreateTime
        )
        jobs = [
            j
            for j in self.jobs.values()
            if (namespace is None or j.Namespace == namespace)
            and (where is None or where(j))
        ]
        jobs.sort(key=key, reverse=reverse)  # type: ignore[arg-type, return-value]
        page = jobs[offset : offset + limit]
        return page, len(jobs) > offset + limit

    async def job_executions(self, job_id: str) -> list[Execution]:
        return list(self.executions.get(job_id, []))

    async def job_history(self, job_id: str) -> list[JobHistory]:
        return list(self.history.get(job_id, []))

    async def stop_job(self, job_id: str, reason: str) -> str:
        self.stopped.append((job_id, reason))
        job = self.jobs[job_id]
        if job.State.StateType == JobStateType.Stopped:
            return ""
        self._set_state(job_id, JobStateType.Stopped, reason)
        return str(uuid.uuid4())

    def subscribe_events(self, job_id: str = "") -> Subscription:
        subscription = self.events.subscribe(job_id)
        if job_id and self.auto_run:
            return _SteppingWatch(subscription, self.runs.get(job_id))  # type: ignore[return-value]
        return subscription

    def list_nodes(self) -> list[NodeState]:
        return list(self.nodes)

    async def update_node(self, node_id: str, action: str) -> None:
        self.node_actions.append((node_id, action))

    async def job_logs(
        self, job_id: str, execution_id: str, *, follow: bool, tail: bool
    ) -> AsyncIterator[LogLine]:
        self.log_calls.append((job_id, execution_id, follow, tail))
        known = [e.ID for e in self.executions.get(job_id, [])]
        if execution_id and not any(e.startswith(execution_id) for e in known):
            raise NotFound(f"job {job_id} has no execution {execution_id}")
        for line in self.log_lines:
            yield line
        if self.logs_fail_after:
            raise Unavailable("the node that ran it cannot be reached")
        if follow and self.follow_forever:
            await trio.sleep_forever()

    async def downloadable(self, spec: SpecConfig, node_id: str = "") -> SpecConfig:
        return self.signed.get(spec.Type, spec)

    def ipfs(self) -> Any:
        raise Unavailable("the fake backend runs no IPFS peer")

    def ipfs_providers(self, named: list[str]) -> list[str]:
        return named

    async def result_folder(self, execution_id: str) -> Path:
        folder = self.result_folders.get(execution_id)
        if folder is None:
            raise NotFound(f"no results of execution {execution_id} on this node")
        return folder

    # -- scripted runs -------------------------------------------------

    def _event(self, job_id: str, message: str, state: JobStateType) -> None:
        self.add_event(
            job_id,
            message,
            Type=JobHistoryType.JobLevel,
            Event={
                "Message": message,
                "Topic": "State Update",
                "Details": {"NewState": state.name},
            },
        )

    def _set_state(self, job_id: str, state: JobStateType, message: str = "") -> None:
        job = self.jobs[job_id]
        self.jobs[job_id] = job.model_copy(
            update={
                "State": State[JobStateType](StateType=state, Message=message),
                "ModifyTime": self.tick(),
                "Revision": job.Revision + 1,
            }
        )
        self._event(job_id, state.name, state)
        self.events.job_changed(self.jobs[job_id], self.executions[job_id])

    def _publish(self, execution_id: str, stdout: str) -> SpecConfig:
        if self.results_root is None:
            return SpecConfig(Type="local", Params={"URL": f"http://x/{execution_id}"})
        folder = self.results_root / execution_id
        (folder / "outputs").mkdir(parents=True)
        (folder / "stdout").write_text(stdout)
        (folder / "stderr").write_text("")
        (folder / "exitCode").write_text("0")
        (folder / "outputs" / f"{execution_id}.txt").write_text(execution_id)
        self.result_folders[execution_id] = folder
        url = f"{self.api_base}/api/v1/local/results/{execution_id}.tar.gz"
        return SpecConfig(Type="urlDownload", Params={"URL": url})

    def _script(self, job: Job) -> Run:
        params = job.task.Engine.Params
        failure = str(params.get("Fail", "")) or self.failure
        stdout = str(params.get("Stdout", f"ran {job.task.Engine.Type}\n"))
        execution_id = new_execution_id()

        def running() -> None:
            self.add_execution(
                job.ID,
                ID=execution_id,
                ComputeState={"StateType": ExecutionStateType.Running},
                DesiredState={"StateType": 1},
            )
            self._set_state(job.ID, JobStateType.Running)

        def finished() -> None:
            final = (
                ExecutionStateType.Failed if failure else ExecutionStateType.Completed
            )
            for i, e in enumerate(self.executions[job.ID]):
                if execution_id == e.ID:
                    self.executions[job.ID][i] = e.model_copy(
                        update={
                            "ComputeState": State[ExecutionStateType](
                                StateType=final, Message=failure
                            ),
                            "RunOutput": RunCommandResult(
                                Stdout=stdout,
                                STDERR="warn\n" if failure else "",
                                ExitCode=1 if failure else 0,
                                ErrorMsg=failure,
                            ),
                            "PublishedResult": self._publish(execution_id, stdout),
                        }
                    )
            state = JobStateType.Failed if failure else JobStateType.Completed
            self._set_state(job.ID, state, failure)

        return Run([lambda: None, running, finished])
