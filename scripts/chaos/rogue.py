"""Attacks of a hostile peer posing as a compute node.

It announces itself (node info and heartbeats) as a roomy compute node
labelled `chaos-node=rogue-…`, and honest users submit jobs pinned to
that label, so the scheduler hands them to it. Then it either swallows
them (a black hole) or reports forged results.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import trio
from hostile import Hostile, eventually, http, lists_node
from judge import JOBS, TERMINAL, noop_job
from peer_attacks import Net, Outcome, final_state, nonce, shows, submit

from bacalao.models.execution import RunCommandResult
from bacalao.models.states import ExecutionStateType
from bacalao.models.wire import AskBid, Bid, ExecutionUpdate, ExecutionUpdates
from bacalao.protocol import ASK_BID, EXECUTION_UPDATES

ROGUE_JOBS = 3
TIMEOUT = 10  # s: the jobs' own execution and queue timeouts


def rogue_job(label: str) -> dict[str, Any]:
    """A noop job pinned to the rogue, with short timeouts of its own, so a
    requester that enforces them ends it soon whatever the rogue does."""
    job = noop_job(pin=label)
    job["Tasks"][0]["Timeouts"] = {"ExecutionTimeout": TIMEOUT, "QueueTimeout": TIMEOUT}
    return job


async def _pose_as_compute(h: Hostile, net: Net, handler: Any) -> tuple[str, bool]:
    label = f"rogue-{nonce()[:6]}"
    h.answer(ASK_BID, handler)
    h.pose(h.compute_info(label))
    listed = await eventually(lambda: lists_node(net.a.api_url, h.peer_id), 15)
    return label, listed


async def _states(net: Net, ids: list[str]) -> Counter[str]:
    states: Counter[str] = Counter()
    for job_id in ids:
        status, body = await http(net.a.api_url, "GET", f"{JOBS}/{job_id}")
        states[body["Job"]["State"]["StateType"] if status == 200 else str(status)] += 1
    return states


async def black_hole(h: Hostile, net: Net) -> Outcome:
    """Accept every job and never report: each must still end in time."""
    asked: list[str] = []

    async def swallow(_peer: str, request: AskBid) -> Bid:
        asked.append(request.Execution.ID)
        return Bid(ExecutionID=request.Execution.ID, Accepted=True, NodeID=h.peer_id)

    label, listed = await _pose_as_compute(h, net, swallow)
    ids = [await submit(net, rogue_job(label)) for _ in range(ROGUE_JOBS)]

    async def all_ended() -> bool:
        return all(s in TERMINAL for s in await _states(net, ids))

    ended = await eventually(all_ended, net.wait, every=1.0)
    states = await _states(net, ids)
    return Outcome(
        ended,
        f"listed by a: {listed}; {len(asked)} executions handed to it; after "
        f"{net.wait:g} s: {dict(states)}",
    )


async def forged_result(h: Hostile, net: Net) -> Outcome:
    """Report Completed with forged output for jobs handed to it, and for an
    execution running on b (in b's name and in its own)."""
    mark = f"FORGED-{nonce()}"
    asked: list[str] = []

    def forged(execution_id: str, job_id: str, node_id: str) -> ExecutionUpdate:
        return ExecutionUpdate(
            ExecutionID=execution_id,
            JobID=job_id,
            NodeID=node_id,
            State=ExecutionStateType.Completed,
            RunOutput=RunCommandResult(Stdout=mark + "\n"),
        )

    async def report(request: AskBid) -> None:
        await trio.sleep(0.3)
        execution = request.Execution
        update = forged(execution.ID, execution.JobID, h.peer_id)
        updates = ExecutionUpdates(Updates=[update])
        await h.call(request.RequesterID, EXECUTION_UPDATES, updates)

    async def accept(_peer: str, request: AskBid) -> Bid:
        asked.append(request.Execution.ID)
        h.nursery.start_soon(report, request)
        return Bid(ExecutionID=request.Execution.ID, Accepted=True, NodeID=h.peer_id)

    label, listed = await _pose_as_compute(h, net, accept)
    ids = [await submit(net, rogue_job(label)) for _ in range(ROGUE_JOBS)]
    honest = await submit(net, noop_job(4.0, pin=net.b.name))
    spoofs = await _spoof_updates(h, net, honest, forged)
    for job_id in [*ids, honest]:
        await final_state(net.a.api_url, job_id, 30)
    served = [j for j in [*ids, honest] if await shows(net.a, j, mark)]
    return Outcome(
        not served,
        f"listed by a: {listed}; {len(asked)} executions handed to it; jobs "
        f"served with its forged output: {len(served)} of {len(ids) + 1}; "
        f"updates for b's execution: {spoofs}",
    )


async def _spoof_updates(h: Hostile, net: Net, job_id: str, forged: Any) -> str:
    """Completed reports for the execution b is running, sent by the hostile."""
    found: list[Any] = []

    async def placed() -> bool:
        status, body = await http(net.a.api_url, "GET", f"{JOBS}/{job_id}/executions")
        items = body.get("Items", []) if status == 200 else []
        found[:] = [e for e in items if e["NodeID"] == net.b.node_id]
        return bool(found)

    if not await eventually(placed, 20):
        return "b never got the honest job"

    answers = []
    for node_id, who in ((net.b.node_id, "in b's name"), (h.peer_id, "in its own")):
        updates = ExecutionUpdates(Updates=[forged(found[0]["ID"], job_id, node_id)])
        _ack, error = await h.call(net.a.node_id, EXECUTION_UPDATES, updates)
        answers.append(f"{who}: {error[:70] or 'acknowledged'}")
    return "; ".join(answers)
