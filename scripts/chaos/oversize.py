"""Attacks with jobs too big to handle: nested 400 deep, Count 10^30, a
snapshot over 1 MB. Each goes in through the API (as any user could send
it) and from the hostile peer (ask-bid, the open-calls topic, job events), raw
where our own models would refuse to encode it.

Refused means: the API answered 4xx (not 200, not a 5xx, not silence),
no node bid on it, and innocent work went on (judged here for the deep
job, which is sent while other clients submit; for all three by the
probe job `attacks.py` runs after each attack).
"""

from __future__ import annotations

import uuid
from typing import Any

import trio
from hostile import Hostile, dumps, eventually, http
from judge import JOBS, Submitter, noop_job
from peer_attacks import Net, Outcome, shows, stored_job

from bacalao.protocol import ASK_BID, JOB_EVENTS, OPEN_CALLS

DEPTH = 400
BIG_BYTES = 1_200_000
SHARED_WITHIN = 45  # s: longer than the shared view's periodic pull (30 s)


def deep_params(depth: int = DEPTH) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for _ in range(depth):
        params = {"a": params}
    return params


async def put_raw(net: Net, job: dict[str, Any]) -> tuple[int, str]:
    """PUT `job` as JSON text; (status, job ID or the answer's start)."""
    status, body = await http(net.a.api_url, "PUT", JOBS, dumps({"Job": job}).encode())
    if status == 200 and isinstance(body, dict):
        net.acknowledged(net.a, body["JobID"])
        return status, str(body["JobID"])
    return status, str(body)[:120]


def _refused_http(status: int) -> bool:
    return 400 <= status < 500


async def send_everywhere(h: Hostile, net: Net, job: dict[str, Any]) -> str:
    """The same job from the hostile peer: ask-bid to b, an open call on
    the open-calls topic, a snapshot on job events. Returns the ask-bid's answer."""
    execution = {"ID": f"e-{uuid.uuid4()}", "JobID": job["ID"], "NodeID": net.b.node_id}
    ask = {"Execution": {**execution, "Job": job}, "RequesterID": h.peer_id}
    bid, error = await h.call_raw(net.b.node_id, ASK_BID, dumps(ask))
    h.pose(h.orchestrator_info())
    call = {"RequesterID": h.peer_id, "Job": job}
    snapshot = {"RequesterID": h.peer_id, "Job": job, "Executions": []}
    for _ in range(3):
        await h.publish(OPEN_CALLS, dumps(call))
        await h.publish(
            JOB_EVENTS, dumps({"RequesterID": h.peer_id, "Jobs": [snapshot]})
        )
        await trio.sleep(0.5)
    if bid is None:
        return f"refused ({error[:80]})"
    return "ACCEPTED" if bid.Accepted else f"declined ({bid.Reason[:60]})"


def _job(requester: str, **changes: Any) -> dict[str, Any]:
    """A stored-form noop job (as a requester would send it), changed."""
    job = stored_job(noop_job(), requester).model_dump(mode="json", by_alias=True)
    job.update(changes)
    return job


async def nested_params(h: Hostile, net: Net) -> Outcome:
    """Engine.Params nested 400 deep, sent while other clients submit."""
    crowd = Submitter(net.a.api_url, lambda: noop_job(0.2), 2, 30).start()
    spec = noop_job()
    spec["Tasks"][0]["Engine"]["Params"] = deep_params()
    status, answer = await put_raw(net, spec)
    job = _job(h.peer_id)
    job["Tasks"][0]["Engine"]["Params"] = deep_params()
    bid = await send_everywhere(h, net, job)
    await trio.to_thread.run_sync(crowd.join)
    for job_id in crowd.acked:
        net.acknowledged(net.a, job_id)
    refused = _refused_http(status) and not crowd.refused and bid != "ACCEPTED"
    crowd_note = f"{len(crowd.acked)} acknowledged, {len(crowd.refused)} not"
    if crowd.refused:
        crowd_note += f" (e.g. {crowd.refused[0][:80]})"
    return Outcome(
        refused,
        f"API: HTTP {status} {answer[:60]!r}; ask-bid from the peer: {bid}; "
        f"innocent submissions meanwhile: {crowd_note}",
    )


async def huge_count(h: Hostile, net: Net) -> Outcome:
    """A batch job with Count 10^30."""
    spec = noop_job()
    spec["Count"] = 10**30
    status, answer = await put_raw(net, spec)
    bid = await send_everywhere(h, net, _job(h.peer_id, Count=10**30))
    refused = _refused_http(status) and bid != "ACCEPTED"
    return Outcome(
        refused, f"API: HTTP {status} {answer[:60]!r}; ask-bid from the peer: {bid}"
    )


async def big_snapshot(h: Hostile, net: Net) -> Outcome:
    """A job whose snapshot is over 1 MB (a 1.2 MB Meta value): the API must
    refuse it, or take it and keep the shared view whole (b shows it within
    SHARED_WITHIN s); the
    peer gossips a snapshot that size and asks b to run it (the probe job
    afterwards shows whether the network survived that)."""
    blob = "x" * BIG_BYTES
    spec = noop_job()
    spec["Meta"] = {"blob": blob}
    status, answer = await put_raw(net, spec)
    shared, seen = "", False
    if status == 200:
        started = trio.current_time()
        seen = await eventually(lambda: shows(net.b, answer, answer), SHARED_WITHIN)
        took = trio.current_time() - started
        shared = f"; b shows it after {took:.0f} s" if seen else "; b never shows it"
    bid = await send_everywhere(h, net, _job(h.peer_id, Meta={"blob": blob}))
    # a bid on a job within the spec bounds is no fault: the size is the attack
    refused = _refused_http(status) or seen
    return Outcome(
        refused,
        f"API: HTTP {status} {answer[:60]!r}{shared}; ask-bid from the peer: {bid}",
        accepted=seen,
    )
