"""Figures 4 and 9: many jobs on `bacalao serve` processes.

4. Throughput: one requester process (`--no-compute`) and N compute-only
   processes (`--no-orchestrator --engines noop`), every one bootstrapped
   from the requester;
   clients in threads submit to the requester only.
9. Footprint: one standalone `bacalao serve --allow-noop` (every engine
   that works here, as an operator would run it): RSS after it has idled,
   then after a burst of noop jobs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from harness import (
    ALONE,
    Api,
    BenchError,
    NodeProcess,
    cpu_seconds,
    rss_mb,
    serve_argv,
    stop_all,
    wait_ready,
)
from load import submit_burst, throughput, verify, wait_terminal
from report import Figure, dist, profile_lines
from spy import Sampler


def wait_nodes(api: Api, count: int, timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while len(api.node_ids()) < count:
        if time.perf_counter() > deadline:
            raise BenchError(f"node list below {count} after {timeout} s")
        time.sleep(0.1)


def start_cluster(work: Path, computes: int) -> list[NodeProcess]:
    head = NodeProcess(
        "requester",
        serve_argv(work / "requester", compute=False, engines=None),
        work / "requester.log",
        env=ALONE,
    ).start()
    procs = [head]
    try:
        wait_ready([head])
        for i in range(computes):
            argv = serve_argv(
                work / f"compute-{i}", peer=head.swarm_addrs[0], orchestrator=False
            )
            log = work / f"compute-{i}.log"
            procs.append(NodeProcess(f"compute-{i}", argv, log, env=ALONE).start())
        wait_ready(procs)
        wait_nodes(Api(head.api_url), computes + 1)
    except BaseException:
        stop_all(procs)
        raise
    return procs


def figure_4(sizes: Any, work: Path) -> list[Figure]:
    fig = Figure.new(
        4,
        f"{sizes.throughput_jobs} noop jobs submitted back to back by "
        f"{sizes.clients} client threads (one keep-alive connection each) to "
        f"one requester process (`bacalao serve --no-compute`) with "
        f"{sizes.compute_nodes} compute-only processes "
        "(`--no-orchestrator --engines noop`); jobs/s "
        "from the first submission to the last Completed (server ModifyTime); "
        "then every job's executions and history are checked. Clients stop "
        f"sending after {sizes.drain_timeout:g} s, the watcher waits as long "
        "again; a job not Completed by then counts as lost.",
    )
    procs = start_cluster(work / "fig4", sizes.compute_nodes)
    head = procs[0]
    try:
        cpu0 = [cpu_seconds(p.pid) for p in procs]
        t0 = time.perf_counter()
        burst = submit_burst(
            head.api_url, sizes.throughput_jobs, sizes.clients, sizes.drain_timeout
        )
        wait_terminal(head.api_url, burst, timeout=sizes.drain_timeout)
        wall = time.perf_counter() - t0
        cpu1 = [cpu_seconds(p.pid) for p in procs]
        rss_head = rss_mb(head.pid)
        check = verify(head.api_url, burst, sizes.drain_timeout)
        rate = throughput(burst)
        if sizes.profile and Sampler.available():
            sampler = Sampler(head.pid, work / "profile-fig4-requester.txt").start()
            more = submit_burst(
                head.api_url,
                sizes.throughput_jobs // 4,
                sizes.clients,
                sizes.drain_timeout / 4,
            )
            wait_terminal(head.api_url, more, timeout=sizes.drain_timeout / 4)
            fig.profile = profile_lines(
                f"requester process, {sizes.throughput_jobs // 4} more jobs from "
                f"{sizes.clients} clients",
                sampler.stop(),
            )
    finally:
        stop_all(procs)
    head_cpu = (cpu1[0] - cpu0[0]) / wall * 100
    compute_cpu = sum(b - a for a, b in zip(cpu0[1:], cpu1[1:], strict=True)) / wall
    fig.data = {**rate, **check, "requester_cpu_pct": head_cpu}
    fig.data["compute_cpu_cores"] = compute_cpu
    fig.data["requester_rss_mb"] = rss_head
    fig.data["watch_requests"] = burst.watch_requests
    fig.met = (
        rate["jobs_per_s"] >= 300
        and check["lost"] == 0
        and check["duplicated"] == 0
        and check["unchecked"] == 0
        and check["submitted"] == sizes.throughput_jobs
    )
    cut = ""
    if check["unsent"] or check["rejected"]:
        cut = f" ({check['submitted']} of {sizes.throughput_jobs} accepted in time)"
    fig.result = (
        f"{rate['jobs_per_s']:.0f} jobs/s; lost {check['lost']}, "
        f"duplicated {check['duplicated']}{cut}"
    )
    fig.rows = [
        ("jobs/s to Completed", f"{rate['jobs_per_s']:.1f}"),
        (
            "submissions",
            f"{check['submitted']} accepted, {check['rejected']} refused or "
            f"timed out, {check['unsent']} not sent within "
            f"{sizes.drain_timeout:g} s; {rate['submitted_per_s']:.1f} /s "
            f"over {rate['submit_window_s']:.1f} s",
        ),
        ("PUT /jobs response time", dist(rate["put_ms"])),
        ("first submission → last Completed", f"{rate['window_s']:.1f} s"),
        ("final job states", str(check["states"])),
        (
            "lost / duplicated / not checked in time",
            f"{check['lost']} / {check['duplicated']} / {check['unchecked']}",
        ),
    ]
    fig.rows.append(("per job, CreateTime → Completed", dist(rate["server_ms"])))
    fig.rows += [
        ("requester CPU during the run", f"{head_cpu:.0f}% of one core"),
        ("compute processes' CPU, summed", f"{compute_cpu:.2f} cores"),
        ("Completed executions per compute node", str(check["executions_per_node"])),
        ("requester RSS after the run", f"{rss_head:.0f} MB"),
    ]
    return [fig]


def figure_9(sizes: Any, work: Path) -> list[Figure]:
    fig = Figure.new(
        9,
        f"one standalone `bacalao serve --allow-noop` (all engines that work "
        f"here), no peers: RSS after {sizes.idle_s} s idle; then "
        f"{sizes.footprint_jobs} noop jobs from {sizes.clients} clients, RSS "
        f"once all are Completed and again {_settle(sizes):g} s later.",
    )
    argv = serve_argv(work / "fig9" / "node", engines=None)
    node = NodeProcess("footprint", argv, work / "fig9" / "node.log", env=ALONE)
    node.start()
    try:
        wait_ready([node])
        at_start = rss_mb(node.pid)
        time.sleep(sizes.idle_s)
        idle = rss_mb(node.pid)
        burst = submit_burst(
            node.api_url, sizes.footprint_jobs, sizes.clients, sizes.drain_timeout
        )
        wait_terminal(node.api_url, burst, timeout=sizes.drain_timeout)
        after = rss_mb(node.pid)
        time.sleep(_settle(sizes))
        settled = rss_mb(node.pid)
        peak = _hwm(node.pid)
    finally:
        node.stop()
    done = len(burst.completed)
    growth = settled - idle
    fig.data = {"rss_start_mb": at_start, "rss_idle_mb": idle, "rss_after_mb": after}
    fig.data |= {"rss_settled_mb": settled, "rss_peak_mb": peak, "completed": done}
    fig.data["growth_mb"] = growth
    fig.met = idle <= 100 and growth <= 20 and done == sizes.footprint_jobs
    fig.result = f"idle {idle:.0f} MB; growth {growth:+.0f} MB after {done} jobs"
    fig.rows = [
        ("RSS when ready", f"{at_start:.0f} MB"),
        (f"RSS after {sizes.idle_s} s idle", f"{idle:.0f} MB"),
        (
            f"RSS when {done} of {sizes.footprint_jobs} jobs had Completed",
            f"{after:.0f} MB",
        ),
        (f"RSS {_settle(sizes):g} s later", f"{settled:.0f} MB"),
        ("peak RSS (VmHWM)", f"{peak:.0f} MB"),
        ("growth (settled - idle)", f"{growth:+.1f} MB"),
    ]
    return [fig]


def _settle(sizes: Any) -> float:
    return 5.0 if sizes.idle_s >= 5 else 0.5


def _hwm(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
