"""A hostile peer: bacalao's own `Swarm` with a fresh key, turned against a network.

`open_hostile(work, join)` builds a libp2p host (a fresh identity in a
temporary repo), joins the network through one node's swarm multiaddr and
yields a `Hostile`: it can call any RPC, answer any RPC its own way,
publish anything on any topic (raw bytes too, for what our models refuse
to encode), and pose as a node of its choosing.

The attacks themselves live in `peer_attacks.py`, `oversize.py` and
`rogue.py`; each judges from the outside whether the network refused it.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import trio
from cluster import request
from pydantic import BaseModel

from bacalao.models.node import ComputeNodeInfo, NodeInfo
from bacalao.models.resources import Resources
from bacalao.models.wire import Ack, Heartbeat
from bacalao.p2p.exceptions import P2PError
from bacalao.p2p.gossip import Topic
from bacalao.p2p.host import Swarm, SwarmConfig
from bacalao.p2p.rpc import Method
from bacalao.protocol import HEALTH, NODE_INFO, PING

JOIN_TIMEOUT = 20.0
POSE_EVERY = 0.5


class Unwelcome(Exception):
    """The network would not let the hostile peer connect at all."""


@dataclass(frozen=True)
class Honest:
    """A node of the network under attack, as the suite started it."""

    name: str
    node_id: str
    api_url: str
    swarm_addr: str
    repo: Path


class Raw(BaseModel):
    """A request sent as the exact JSON text given (models cannot encode all
    that a peer can send: a 400-deep mapping, say)."""

    text: str

    def model_dump_json(self, **_: Any) -> str:  # type: ignore[override]
        return self.text


@dataclass
class Hostile:
    """The hostile peer, running; see the module docstring."""

    swarm: Swarm
    nursery: trio.Nursery
    posing: list[NodeInfo] = field(default_factory=list)
    known: int = 0  # the node count its heartbeats claim

    @property
    def peer_id(self) -> str:
        return self.swarm.peer_id

    async def call(
        self, peer: str, method: Method[Any, Any], req: Any, timeout: float = 10
    ) -> tuple[Any, str]:
        """(answer, "") or (None, why the call failed)."""
        try:
            return await self.swarm.rpc.call(peer, method, req, timeout=timeout), ""
        except P2PError as exc:
            return None, f"{type(exc).__name__}: {exc}"

    async def call_raw(
        self, peer: str, method: Method[Any, Any], text: str, timeout: float = 10
    ) -> tuple[Any, str]:
        raw = Method(method.protocol, Raw, method.response)
        return await self.call(peer, raw, Raw(text=text), timeout)

    def answer(self, method: Method[Any, Any], handler: Callable[..., Any]) -> None:
        """Serve `method` with `handler(peer, request)` (replacing any other)."""
        self.swarm.rpc.register(method, handler)

    async def publish(self, topic: Topic[Any], message: BaseModel | str) -> None:
        data = message if isinstance(message, str) else message.model_dump_json()
        await self.swarm.pubsub.publish(topic.name, data.encode())

    def pose(self, info: NodeInfo, *, known: int = 0) -> None:
        """Announce `info` as this peer's node info, with heartbeats, from now on."""
        self.known = known
        if not self.posing:
            self.nursery.start_soon(self._pose_loop)
        self.posing[:] = [info]

    async def _pose_loop(self) -> None:
        seq = 0
        while True:
            seq += 1
            info = self.wire_info(self.posing[0].model_copy(update={"Seq": seq}))
            beat = Heartbeat(NodeID=self.peer_id, Seq=seq, Known=self.known)
            for topic, message in ((NODE_INFO, info), (HEALTH, beat)):
                # no mesh yet: the next round tries again
                with contextlib.suppress(Exception):
                    await self.publish(topic, message)
            await trio.sleep(POSE_EVERY)

    def wire_info(self, info: NodeInfo) -> BaseModel:
        """`info` as the network under test carries node info: as it is, or
        (nodes that relay only what a node signed) sealed with this peer's
        own key, which is the right key only for its own info."""
        if NODE_INFO.model is NodeInfo:
            return info
        seal = importlib.import_module("bacalao.network.signed_info").seal
        sealed: BaseModel = seal(info, self.swarm.sign)  # type: ignore[attr-defined]
        return sealed

    def compute_info(self, label: str) -> NodeInfo:
        """Node info of a roomy compute node labelled `chaos-node=label`."""
        room = Resources(CPU=64, Memory=256 * 1024**3, Disk=1024**4)
        compute = ComputeNodeInfo(
            ExecutionEngines=["docker", "noop", "wasm"],
            Publishers=["local", "noop", "ipfs", "s3"],
            StorageSources=["inline", "urlDownload", "ipfs", "s3", "noop"],
            MaxCapacity=room,
            AvailableCapacity=room,
            QueueCapacity=room,
            MaxJobRequirements=room,
            NetworkTypes=["None", "Default", "Full", "HTTP", "Host", "Bridge"],
        )
        return NodeInfo(
            NodeID=self.peer_id,
            NodeType="Compute",
            Labels={"chaos-node": label},
            ComputeNodeInfo=compute,
            Addresses=list(self.swarm.addrs),
            Orchestrator=False,
        )

    def orchestrator_info(self) -> NodeInfo:
        return NodeInfo(
            NodeID=self.peer_id,
            NodeType="Requester",
            Addresses=list(self.swarm.addrs),
            Orchestrator=True,
        )


async def _pong(_peer: str, _ping: Ack) -> Ack:
    return Ack()


@asynccontextmanager
async def open_hostile(work: Path, join: str) -> AsyncIterator[Hostile]:
    """A hostile peer connected to the node at `join`; `Unwelcome` if refused."""
    repo = Path(tempfile.mkdtemp(prefix="hostile-", dir=work))
    config = SwarmConfig(
        listen_host="127.0.0.1", port=0, bootstrap=[join], gossip_heartbeat=0.5
    )
    swarm = Swarm(repo, config)
    swarm.rpc.register(PING, _pong)
    target = join.rsplit("/p2p/", 1)[1]
    joined = False
    async with trio.open_nursery() as nursery:
        with trio.fail_after(JOIN_TIMEOUT):
            await nursery.start(swarm.run)
        joined = await _joined(swarm, target)
        if joined:
            for topic in (NODE_INFO, HEALTH):
                await nursery.start(swarm.gossip.serve, topic, lambda _s, _m: None)
            yield Hostile(swarm, nursery)
        nursery.cancel_scope.cancel()
    if not joined:  # raised out here, not wrapped in the nursery's group
        raise Unwelcome(f"no connection to {target[-8:]} within {JOIN_TIMEOUT} s")


async def _joined(swarm: Swarm, target: str) -> bool:
    """Connected to `target`, and still a second later (a node with an
    allow-list closes a connection right after the handshake)."""

    async def connected() -> bool:
        return target in swarm.connected_peers()

    if not await eventually(connected, JOIN_TIMEOUT, every=0.1):
        return False
    await trio.sleep(1.0)
    return await eventually(connected, JOIN_TIMEOUT / 4, every=0.1)


# ------------------------------------------------------------ from outside


async def http(url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """`cluster.request` from trio (in a worker thread)."""
    return await trio.to_thread.run_sync(partial(request, url, method, path, body))


async def eventually(
    check: Callable[[], Awaitable[bool] | bool], timeout: float, every: float = 0.25
) -> bool:
    """Whether `check()` (sync or async) holds within `timeout` s."""
    with trio.move_on_after(timeout):
        while True:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return True
            await trio.sleep(every)
    return False


async def lists_node(api: str, node_id: str) -> bool:
    """Whether the node at `api` lists `node_id` (the hostile's gossip got in)."""
    status, body = await http(api, "GET", "/api/v1/orchestrator/nodes?limit=10000")
    if status != 200:
        return False
    return any(n["Info"]["NodeID"] == node_id for n in body.get("Nodes", []))


async def node_info_at(api: str, node_id: str) -> dict[str, Any] | None:
    """What the node at `api` believes about `node_id`."""
    status, body = await http(api, "GET", "/api/v1/orchestrator/nodes?limit=10000")
    if status != 200:
        return None
    for state in body.get("Nodes", []):
        if state["Info"]["NodeID"] == node_id:
            return dict(state["Info"])
    return None


def nested(depth: int) -> str:
    """JSON text of a mapping nested `depth` deep."""
    return '{"a":' * depth + "{}" + "}" * depth


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
