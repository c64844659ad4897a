"""The composition root: one bacalao node, everything in one nursery.

`Node.run` builds the libp2p swarm, the job store, the node manager, the
shared view, the orchestrator and compute parts (each optional), the
announcer and the HTTP API, starts them in order, and reports a
`NodeHandle` once the API is listening. `Node.stop()` cancels it all at
once; `Node.stop(grace)` first lets the work in flight finish, by a
deadline. The API's adapter to a node is `api.node_backend.NodeBackend`;
what the node says about itself is built in `node_info`; running it as a
process (signals, start-up errors) is `process.serve`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import trio

from .api.app import ApiOptions, serve_api
from .api.gate import RequestGate
from .api.metrics import metrics_routes
from .api.node_backend import NodeBackend
from .compute.service import Compute
from .compute.settings import ComputeSettings
from .config import NodeConfig, default_bootstrap_peers
from .controls import resolve_controls
from .dataplane import DataConfig, DataPlane
from .events import EventHub
from .executors.base import Executor
from .executors.config import TASK_CAPABILITIES, DockerConfig, ExecutorsConfig
from .executors.registry import build_executors, engine_names
from .ipfs.peer import IpfsPeer
from .jobstore import JobStore
from .machine_labels import automatic_labels, detect_gpus
from .models.node import NodeInfo
from .models.wire import Ack
from .network.announce import Announcer
from .network.nodes import NodeManager, Probe
from .network.shared_view import SharedView
from .node_info import describe_node, machine_capacity
from .orchestrator.record import JobRecord
from .orchestrator.service import Orchestrator
from .orchestrator.settings import OrchestratorSettings
from .p2p.exceptions import P2PError, PeerUnreachable, RemoteError
from .p2p.host import Swarm, SwarmConfig
from .protocol import PING
from .startup import StartupError
from .telemetry import CONTENT_TYPE, JobMetrics, JobTracer, Tracing
from .telemetry.wiring import node_metrics, observed_compute, watch_store, watch_swarm

log = logging.getLogger(__name__)

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
        self.store = JobStore.open(config.repo / "jobs.db", self.node_id)
        self.metrics = node_metrics()
        watch_swarm(self.metrics, self.swarm)
        watch_store(self.metrics, self.store)
        self.job_metrics = JobMetrics(self.metrics)
        self.tracing = Tracing.from_env(self.node_id, os.environ)
        self.job_tracer = JobTracer(self.tracing)
        self.nodes = NodeManager(
            self.node_id,
            timeout=config.node_timeout,
            probe=self._ping,
            manual_approval=config.node_approval == "manual",
            memberships=self.store.load_memberships(),
        )
        self.swarm.rpc.register(PING, _pong)
        self.swarm.on_peer_gone(self.nodes.peer_gone)
        self.events = EventHub()  # job and node changes, for the API's streams
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
                OrchestratorSettings.of(config),
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
            on_moved=self.metrics.data_moved,
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
        self.requests = RequestGate()  # the API's requests in flight
        self._stopping = trio.Event()
        self._capacity_changed = trio.Event()

    def _job_changed(self, record: JobRecord) -> None:
        self.shared.job_changed(record)
        self.events.job_changed(record.job, record.executions.values())
        self.job_metrics.job_changed(record)
        self.job_tracer.job_changed(record)

    def stop(self, grace: float = 0.0) -> None:
        """Stop this node (its `run` returns); safe to call more than once.

        With no `grace` everything is cancelled now. With a `grace` (s) the
        node first stops taking work — its API answers 503 "node is shutting
        down", its compute part bids on nothing — and lets API requests in
        flight and running executions finish; then its API closes
        (hypercorn's graceful shutdown) and the rest stops. Whatever still
        runs `grace` seconds from now is cancelled.
        """
        if grace <= 0:
            self._scope.cancel()
            return
        deadline = trio.current_time() + grace
        self._scope.deadline = min(self._scope.deadline, deadline)
        self.requests.close()
        self.events.close()  # event streams end: watchers need not hold the drain
        if self.compute is not None:
            self.compute.capacity.close()
        self._stopping.set()

    async def _stop_when_drained(self, close_api: trio.Event) -> None:
        await self._stopping.wait()
        log.info("node %s stopping: waiting for work in flight", self.node_id)
        await self.requests.wait_idle()
        while self.compute is not None and self.compute.capacity.busy():
            changed = self._capacity_changed = trio.Event()
            await changed.wait()
        close_api.set()

    def _capacity_change(self) -> None:
        self._capacity_changed.set()
        self.announcer.poke()

    async def _serve_api(
        self,
        options: ApiOptions,
        close: trio.Event,
        *,
        task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve the API; once it has closed (see `stop`), stop the node."""
        await serve_api(
            NodeBackend(self),
            self.config.api_host,
            self.config.api_port,
            options=options,
            gate=self.requests,
            shutdown_trigger=close.wait,
            routes=metrics_routes(self.metrics.render, CONTENT_TYPE),
            task_status=task_status,
        )
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
        try:
            with self._scope:
                await self._run(task_status)
        finally:
            self.store.close()
            await _shielded(self.tracing.close)
            if self.compute is not None:
                self.compute.store.close()

    async def _run(self, task_status: trio.TaskStatus[NodeHandle]) -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(self.data.run)
            self.config = await self._with_machine_facts(self.config)
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
            self.swarm.rpc.all_registered()
            options = api_options(self.config)
            close_api = trio.Event()
            port = await nursery.start(self._serve_api, options, close_api)
            nursery.start_soon(self._stop_when_drained, close_api)
            host = _dialable(self.config.api_host)
            self.api_url = f"{options.scheme}://{host}:{port}"
            await nursery.start(self.announcer.run)
            log.info("node %s ready: api %s", self.node_id, self.api_url)
            task_status.started(
                NodeHandle(self.node_id, self.api_url, port, self.swarm.p2p_addrs, self)
            )

    async def _with_machine_facts(self, config: NodeConfig) -> NodeConfig:
        """`config` with what the node finds out by itself: its GPUs (unless
        the operator set a count) and the automatic labels (the operator's
        own labels win)."""
        gpus = []
        if config.compute and config.gpus is None:
            gpus = await trio.to_thread.run_sync(detect_gpus)
        update = {
            "gpus": len(gpus) if config.gpus is None else config.gpus,
            "labels": {**automatic_labels(gpus), **config.labels},
        }
        return config.model_copy(update=update)

    async def _build_compute(self) -> Compute:
        executors = await usable_executors(self.config, self.node_id)
        executors, store, capacity = observed_compute(
            self.metrics,
            self.tracing,
            executors,
            self.config.repo / "compute.db",
            machine_capacity(self.config),
            self.config.max_queued,
        )
        return Compute(
            self.node_id,
            ComputeSettings.of(self.config),
            self.swarm.rpc,
            executors,
            store,
            capacity,
            on_capacity_change=self._capacity_change,
            node_info=self.announcer.current_info,
            gossip=self.swarm.gossip,
            data=self.data,
        )

    def _node_info(self) -> NodeInfo:
        return describe_node(
            self.node_id,
            self.config,
            self.compute,
            addresses=list(self.swarm.addrs),
            api_url=self.api_url,
            orchestrator=self.orchestrator is not None,
            held=self.ipfs.held,
            peers=sorted(self.swarm.connected_peers()),
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
            gpus=config.gpus or 0,
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


def api_options(config: NodeConfig) -> ApiOptions:
    """The API's controls from the node's config (control files already read)."""
    return ApiOptions(
        tokens=tuple(config.api_tokens),
        tls_cert=config.tls_cert,
        tls_key=config.tls_key,
        body_timeout=config.api_body_timeout,
        graceful_timeout=config.shutdown_grace,
        web_ui=config.web_ui,
    )


async def _shielded(blocking: Callable[[], None]) -> None:
    with trio.CancelScope(shield=True):
        await trio.to_thread.run_sync(blocking)


def _dialable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host
