"""Fault scenarios: nodes killed and restarted under work, and a flood of
submissions. Each takes the run's sizes and a work folder and returns a
`Row`.

Every scenario runs one requester (`serve --no-compute`) and two
compute-only nodes that join it, so work lost with a compute node can
only go on elsewhere through the scheduler, and the requester's own
recovery is what a requester kill tests.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cluster import Cluster, ServeNode, log, wait_for
from judge import (
    TERMINAL,
    Submitter,
    Tally,
    describe,
    docker_job,
    merge,
    noop_job,
    state_of,
    submit,
    tally,
)
from reliability import Row

RUNNING = 6


def start_network(
    work: Path, engines: str, computes: int = 2
) -> tuple[Cluster, ServeNode, list[ServeNode]]:
    """A requester and `computes` compute-only nodes, joined and listed."""
    cluster = Cluster(work)
    head = cluster.add("requester", compute=False)
    try:
        cluster.start(head)
        nodes = [
            cluster.add(
                f"compute-{i}",
                peer=head.swarm_addr,
                orchestrator=False,
                engines=engines,
            )
            for i in range(computes)
        ]
        cluster.start(*nodes)
        cluster.wait_formed(head)
    except BaseException:
        cluster.stop()
        raise
    return cluster, head, nodes


def _job_maker(sizes: Any, seconds: float) -> tuple[str, Callable[..., Any]]:
    if sizes.docker:
        return "docker,noop", lambda **kw: docker_job(seconds, **kw)
    return "noop", lambda **kw: noop_job(seconds, **kw)


def _running_on(head: ServeNode, job_id: str, timeout: float) -> str:
    """The node ID running `job_id` once an execution reports Running."""
    found: list[str] = []

    def running() -> bool:
        _status, described = describe(head.api_url, job_id)
        for execution in described.get("Executions", []):
            if execution["ComputeState"]["StateType"] == RUNNING:
                found.append(execution["NodeID"])
                return True
        if state_of(described) in TERMINAL:
            raise _Ended(state_of(described))
        return False

    wait_for(running, timeout, f"job {job_id} never reported Running")
    return found[0]


class _Ended(Exception):
    """The job ended before the fault could be injected."""


def _finish(row: Row, cluster: Cluster, started: float) -> Row:
    row.dead = list(cluster.check_deaths())
    row.seconds = time.perf_counter() - started
    return row


# ------------------------------------------------------------ compute kill


def compute_kill(sizes: Any, work: Path) -> Row:
    engine = (
        "Docker (`sleep 3; echo done` in busybox)" if sizes.docker else "noop (3 s)"
    )
    row = Row(
        "compute-kill",
        f"compute node SIGKILLed mid-job x{sizes.kill_rounds}",
        f"one requester, two compute nodes; each round submits one {engine} "
        "job, waits until an execution reports Running, SIGKILLs the compute "
        "node running it, waits for the job to end, then restarts the killed "
        "node on its repo. Each job must be re-placed and Completed, once.",
        expect_completed=True,
    )
    started = time.perf_counter()
    engines, make = _job_maker(sizes, 3.0)
    cluster, head, nodes = start_network(work, engines)
    by_id = {n.node_id: n for n in nodes}
    acked: list[str] = []
    try:
        for rnd in range(sizes.kill_rounds):
            job_id, why = submit(head.api_url, make())
            if not job_id:
                row.problems.append(f"round {rnd + 1}: submission refused: {why}")
                continue
            acked.append(job_id)
            try:
                victim = by_id[_running_on(head, job_id, sizes.settle)]
            except _Ended as ended:
                row.notes.append(f"round {rnd + 1}: job ended {ended} before the kill")
                continue
            time.sleep(random.uniform(0.2, 1.0))
            victim.kill()
            log(f"compute-kill round {rnd + 1}: killed {victim.name}")
            one = tally(head.api_url, [job_id], sizes.settle)
            if one.terminal == 0:
                row.notes.append(f"round {rnd + 1}: job not terminal before restart")
            cluster.restart(victim)
            cluster.wait_formed(head)
            row.rounds += 1
        row.jobs = tally(head.api_url, acked, sizes.settle, [n.repo for n in nodes])
    finally:
        cluster.stop()
    return _finish(row, cluster, started)


# ---------------------------------------------------------- requester kill


def requester_kill(sizes: Any, work: Path) -> Row:
    n = sizes.requester_jobs
    row = Row(
        "requester-kill",
        f"requester SIGKILLed with {n} jobs in flight x{sizes.requester_rounds}, "
        "restarted",
        f"one requester, two compute nodes; each round 4 client threads submit "
        f"{n} noop jobs of 1 s; the requester is SIGKILLed once all {n} are "
        "acknowledged (odd rounds) or once about 60% are, with submissions "
        "still arriving (even rounds), and restarted on the same repo and "
        f"ports. Every job the API acknowledged must end terminal within "
        f"{sizes.round_settle:g} s of the restart (they take about 15 s).",
    )
    started = time.perf_counter()
    cluster, head, nodes = start_network(work, "noop")
    rounds: list[Tally] = []
    try:
        for rnd in range(sizes.requester_rounds):
            kill_at = n if rnd % 2 == 0 else max(1, int(n * 0.6))
            sub = Submitter(head.api_url, lambda: noop_job(1.0), 4, n).start()
            wait_for(
                lambda k=kill_at, s=sub: len(s.acked) >= k or len(s.refused) > 0,
                sizes.settle,
                f"{kill_at} submissions not acknowledged",
                tick=0.01,
            )
            head.kill()
            sub.stop()
            sub.join()
            log(
                f"requester-kill round {rnd + 1}: killed with {len(sub.acked)} "
                f"acknowledged"
            )
            if sub.refused:
                row.notes.append(
                    f"round {rnd + 1}: {len(sub.refused)} submissions unanswered "
                    f"around the kill (not acknowledged, not counted): "
                    f"{sub.refused[0]}"
                )
            cluster.restart(head)
            cluster.wait_formed(head)
            # judged per round: the next restart could revive a stuck job
            repos = [c.repo for c in nodes]
            rounds.append(tally(head.api_url, sub.acked, sizes.round_settle, repos))
            row.rounds += 1
        row.jobs = merge(rounds)
    finally:
        cluster.stop()
    return _finish(row, cluster, started)


# ------------------------------------------------------- compute restart


def compute_restart(sizes: Any, work: Path) -> Row:
    jobs = sizes.restart_jobs
    row = Row(
        "compute-restart",
        f"compute node restarted holding executions x{sizes.restart_rounds}",
        f"one requester, two compute nodes; {jobs} jobs pinned to compute-0 "
        "(more than it runs at once, so some wait in its queue); once at least "
        "two report Running, compute-0 gets SIGTERM and is started again on "
        "its repo. Every job must end Completed, once.",
        expect_completed=True,
    )
    started = time.perf_counter()
    engines, make = _job_maker(sizes, 4.0)
    cluster, head, nodes = start_network(work, engines)
    node = nodes[0]
    acked: list[str] = []
    try:
        for _rnd in range(sizes.restart_rounds):
            ids = [submit(head.api_url, make(pin=node.name))[0] for _ in range(jobs)]
            acked += [i for i in ids if i]
            wait_for(
                lambda ids=ids: _count_running(head, ids) >= min(2, len(ids)),
                sizes.settle,
                "pinned jobs never reported Running",
            )
            node.terminate()
            cluster.restart(node)
            cluster.wait_formed(head)
            tally(head.api_url, ids, sizes.settle)
            row.rounds += 1
        row.jobs = tally(head.api_url, acked, sizes.settle, [n.repo for n in nodes])
    finally:
        cluster.stop()
    return _finish(row, cluster, started)


def _count_running(head: ServeNode, ids: list[str]) -> int:
    count = 0
    for job_id in ids:
        _status, described = describe(head.api_url, job_id)
        states = [e["ComputeState"]["StateType"] for e in described["Executions"]]
        count += RUNNING in states
    return count


# ----------------------------------------------------------- submissions


def submissions(sizes: Any, work: Path) -> Row:
    n, clients = sizes.burst_jobs, sizes.burst_clients
    row = Row(
        "submissions",
        f"{n} submissions from {clients} clients",
        f"one requester, two compute nodes; {clients} client threads submit "
        f"{n} noop jobs back to back, each on its own connection. Every "
        "submission must be acknowledged, and every job end Completed, once, "
        "with a distinct ID.",
        expect_completed=True,
    )
    started = time.perf_counter()
    cluster, head, nodes = start_network(work, "noop")
    try:
        sub = Submitter(head.api_url, noop_job, clients, n).start()
        sub.join(timeout=sizes.settle * 3)
        sub.stop()
        if sub.refused:
            row.problems.append(
                f"{len(sub.refused)} of {n} submissions not acknowledged, "
                f"e.g. {sub.refused[0]}"
            )
        duplicates = len(sub.acked) - len(set(sub.acked))
        if duplicates:
            row.problems.append(f"{duplicates} job IDs acknowledged twice")
        row.jobs = tally(head.api_url, sub.acked, sizes.settle, [c.repo for c in nodes])
        row.rounds = 1
    finally:
        cluster.stop()
    return _finish(row, cluster, started)
