"""`NodeBackend`: the API's adapter to a running node (`api.backend.Backend`).

It answers each API call from the node's parts: the job store and shared
view for reads, the orchestrator for submit and stop, the node table for
nodes, the compute part for results, a direct stream to the node that ran
an execution for its logs. Errors are the orchestrator's public exceptions
and the API's own (`api.errors`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import trio

from ..events import Subscription
from ..ipfs.peer import IpfsPeer
from ..jobstore import AmbiguousID
from ..models.execution import Execution
from ..models.history import JobHistory
from ..models.ids import is_execution_id, new_evaluation_id
from ..models.job import Job, SpecConfig
from ..models.node import BuildVersionInfo, NodeInfo, NodeState
from ..models.states import ExecutionStateType
from ..models.wire import LogsRequest
from ..network.nodes import MembershipError
from ..orchestrator.exceptions import (
    AmbiguousJobID,
    InvalidJobState,
    JobNotFound,
    OrchestratorError,
)
from ..p2p.exceptions import P2PError, RemoteError
from ..protocol import LOGS
from ..storage.base import lower_params
from ..version import build_version
from .backend import LogLine, Rerun, Submitted
from .errors import Conflict, NotFound, Unavailable

if TYPE_CHECKING:
    from ..config import NodeConfig
    from ..node import Node
    from ..orchestrator.service import Orchestrator

REQUESTER_META = "bacalhau.org/requester.id"


class NodeBackend:
    """The `api.backend.Backend` of a running node: its parts, behind the API."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self.node_id = node.node_id

    def version(self) -> BuildVersionInfo:
        return build_version()

    def node_info(self) -> NodeInfo:
        return self._node.announcer.current_info()

    def debug_info(self) -> dict[str, object]:
        node = self._node
        stats = node.swarm.gossip.statistics()
        gate = node.swarm.gate.statistics()
        return {
            "node": {
                "id": node.node_id,
                "api": node.api_url,
                "addrs": node.swarm.p2p_addrs,
            },
            "peers": sorted(node.swarm.connected_peers()),
            "gossip": {
                "published": stats.published,
                "delivered": stats.delivered,
                "dropped_invalid": stats.dropped_invalid,
                "dropped_unlisted": stats.dropped_unlisted,
                "invalid_by_topic": stats.invalid_by_topic,
                "invalid_by_peer": dict(list(stats.invalid_by_peer.items())[:20]),
            },
            "allow_list": {
                "peers": gate.allow_list,
                "refused_inbound": gate.refused_inbound,
                "refused_outbound": gate.refused_outbound,
                "refused_by_peer": dict(list(gate.refused_by_peer.items())[:20]),
            },
            "compute": {
                "running": node.compute.running_count if node.compute else 0,
            },
            "api": {
                "in_flight": node.requests.in_flight,  # this request among them
                "closed": node.requests.closed,
            },
            "refused": {
                "node_infos": node.announcer.refused,
                "job_snapshots": node.shared.refused + node.store.refused,
                "compute_requests": node.compute.refused_asks if node.compute else 0,
                "expired_executions": node.orchestrator.expired_executions
                if node.orchestrator
                else 0,
            },
            "storage": {
                "problem": node.orchestrator.storage_problem
                if node.orchestrator
                else "",
            },
        }

    def node_config(self) -> NodeConfig:
        return self._node.config

    def _orchestrator(self) -> Orchestrator:
        orchestrator = self._node.orchestrator
        if orchestrator is None:
            raise OrchestratorError(
                "this node does not accept jobs (started with --no-orchestrator)",
                hint="submit to a node that runs an orchestrator",
            )
        return orchestrator

    async def submit_job(
        self, job: Job, *, warnings: list[str], force: bool = False
    ) -> Submitted:
        orchestrator = self._orchestrator()
        with self._node.tracing.submission(job) as traced:
            job_id, evaluation_id = await orchestrator.submit(traced, force=force)
        return Submitted(job_id, evaluation_id, list(warnings))

    async def job_versions(self, job_id: str) -> list[Job]:
        await self._node.shared.refresh()
        return await self._node.store.versions(job_id)

    async def diff_job(self, job: Job) -> str:
        await self._node.shared.refresh()
        return await self._orchestrator().diff(job)

    async def rerun_job(self, job_id: str, version: int, reason: str) -> Rerun:
        rerun = await self._orchestrator().rerun(job_id, version, reason)
        return Rerun(rerun.ID, rerun.Version, new_evaluation_id())

    async def resolve_job_id(self, id_or_prefix: str) -> str:
        await self._node.shared.refresh()
        try:
            found = await self._node.store.resolve_id(id_or_prefix)
        except AmbiguousID as exc:
            raise AmbiguousJobID(exc.prefix, exc.candidates) from None
        if found is None:
            raise JobNotFound(id_or_prefix)
        return found

    async def get_job(self, job_id: str) -> Job:
        await self._node.shared.refresh()
        job = await self._node.store.get_job(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

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
        await self._node.shared.refresh()
        store = self._node.store
        return await store.list_jobs(
            namespace=namespace,
            order_by=order_by,
            reverse=reverse,
            where=where,
            offset=offset,
            limit=limit,
        )

    async def job_executions(self, job_id: str) -> list[Execution]:
        await self._node.shared.refresh()
        return await self._node.store.executions(job_id)

    async def job_history(self, job_id: str) -> list[JobHistory]:
        return await self._node.shared.history(job_id)

    async def stop_job(self, job_id: str, reason: str) -> str:
        orchestrator = self._node.orchestrator
        if orchestrator is None or not orchestrator.owns(job_id):
            job = await self.get_job(job_id)
            state = job.State.StateType
            if state.terminal:
                raise InvalidJobState.already_ended(job_id, state.name)
            if orchestrator is None:
                raise InvalidJobState("this node does not run an orchestrator")
            raise InvalidJobState(
                "this job is owned by another node; stop it there",
                hint=f"its requester is {job.Meta.get(REQUESTER_META, '?')}",
            )
        return await orchestrator.stop(job_id, reason)

    def subscribe_events(self, job_id: str = "") -> Subscription:
        return self._node.events.subscribe(job_id)

    def list_nodes(self) -> list[NodeState]:
        return self._node.nodes.states()

    async def update_node(self, node_id: str, action: str) -> None:
        nodes, store = self._node.nodes, self._node.store
        try:
            if action.lower() == "delete":
                nodes.forget(node_id)
                state = None
            else:
                state = nodes.set_membership(node_id, action)
        except MembershipError as exc:
            raise Conflict(str(exc)) from None
        await store.set_membership(node_id, state)

    async def job_logs(
        self, job_id: str, execution_id: str, *, follow: bool, tail: bool
    ) -> AsyncIterator[LogLine]:
        execution = await self._execution_with_output(job_id, execution_id)
        request = LogsRequest(ExecutionID=execution.ID, Follow=follow, Tail=tail)
        rpc = self._node.swarm.rpc
        try:
            async with rpc.open_stream(execution.NodeID, LOGS, request) as chunks:
                async for chunk in chunks:
                    yield LogLine(chunk.Type, chunk.Line)
        except RemoteError as exc:
            raise NotFound(exc.message) from None
        except P2PError as exc:
            raise Unavailable(
                f"the node that ran {execution.ID} cannot be reached: {exc}"
            ) from None

    async def _execution_with_output(self, job_id: str, execution_id: str) -> Execution:
        executions = await self.job_executions(job_id)
        started = [e for e in executions if e.state >= ExecutionStateType.BidAccepted]
        if execution_id:
            started = [e for e in started if e.ID.startswith(execution_id)]
        if not started:
            what = f"execution {execution_id}" if execution_id else "an execution"
            raise NotFound(f"job {job_id} has no {what} that started running yet")
        return max(started, key=lambda e: e.CreateTime)

    async def downloadable(self, spec: SpecConfig, node_id: str = "") -> SpecConfig:
        if spec.Type == "ipfs":
            cid = str(lower_params(spec.Params).get("cid", ""))
            query = urlencode({"name": "", "providers": node_id})
            url = f"{self._node.api_url}/api/v1/ipfs/get/{quote(cid)}?{query}"
            return SpecConfig(Type="urlDownload", Params={"URL": url})
        return await self._node.data.downloadable(spec)

    def ipfs(self) -> IpfsPeer:
        return self._node.ipfs

    def ipfs_providers(self, named: list[str]) -> list[str]:
        providers: list[str] = []
        for name in named:
            info = self._node.nodes.get(name)
            if info is not None:
                providers += [
                    f"{a}/p2p/{name}" for a in info.Addresses if "/p2p/" not in a
                ]
            providers.append(name)
        return providers

    async def result_folder(self, execution_id: str) -> Path:
        compute = self._node.compute
        if compute is not None and is_execution_id(execution_id):
            folder = compute.results_dir(execution_id)
            if await trio.to_thread.run_sync(folder.is_dir):
                return folder
        raise NotFound(f"no results of execution {execution_id} on this node")


__all__ = ["NodeBackend"]
