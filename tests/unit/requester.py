"""A real orchestrator on a real SQLite job store, with fakes for the network.

The orchestrator under test is the one a node runs; only what it talks to
over the network is faked: compute nodes that answer bid asks (`FakeRpc`),
gossip that goes nowhere, and a node table filled by the test. Compute
nodes' reports reach it through the handler it registered, as the RPC
layer would deliver them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio
from pydantic import BaseModel

from bacalao.config import NodeConfig
from bacalao.jobstore import JobStore, SqliteStore
from bacalao.models.execution import Execution
from bacalao.models.job import Job
from bacalao.models.states import ExecutionStateType, JobStateType
from bacalao.models.wire import (
    Ack,
    AskBid,
    Bid,
    CancelExecution,
    ExecutionUpdate,
    ExecutionUpdates,
)
from bacalao.network.nodes import NodeManager
from bacalao.orchestrator.service import Orchestrator
from bacalao.orchestrator.settings import OrchestratorSettings
from bacalao.p2p.exceptions import PeerUnreachable
from bacalao.p2p.rpc import HandlerError, Method
from bacalao.protocol import ASK_BID, CANCEL, EXECUTION_UPDATES

from .support import make_job, make_node

ME = "n-requester"
WAIT = 10.0


@dataclass
class FakeRpc:
    """The orchestrator's view of the network: compute nodes accept every
    bid ask (unless `declines` names them) and take every cancel."""

    handlers: dict[str, Callable[[str, Any], Any]] = field(default_factory=dict)
    asked: list[tuple[str, AskBid]] = field(default_factory=list)
    cancels: list[tuple[str, CancelExecution]] = field(default_factory=list)
    declines: set[str] = field(default_factory=set)

    def register(self, method: Method[Any, Any], handler: Any) -> None:
        self.handlers[method.protocol] = handler

    async def call(
        self, peer: str, method: Method[Any, Any], request: Any, **_: Any
    ) -> Any:
        if method.protocol == ASK_BID.protocol:
            self.asked.append((peer, request))
            return Bid(
                ExecutionID=request.Execution.ID,
                Accepted=peer not in self.declines,
                Reason="busy: test" if peer in self.declines else "",
                NodeID=peer,
            )
        if method.protocol == CANCEL.protocol:
            self.cancels.append((peer, request))
            return Ack()
        raise PeerUnreachable(peer, "not reachable in this test")

    async def call_with_retry(
        self, peer: str, method: Method[Any, Any], request: Any, **_: Any
    ) -> Any:
        return await self.call(peer, method, request)

    async def handle(self, peer: str, method: Method[Any, Any], request: Any) -> Any:
        """Deliver `request` from `peer` to the handler this node registered."""
        handler = self.handlers.get(method.protocol)
        if handler is None:  # as the real RPC answers while a node starts
            raise HandlerError("unavailable", "this node is still starting")
        return await handler(peer, request)

    def nodes_asked(self) -> list[str]:
        return [peer for peer, _ in self.asked]


class NoGossip:
    """Gossip that reaches nobody (open calls for bids)."""

    async def publish(self, _topic: Any, _message: BaseModel) -> None:
        return None


@dataclass
class Requester:
    """One orchestrator and what it was built with."""

    orchestrator: Orchestrator
    store: JobStore
    rpc: FakeRpc
    nodes: NodeManager
    sqlite: SqliteStore  # the store's blocking half, for fault injection

    async def submit(self, job: Job | None = None) -> str:
        job_id, _ = await self.orchestrator.submit(job or make_job("noop"))
        return job_id

    async def report(
        self,
        node: str,
        execution: Execution,
        state: ExecutionStateType,
        **fields: Any,
    ) -> Any:
        """Deliver one update from `node` about `execution`, as the RPC would."""
        return await self.rpc.handle(
            node, EXECUTION_UPDATES, updates(node, execution, state, **fields)
        )

    async def job(self, job_id: str) -> Job:
        job = await self.store.get_job(job_id)
        assert job is not None, job_id
        return job

    async def executions(self, job_id: str) -> list[Execution]:
        return await self.store.executions(job_id)

    async def wait_for_state(
        self, job_id: str, *states: JobStateType, timeout: float = WAIT
    ) -> Job:
        with trio.fail_after(timeout):
            while (job := await self.job(job_id)).State.StateType not in states:
                await trio.sleep(0.01)
        return job

    async def wait_for_execution(
        self,
        job_id: str,
        node: str,
        state: ExecutionStateType = ExecutionStateType.BidAccepted,
        timeout: float = WAIT,
    ) -> Execution:
        """The execution of `job_id` on `node` once it is in `state`."""
        with trio.fail_after(timeout):
            while True:
                for execution in await self.executions(job_id):
                    if execution.NodeID == node and execution.state == state:
                        return execution
                await trio.sleep(0.01)


def updates(
    node: str, execution: Execution, state: ExecutionStateType, **fields: Any
) -> ExecutionUpdates:
    return ExecutionUpdates(
        Updates=[
            ExecutionUpdate(
                ExecutionID=execution.ID,
                JobID=execution.JobID,
                NodeID=node,
                State=state,
                **fields,
            )
        ]
    )


def build_requester(
    db: Path,
    compute_nodes: dict[str, float] | None = None,
    rpc: FakeRpc | None = None,
    **config: Any,
) -> Requester:
    """An orchestrator on the job store at `db` (not started). It knows the
    `compute_nodes` given (node ID -> free CPU of 4: less free, asked later)."""
    sqlite = SqliteStore(db, ME)
    store = JobStore(sqlite)
    nodes = NodeManager(ME, timeout=5.0)
    for node_id, free_cpu in (compute_nodes or {}).items():
        nodes.observe_info(make_node(node_id, cpu=4.0, free_cpu=free_cpu))
    rpc = rpc or FakeRpc()
    orchestrator = Orchestrator(
        ME,
        store,
        nodes,
        rpc,  # type: ignore[arg-type]
        NoGossip(),  # type: ignore[arg-type]
        OrchestratorSettings.of(NodeConfig(repo=db.parent, **config)),
        on_change=lambda _record: None,
    )
    return Requester(orchestrator, store, rpc, nodes, sqlite)


@asynccontextmanager
async def running(requester: Requester) -> AsyncIterator[Requester]:
    """Run `requester`'s orchestrator for the duration of the block."""
    try:
        async with trio.open_nursery() as nursery:
            with trio.fail_after(WAIT):
                await nursery.start(requester.orchestrator.run)
            yield requester
            nursery.cancel_scope.cancel()
    finally:
        requester.store.close()
