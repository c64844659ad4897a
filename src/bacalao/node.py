"""The composition root: one bacalao node, everything in one nursery.

`Node.run` builds the libp2p swarm, the job store, the node manager, the
shared view, the orchestrator and compute parts (each optional), the
announcer and the HTTP API, starts them in order, and reports a
`NodeHandle` once the API is listening. Cancelling the nursery stops it
all. `serve(config)` runs one node until SIGINT/SIGTERM; if the node cannot
start it raises `StartupError`, one line naming the file and the fix.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import trio

from .api.app import ApiOptions
from .api.backend import LogLine, Submitted
from .compute.capacity import Capacity
from .compute.executions import LocalExecutions
from .compute.service import Compute
from .config import NodeConfig, default_bootstrap_peers
from .controls import resolve_controls
from .dataplane import DataConfig, DataPlane
from .events import EventHub, Subscription
from .executors.base import Executor
from .executors.config import TASK_CAPABILITIES, DockerConfig, ExecutorsConfig
from .executors.registry import build_executors, engine_names
from .ipfs.peer import IpfsPeer
from .models.execution import Execution
from .models.history import JobHistory
from .models.ids import is_execution_id
from .models.job import Job, SpecConfig
from .models.node import (
    MAX_PEERS_SHOWN,
    BuildVersionInfo,
    ComputeNodeInfo,
    NodeInfo,
    NodeState,
)
from .models.resources import Resources
from .models.states import ExecutionStateType
from .models.wire import Ack, LogsRequest
from .network.announce import Announcer
from .network.nodes import MembershipError, NodeManager, Probe
from .network.shared_view import SharedView
from .orchestrator.exceptions import (
    AmbiguousJobID,
    InvalidJobState,
    JobNotFound,
    NotFound,
    OrchestratorError,
    Unavailable,
)
from .orchestrator.record import JobRecord
from .orchestrator.service import Orchestrator
from .orchestrator.store import AmbiguousID, JobStore, SqliteStore
from .p2p.exceptions import P2PError, PeerUnreachable, RemoteError
from .p2p.host import Swarm, SwarmConfig
from .protocol import LOGS, PING
from .startup import StartupError, check_repo, explain, sole_cause
from .storage.base import lower_params
from .version import build_version

log = logging.getLogger(__name__)

REQUESTER_META = "bacalhau.org/requester.id"
PING_TIMEOUT = 3.0


async def _pong(_peer: str, _ping: Ack) -> Ack:
    return Ack()


@dataclass(frozen=True)
class NodeHandle:
    """What a started node tells its starter."""

    node_id: str
    api_url: str
    api_port: int
    swarm_addrs: list[str]
    node: Node


class Node:
    """One bacalao node: requester and/or compute, its API and its peers."""

    def __init__(self, config: NodeConfig) -> None:
        config = resolve_controls(config)  # no-op when the CLI already did
        self.config = config
        config.repo.mkdir(parents=True, exist_ok=True)
        peers = config.peers if config.peers is not None else default_bootstrap_peers()
        self.swarm = Swarm(
            config.repo,
            SwarmConfig(
                listen_host=config.swarm_host,
                port=config.swarm_port,
                bootstrap=peers,
                swarm_key=config.swarm_key,
                gossip_heartbeat=config.heartbeat_interval,
                allow_peers=config.allow_peers,
            ),
        )
        self.node_id = self.swarm.peer_id
        self.store = JobStore(SqliteStore(config.repo / "jobs.db", self.node_id))
        self.nodes = NodeManager(
            self.node_id,
            timeout=config.node_timeout,
            probe=self._ping,
            manual_approval=config.node_approval == "manual",
            memberships=self.store.sync.memberships(),
        )
        self.swarm.rpc.register(PING, _pong)
        self.swarm.on_peer_gone(self.nodes.peer_gone)
        self.events = EventHub()
        self.shared = SharedView(
            self.node_id,
            self.store,
            self.swarm.gossip,
            self.swarm.rpc,
            self._orchestrator_ids,
            follow_gossip=config.orchestrator,
            on_replica=lambda s: self.events.job_changed(s.Job, s.Executions),
            watched=lambda: self.events.subscribers > 0,
        )
        self.orchestrator: Orchestrator | None = None
        if config.orchestrator:
            self.orchestrator = Orchestrator(
                self.node_id,
                self.store,
                self.nodes,
                self.swarm.rpc,
                self.swarm.gossip,
                config,
                on_change=self._job_changed,
            )
        self.compute: Compute | None = None
        self.ipfs = IpfsPeer(
            config.repo,
            self.swarm,
            external_peers=config.ipfs_peers,
            no_progress_timeout=config.ipfs_fetch_timeout,
        )
        self.data = DataPlane(
            DataConfig.from_node(config),
            node_id=self.node_id,
            api_base=lambda: self.api_url,
            ipfs=self.ipfs,
        )
        self.announcer = Announcer(
            self.swarm,
            self.nodes,
            self._node_info,
            info_interval=config.node_info_interval,
            heartbeat_interval=config.heartbeat_interval,
            on_new_orchestrator=self.shared.orchestrator_appeared,
        )
        self.ipfs.on_pinned = self.announcer.poke
        self.api_url = ""
        self._scope = trio.CancelScope()

    def _job_changed(self, record: JobRecord) -> None:
        self.shared.job_changed(record)
        self.events.job_changed(record.job, record.executions.values())

    def stop(self) -> None:
        """Stop this node (its `run` returns); safe to call more than once."""
        self._scope.cancel()

    async def _ping(self, node_id: str) -> Probe | None:
        if self.swarm.discovery is not None:
            self.swarm.discovery.lend_addresses(node_id)
        try:
            await self.swarm.rpc.call(node_id, PING, Ack(), timeout=PING_TIMEOUT)
        except PeerUnreachable as exc:
            return Probe.GONE if exc.refused else None
        except RemoteError:
            return Probe.ALIVE  # it answered
        except P2PError:
            return None
        return Probe.ALIVE

    def _orchestrator_ids(self) -> list[str]:
        return [
            v.node_id for v in self.nodes.views() if v.info.Orchestrator and v.connected
        ]

    async def run(
        self, *, task_status: trio.TaskStatus[NodeHandle] = trio.TASK_STATUS_IGNORED
    ) -> None:
        from .api.app import serve_api

        try:
            with self._scope:
                await self._run(serve_api, task_status)
        finally:
            self.store.sync.close()
            if self.compute is not None:
                self.compute.store.close()

    async def _run(
        self, serve_api: Any, task_status: trio.TaskStatus[NodeHandle]
    ) -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(self.data.run)
            if self.config.compute:
                self.compute = await self._build_compute()
            await nursery.start(self.swarm.run)
            await nursery.start(self.ipfs.run)
            await nursery.start(self.nodes.run)
            changed, states = self.nodes.changed, self.nodes.states
            await nursery.start(self.events.follow_nodes, changed, states)
            await nursery.start(self.shared.run)
            if self.orchestrator is not None:
                await nursery.start(self.orchestrator.run)
            if self.compute is not None:
                await nursery.start(self.compute.run)
            options = api_options(self.config)
            port = await nursery.start(
                partial(serve_api, options=options),
                NodeBackend(self),
                self.config.api_host,
                self.config.api_port,
            )
            host = _dialable(self.config.api_host)
            self.api_url = f"{options.scheme}://{host}:{port}"
            await nursery.start(self.announcer.run)
            log.info("node %s ready: api %s", self.node_id, self.api_url)
            task_status.started(
                NodeHandle(self.node_id, self.api_url, port, self.swarm.p2p_addrs, self)
            )

    async def _build_compute(self) -> Compute:
        executors = await usable_executors(self.config, self.node_id)
        total = machine_capacity(self.config)
        return Compute(
            self.node_id,
            self.config,
            self.swarm.rpc,
            executors,
            LocalExecutions(self.config.repo / "compute.db"),
            Capacity(total, max_queued=self.config.max_queued),
            api_base=lambda: self.api_url,
            on_capacity_change=self.announcer.poke,
            node_info=self.announcer.current_info,
            gossip=self.swarm.gossip,
            data=self.data,
        )

    def _node_info(self) -> NodeInfo:
        compute = None
        if self.compute is not None:
            snap = self.compute.capacity.snapshot()
            compute = ComputeNodeInfo(
                ExecutionEngines=sorted(self.compute.offer.engines),
                Publishers=sorted(self.compute.offer.publishers),
                StorageSources=sorted(self.compute.offer.storage),
                MaxCapacity=snap.total,
                QueueCapacity=snap.queued,
                AvailableCapacity=snap.available,
                MaxJobRequirements=snap.total,
                RunningExecutions=snap.running,
                EnqueuedExecutions=snap.enqueued,
                NetworkTypes=list(self.config.docker_network_modes),
            )
        return NodeInfo(
            NodeID=self.node_id,
            NodeType="Compute" if compute is not None else "Requester",
            Labels=dict(self.config.labels),
            ComputeNodeInfo=compute,
            BacalhauVersion=build_version(),
            Addresses=list(self.swarm.addrs),
            ApiAddress=self.api_url,
            Orchestrator=self.orchestrator is not None,
            HeldCIDs=self.ipfs.held() if compute is not None else [],
            ConnectedPeers=sorted(self.swarm.connected_peers())[:MAX_PEERS_SHOWN],
        )


async def usable_executors(config: NodeConfig, node_id: str) -> dict[str, Executor]:
    """The executors that work here; an engine that fails its check is left out."""
    settings = ExecutorsConfig(
        engines=tuple(config.engines or ("docker", "wasm")),
        noop_enabled=config.allow_noop,
        output_bytes=config.output_cap_bytes,
        log_bytes=config.log_cap_bytes,
        allowed_local_paths=tuple(config.allowed_local_paths),
        disk_path=config.repo,
        docker=DockerConfig(
            networks=tuple(config.docker_network_modes),
            images=tuple(config.allowed_images or ()),
            gpus=config.gpus,
            http_private=config.http_private_addresses,
            pids_limit=config.docker_pids_limit,
            no_new_privileges=config.docker_no_new_privileges,
            capabilities=tuple(
                TASK_CAPABILITIES
                if config.docker_capabilities is None
                else (
                    c.upper().removeprefix("CAP_") for c in config.docker_capabilities
                )
            ),
        ),
    )
    names = settings.default_engines()
    unknown = [n for n in names if n not in engine_names()]
    if unknown:
        raise StartupError(
            f"unknown engine {unknown[0]!r}",
            f"offer some of {', '.join(engine_names())} (--engines, BACALAO_ENGINES)",
        )
    usable: dict[str, Executor] = {}
    for name, executor in build_executors(names, settings, node_id=node_id).items():
        problem = await executor.check()
        if problem is None:
            usable[name] = executor
        else:
            log.warning("engine %s is not available on this node: %s", name, problem)
    return usable


def machine_capacity(config: NodeConfig) -> Resources:
    cpus = float(os.cpu_count() or 1)
    memory = _physical_memory()
    return Resources(
        CPU=config.max_cpu if config.max_cpu is not None else cpus,
        Memory=config.max_memory
        if config.max_memory is not None
        else int(memory * 0.8),
        Disk=config.max_disk
        if config.max_disk is not None
        else _free_disk(config.repo),
        GPU=config.gpus,
    )


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 4 * 1024**3


def _free_disk(path: Path) -> int:
    try:
        stat = os.statvfs(path)
    except OSError:
        return 0
    return stat.f_bavail * stat.f_frsize


def api_options(config: NodeConfig) -> ApiOptions:
    """The API's controls from the node's config (control files already read)."""
    return ApiOptions(
        tokens=tuple(config.api_tokens),
        tls_cert=config.tls_cert,
        tls_key=config.tls_key,
        body_timeout=config.api_body_timeout,
        web_ui=config.web_ui,
    )


def _dialable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host


class NodeBackend:
    """The `api.backend.Backend` of a running node."""

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
            "refused": {
                "node_infos": node.announcer.refused,
                "job_snapshots": node.shared.refused + node.store.sync.refused,
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

    async def submit_job(self, job: Job, *, warnings: list[str]) -> Submitted:
        orchestrator = self._node.orchestrator
        if orchestrator is None:
            raise OrchestratorError(
                "this node does not accept jobs (started with --no-orchestrator)",
                hint="submit to a node that runs an orchestrator",
            )
        job_id, evaluation_id = await orchestrator.submit(job)
        return Submitted(job_id, evaluation_id, list(warnings))

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
        return await store.call(
            store.sync.list_jobs,
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
            if job.State.StateType.terminal:
                if job.State.StateType.name == "Completed":
                    raise InvalidJobState("cannot stop job in state Completed")
                return ""
            if orchestrator is None:
                raise InvalidJobState("this node does not run an orchestrator")
            raise InvalidJobState(
                "this job is owned by another node; stop it there",
                hint=f"its requester is {job.Meta.get(REQUESTER_META, '?')}",
            )
        return await orchestrator.stop(job_id, reason)

    def list_nodes(self) -> list[NodeState]:
        return self._node.nodes.states()

    def subscribe_events(self, job_id: str = "") -> Subscription:
        return self._node.events.subscribe(job_id)

    async def update_node(self, node_id: str, action: str) -> None:
        nodes, store = self._node.nodes, self._node.store
        try:
            if action.lower() == "delete":
                nodes.forget(node_id)
                state = None
            else:
                state = nodes.set_membership(node_id, action)
        except MembershipError as exc:
            raise InvalidJobState(str(exc)) from None
        await store.call(store.sync.set_membership, node_id, state)

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


def serve(config: NodeConfig) -> None:
    """Run one node until SIGINT or SIGTERM.

    Raises `StartupError` if it cannot start for a reason the operator can
    fix (the traceback is logged at DEBUG); anything else propagates.
    """
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    run_until_started(_serve, config)


def run_until_started(main: Any, *args: Any) -> None:
    """`trio.run(main, *args, started)`, where `main` calls `started()` once
    up; a failure before that which `startup.explain` knows is raised as
    its `StartupError`, any other as itself, out of its exception groups."""
    up = False

    def started() -> None:
        nonlocal up
        up = True

    try:
        trio.run(main, *args, started)
    except Exception as exc:
        if up:
            raise
        problem = explain(exc)
        if problem is None:  # a bug: shown by its own type, not as a group
            cause = sole_cause(exc)
            if cause is exc:
                raise
            raise cause from None
        log.debug("start-up failed", exc_info=exc)
        raise problem from None


async def _serve(config: NodeConfig, started: Callable[[], None]) -> None:
    await trio.to_thread.run_sync(check_repo, config.repo)
    async with trio.open_nursery() as nursery:
        handle: NodeHandle = await nursery.start(Node(config).run)
        started()
        print(f"bacalao node {handle.node_id}", flush=True)
        print(f"  API:   {handle.api_url}", flush=True)
        for addr in handle.swarm_addrs:
            print(f"  swarm: {addr}", flush=True)
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                print(f"received {signal.Signals(signum).name}; stopping", flush=True)
                nursery.cancel_scope.cancel()
                break
