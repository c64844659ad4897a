"""Attacks of a hostile peer on node tables, logs, the shared view and bids:
one per function.

Each takes the running `Hostile` and the `Net` under attack and returns an
`Outcome`: whether the network refused the attack, judged from outside
(the API's view of a node, a job's name and output on other nodes, the
lines a stream gave back, the files a job left), and the evidence.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio
from hostile import (
    Honest,
    Hostile,
    dumps,
    eventually,
    http,
    lists_node,
    node_info_at,
)
from judge import JOBS, TERMINAL, docker_job, noop_job

from bacalao.models.execution import Execution, RunCommandResult
from bacalao.models.job import Job
from bacalao.models.node import NodeInfo
from bacalao.models.wire import (
    AskBid,
    JobEvents,
    JobSnapshot,
    LogsRequest,
    NodesRequest,
    NodesResponse,
    SyncRequest,
    SyncResponse,
)
from bacalao.orchestrator.submission import JobDefaults, prepare_job
from bacalao.p2p.exceptions import P2PError
from bacalao.protocol import ASK_BID, JOB_EVENTS, LOGS, NODES, SYNC

FORGED_SEQ = 10**15


@dataclass(frozen=True)
class Outcome:
    refused: bool
    evidence: str
    # handled by taking it safely (e.g. a big job, accepted and replicated):
    # there is no refusal for an operator to see counted
    accepted: bool = False


@dataclass
class Net:
    """The network under attack: two nodes, each orchestrator and compute."""

    a: Honest
    b: Honest
    work: Path
    docker: bool
    wait: float  # how long a job handed to a black hole may take to end
    finished_job: str  # a Completed job owned by a (ran on b)
    secret: Path  # a folder outside every repo holding `stdout` and `stderr`
    acked: dict[str, list[str]] = field(default_factory=dict)  # by API URL

    def acknowledged(self, via: Honest, job_id: str) -> None:
        self.acked.setdefault(via.api_url, []).append(job_id)


def nonce() -> str:
    return uuid.uuid4().hex[:12]


def stored_job(spec: dict[str, Any], requester: str) -> Job:
    """`spec` as an orchestrator would store it (ID, defaults, state)."""
    job = Job.model_validate(spec)
    return prepare_job(
        job, node_id=requester, now_ns=time.time_ns(), defaults=JobDefaults()
    )


async def submit(net: Net, spec: dict[str, Any], via: Honest | None = None) -> str:
    """Submit `spec` through the API (as an honest user); "" if refused."""
    via = via or net.a
    status, body = await http(via.api_url, "PUT", JOBS, {"Job": spec})
    if status == 200:
        net.acknowledged(via, body["JobID"])
        return str(body["JobID"])
    return ""


async def final_state(api: str, job_id: str, timeout: float) -> str:
    """The job's state once terminal, or its state after `timeout` s."""
    seen = [""]

    async def ended() -> bool:
        status, body = await http(api, "GET", f"{JOBS}/{job_id}")
        seen[0] = body["Job"]["State"]["StateType"] if status == 200 else f"{status}"
        return seen[0] in TERMINAL

    await eventually(ended, timeout)
    return seen[0]


# ---------------------------------------------------------------- node table


def as_requester(info: dict[str, Any], seq: int) -> NodeInfo:
    """A compute node's info rewritten to say it runs nothing."""
    forged = NodeInfo.model_validate(info)
    return forged.model_copy(
        update={"NodeType": "Requester", "ComputeNodeInfo": None, "Seq": seq}
    )


async def still_compute(viewer: Honest, victim: Honest) -> bool:
    info = await node_info_at(viewer.api_url, victim.node_id)
    return bool(
        info and info.get("ComputeNodeInfo") and info["NodeType"] != "Requester"
    )


async def runs_pinned(net: Net, via: Honest, on: Honest) -> str:
    job_id = await submit(net, noop_job(pin=on.name), via)
    return await final_state(via.api_url, job_id, 30) if job_id else "refused"


async def node_table_rewrite(h: Hostile, net: Net) -> Outcome:
    """Turn b into a "Requester" in a's table (NODES with `Self` = b's info),
    and a into one in b's (a forged table answered to b's pull)."""
    real_b = await node_info_at(net.a.api_url, net.b.node_id)
    real_a = await node_info_at(net.b.api_url, net.a.node_id)
    assert real_a, "b does not list a"
    assert real_b, "a does not list b"
    forged_b = as_requester(real_b, real_b["Seq"] + FORGED_SEQ)
    request = NodesRequest(Self=h.wire_info(forged_b))
    _answer, error = await h.call(net.a.node_id, NODES, request)
    await trio.sleep(1.0)
    pushed = await still_compute(net.a, net.b), await runs_pinned(net, net.a, net.b)

    forged_a = as_requester(real_a, real_a["Seq"] + FORGED_SEQ)
    pulled_by: list[str] = []

    async def table(peer: str, _request: NodesRequest) -> NodesResponse:
        pulled_by.append(peer)
        return NodesResponse(Nodes=[h.wire_info(forged_a)])

    h.answer(NODES, table)
    h.pose(h.orchestrator_info(), known=10_000)  # "I know many nodes": pull me
    await eventually(lambda: net.b.node_id in pulled_by, 20)
    await trio.sleep(1.0)
    pulled = await still_compute(net.b, net.a), await runs_pinned(net, net.b, net.a)
    refused = pushed == (True, "Completed") and pulled == (True, "Completed")
    return Outcome(
        refused,
        f"NODES Self=b-as-Requester to a ({error or 'answered'}): a sees b as "
        f"compute {pushed[0]}, job pinned to b {pushed[1]}; forged table "
        f"pulled by b: {net.b.node_id in pulled_by}, b sees a as compute "
        f"{pulled[0]}, job pinned to a {pulled[1]}",
    )


# ---------------------------------------------------------------------- logs


async def read_lines(h: Hostile, peer: str, execution_id: str) -> tuple[list[str], str]:
    lines: list[str] = []
    request = LogsRequest(ExecutionID=execution_id)
    try:
        with trio.move_on_after(10):
            async with h.swarm.rpc.open_stream(peer, LOGS, request) as chunks:
                async for chunk in chunks:
                    lines.append(chunk.Line)
                    if len(lines) >= 20:
                        break
    except P2PError as exc:
        return lines, f"{type(exc).__name__}: {exc}"
    return lines, ""


def _relative(path: Path, start: Path) -> str:
    return os.path.relpath(path, start)


async def logs_escape(h: Hostile, net: Net) -> Outcome:
    """Read `stdout`/`stderr` files outside b's results folders (which hold
    the finished job's), and b's own log (/dev/stdout), through LOGS."""
    tries = {
        "/dev": "the node's own log",
        str(net.secret): "a planted file (absolute path)",
        _relative(net.secret, net.b.repo / "executions"): "(relative path)",
    }
    leaks, answers = [], []
    for execution_id, what in tries.items():
        lines, error = await read_lines(h, net.b.node_id, execution_id)
        answers.append(f"{execution_id!r}: {error or f'{len(lines)} lines'}")
        if lines:
            leaks.append(f"{what} via {execution_id!r}: {lines[0][:50]!r}")
    return Outcome(
        not leaks, "; ".join(leaks) if leaks else "answers: " + "; ".join(answers)
    )


# --------------------------------------------------------------- shared view


async def shows(node: Honest, job_id: str, mark: str) -> bool:
    status, body = await http(
        node.api_url, "GET", f"{JOBS}/{job_id}?include=executions"
    )
    return status == 200 and mark in dumps(body)


async def shared_view_rewrite(h: Hostile, net: Net) -> Outcome:
    """Rewrite a's finished job everywhere: a higher Revision, a new name and
    output, under the hostile's own RequesterID (gossip and sync pull)."""
    job_id, mark = net.finished_job, f"FORGED-{nonce()}"
    status, body = await http(
        net.a.api_url, "GET", f"{JOBS}/{job_id}?include=executions"
    )
    assert status == 200, body
    job = Job.model_validate(body["Job"])
    job = job.model_copy(
        update={
            "Name": mark,
            "Revision": job.Revision + 1000,
            "ModifyTime": job.ModifyTime + 1,
        }
    )
    output = RunCommandResult(Stdout=mark + "\n")
    executions = [
        Execution.model_validate(e).model_copy(update={"RunOutput": output})
        for e in body["Executions"]["Items"]
    ]
    snap = JobSnapshot(RequesterID=h.peer_id, Job=job, Executions=executions)
    synced: list[str] = []

    async def sync(peer: str, _request: SyncRequest) -> SyncResponse:
        synced.append(peer)
        return SyncResponse(Jobs=[snap])

    h.answer(SYNC, sync)
    h.pose(h.orchestrator_info())
    listed = await eventually(lambda: lists_node(net.b.api_url, h.peer_id), 15)
    for _ in range(6):
        await h.publish(JOB_EVENTS, JobEvents(RequesterID=h.peer_id, Jobs=[snap]))
        await trio.sleep(0.5)
    await eventually(lambda: net.b.node_id in synced, 10)
    await trio.sleep(1.0)
    served = [n.name for n in (net.a, net.b) if await shows(n, job_id, mark)]
    return Outcome(
        not served,
        f"hostile listed by b: {listed}; its sync answer pulled by b: "
        f"{net.b.node_id in synced}; nodes serving the forged name/output: "
        f"{', '.join(served) or 'none'}",
    )


# ------------------------------------------------------------------ ask-bid


async def ran_on(node: Honest, execution_id: str, mark: str) -> bool:
    path = trio.Path(node.repo / "executions" / execution_id / "stdout")
    try:
        return mark in await path.read_text(errors="replace")
    except OSError:
        return False


async def _ask_bid(h: Hostile, net: Net, requester: str, who: str) -> Outcome:
    """ASK_BID straight to b in `requester`'s name, with a job printing a mark."""
    mark = f"PWNED-{nonce()}"
    spec = docker_job(0, pin=net.b.name) if net.docker else noop_job(pin=net.b.name)
    engine = spec["Tasks"][0]["Engine"]
    if net.docker:
        engine["Params"]["Parameters"] = [f"echo {mark}"]
    else:
        engine["Params"]["Stdout"] = mark + "\n"
    job = stored_job(spec, requester)
    execution = Execution(
        ID=f"e-{uuid.uuid4()}", JobID=job.ID, NodeID=net.b.node_id, Job=job
    )
    ask = AskBid(Execution=execution, RequesterID=requester)
    bid, error = await h.call(net.b.node_id, ASK_BID, ask)
    ran = await eventually(lambda: ran_on(net.b, execution.ID, mark), 15)
    accepted = bool(bid and bid.Accepted)
    return Outcome(
        not (accepted or ran), f"{who}: bid {_bid(bid, error)}; the job ran: {ran}"
    )


async def ask_bid_as_another(h: Hostile, net: Net) -> Outcome:
    """Skip the orchestrators: ASK_BID straight to b in a's name."""
    return await _ask_bid(h, net, net.a.node_id, "in a's name")


async def ask_bid_as_itself(h: Hostile, net: Net) -> Outcome:
    """ASK_BID straight to b in the hostile's own name: a network open to
    any requester runs it; one whose compute nodes serve only its own
    orchestrators must not."""
    return await _ask_bid(h, net, h.peer_id, "in its own name")


def _bid(bid: Any, error: str) -> str:
    if bid is None:
        return f"refused ({error[:80]})"
    return "accepted" if bid.Accepted else f"declined ({bid.Reason[:80]})"
