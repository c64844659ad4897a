"""Figures 5, 6, 7: swarms of node processes on this machine.

Each swarm size gets fresh processes of `probe_node.py` (`bacalao serve`
plus a gossip probe topic; noop engine only, `--engines noop`, so no Docker
client or WASM check in 50 processes). Node 0 starts first; the others start
together, each with only node 0's address as `--peer`.

5. Formation: from the moment the last process has its API up until every
   node's `GET /api/v1/orchestrator/nodes` lists all N as connected (also
   from the moment the N-1 processes were spawned), then idle CPU and RSS.
6. Gossip: a probe published by a random node, 100 times; each receiver's
   delivery time against the sender's clock (one machine, one clock).
7. Job at scale: figure 1's loop through node 0 of the largest swarm, and
   of a 3-process swarm for a like-for-like baseline.
"""

from __future__ import annotations

import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    ALONE,
    Api,
    BenchError,
    NodeProcess,
    cpu_seconds,
    job_loop,
    percentile,
    rss_mb,
    serve_argv,
    stop_all,
    summary,
    wait_ready,
)
from report import Figure, dist, ms, profile_lines, secs
from spy import Sampler

_NODE_ID = re.compile(r"^bacalao node (\S+)", re.M)
_PROBE = re.compile(r"^probe-(sent|recv) (\S+) ([\d.]+)$")


@dataclass
class Swarm:
    size: int
    procs: list[NodeProcess]
    ids: list[str]
    spawned_at: float
    formation: dict[str, Any] = field(default_factory=dict)


def start_swarm(work: Path, size: int) -> Swarm:
    def node(i: int, peer: str | None) -> NodeProcess:
        argv = serve_argv(work / f"n{i}", peer=peer, launcher=True)
        return NodeProcess(f"n{i}", argv, work / f"n{i}.log", stdin=True, env=ALONE)

    first = node(0, None).start()
    procs = [first]
    try:
        wait_ready([first])
        spawned = time.perf_counter()
        procs += [node(i, first.swarm_addrs[0]).start() for i in range(1, size)]
        swarm = Swarm(size, procs, [], spawned)
        swarm.formation = _watch_formation(swarm, timeout=60 + 3 * size)
    except BaseException:
        stop_all(procs)
        raise
    return swarm


def _watch_formation(swarm: Swarm, timeout: float) -> dict[str, Any]:
    """Poll readiness and node lists until every node lists all N."""
    procs = swarm.procs
    apis: dict[int, Api] = {}
    complete: dict[int, float] = {}
    deadline = time.perf_counter() + timeout
    best = 0

    def check(i: int) -> tuple[int, int]:
        try:
            return i, len(apis[i].node_ids() & set(swarm.ids))
        except (BenchError, OSError):
            return i, 0

    with ThreadPoolExecutor(8) as pool:
        while len(complete) < len(procs):
            for i, p in enumerate(procs):
                if i not in apis and p.poll_ready("API:"):
                    apis[i] = Api(p.api_url, timeout=10)
            if len(apis) == len(procs) and not swarm.ids:
                swarm.ids = [_NODE_ID.findall(p.log.read_text())[0] for p in procs]
            if swarm.ids:
                todo = [i for i in apis if i not in complete]
                for i, seen in pool.map(check, todo):
                    best = max(best, seen)
                    if seen == len(procs):
                        complete[i] = time.perf_counter()
            if time.perf_counter() > deadline:
                return {
                    "error": f"{len(procs)}-node swarm not formed after "
                    f"{timeout:.0f} s: {len(apis)} APIs up, {len(complete)} lists "
                    f"complete, longest list {best}"
                }
            time.sleep(0.1)
        confirm = sum(
            1 for _, seen in pool.map(check, range(len(procs))) if seen == len(procs)
        )
    last_ready = max(p.ready_at for p in procs)
    formed = max(complete.values())
    return {
        "startup_s": last_ready - swarm.spawned_at,
        "after_last_ready_s": formed - last_ready,
        "from_spawn_s": formed - swarm.spawned_at,
        "confirmed": confirm,
    }


def idle_load(swarm: Swarm, seconds: float) -> dict[str, Any]:
    """CPU used by the whole idle swarm over `seconds`, and RSS per process."""
    before = [cpu_seconds(p.pid) for p in swarm.procs]
    time.sleep(seconds)
    used = [cpu_seconds(p.pid) - b for p, b in zip(swarm.procs, before, strict=True)]
    rss = [rss_mb(p.pid) for p in swarm.procs]
    return {
        "cpu_cores": sum(used) / seconds,
        "cpu_per_node_pct": summary([100 * u / seconds for u in used]),
        "rss_mb": summary(rss),
        "rss_total_mb": sum(rss),
    }


class ProbeLog:
    """Incremental reader of the probe lines in every node's log."""

    def __init__(self, procs: list[NodeProcess]) -> None:
        self.procs = procs
        self.offsets = [0] * len(procs)
        self.sent: dict[str, tuple[int, float]] = {}
        self.recv: dict[str, dict[int, float]] = {}

    def read(self) -> None:
        for i, p in enumerate(self.procs):
            with p.log.open("rb") as f:
                f.seek(self.offsets[i])
                chunk = f.read()
            end = chunk.rfind(b"\n") + 1
            self.offsets[i] += end
            for line in chunk[:end].decode(errors="replace").splitlines():
                match = _PROBE.match(line)
                if not match:
                    continue
                kind, pid, at = match.group(1), match.group(2), float(match.group(3))
                if kind == "sent":
                    self.sent[pid] = (i, at)
                else:
                    self.recv.setdefault(pid, {})[i] = at


def gossip_probes(
    swarm: Swarm, count: int, late: float, budget: float, wait: float = 5.0
) -> dict[str, Any]:
    """Publish `count` probes from random nodes; delivery share and latencies.

    Stops publishing once `budget` s have passed (`published` says how many).
    """
    rng = random.Random(5)
    log = ProbeLog(swarm.procs)
    others = swarm.size - 1
    stop = time.perf_counter() + budget
    for k in range(count):
        if time.perf_counter() > stop:
            break
        probe_id = f"p{k}"
        swarm.procs[rng.randrange(swarm.size)].send(f"probe {probe_id}")
        deadline = time.perf_counter() + wait
        while time.perf_counter() < deadline:
            time.sleep(0.02)
            log.read()
            if probe_id in log.sent and _receivers(log, probe_id) >= others:
                break
        time.sleep(0.05)
    time.sleep(late)
    log.read()
    latencies: list[float] = []
    worst: list[float] = []
    delivered = 0
    for probe_id, (sender, sent) in log.sent.items():
        got = {i: t for i, t in log.recv.get(probe_id, {}).items() if i != sender}
        delivered += len(got)
        lat = [(t - sent) * 1000 for t in got.values()]
        latencies += lat + [float("inf")] * (others - len(got))
        worst.append(max(lat) if len(got) == others else float("inf"))
    expected = len(log.sent) * others
    return {
        "published": len(log.sent),
        "expected": expected,
        "delivered": delivered,
        "delivered_pct": 100 * delivered / expected if expected else 0.0,
        "latency_ms": summary([x for x in latencies if x != float("inf")]),
        "p99_all_ms": percentile(latencies, 99),
        "all_reached_ms": summary([x for x in worst if x != float("inf")]),
        "all_reached_p99_ms": percentile(worst, 99),
    }


def _receivers(log: ProbeLog, probe_id: str) -> int:
    sender = log.sent[probe_id][0]
    return sum(1 for i in log.recv.get(probe_id, {}) if i != sender)


def jobs_through_node_0(swarm: Swarm, sizes: Any) -> dict[str, Any]:
    api = Api(swarm.procs[0].api_url)
    job_loop(api, sizes.warmup, sizes.poll, sizes.loop_budget)
    loop = job_loop(api, sizes.scale_jobs, sizes.poll, sizes.loop_budget)
    return {
        "client_ms": loop.client,
        "server_ms": loop.server,
        "problems": loop.problems(),
    }


def _step(got: dict[str, Any], key: str, fn: Any, *args: Any) -> None:
    """got[key] = fn(*args), or {"error": ...}: one broken step spoils no other."""
    try:
        got[key] = fn(*args)
    except Exception as exc:
        got[key] = {"error": f"{type(exc).__name__}: {exc}"}


def _profile_idle(swarm: Swarm, sizes: Any, work: Path) -> list[str]:
    pid = swarm.procs[swarm.size // 2].pid
    sampler = Sampler(pid, work / f"profile-swarm{swarm.size}-idle.txt").start()
    time.sleep(sizes.idle_window)
    return profile_lines(
        f"one idle node of the {swarm.size}-node swarm", sampler.stop()
    )


def run(sizes: Any, work: Path) -> list[Figure]:
    results: dict[int, dict[str, Any]] = {}
    largest = max(sizes.swarm_sizes)
    for size in sizes.swarm_sizes:
        swarm = start_swarm(work / f"swarm-{size}", size)
        got: dict[str, Any] = {"formation": swarm.formation}
        results[size] = got
        try:
            _step(got, "idle", idle_load, swarm, sizes.idle_window)
            if size == largest:
                _step(
                    got,
                    "gossip",
                    gossip_probes,
                    swarm,
                    sizes.probes,
                    sizes.probe_wait,
                    sizes.loop_budget,
                )
            if size in (largest, 3):
                _step(got, "jobs", jobs_through_node_0, swarm, sizes)
            if size in (10, largest) and sizes.profile and Sampler.available():
                _step(got, "profile", _profile_idle, swarm, sizes, work)
        finally:
            stop_all(swarm.procs)
    return [
        _figure_5(sizes, results),
        _figure_6(sizes, results[largest], largest),
        _figure_7(sizes, results, largest),
    ]


def _figure_5(sizes: Any, results: dict[int, Any]) -> Figure:
    fig = Figure.new(
        5,
        f"{', '.join(map(str, sizes.swarm_sizes))} processes of "
        "`scripts/bench/probe_node.py` (= `bacalao serve --engines noop "
        "--allow-noop` + a probe topic) on 127.0.0.1; node 0 first, then the "
        "rest at once with only node 0 as `--peer`; node lists polled every "
        "0.1 s by 8 threads.",
    )
    for size, got in results.items():
        fig.rows.append(
            (f"{size} nodes: last API up → all lists complete", _formed(got))
        )
        fig.rows.append((f"{size} nodes idle ({sizes.idle_window:g} s)", _idle(got)))
    fig.data = {
        str(k): {x: y for x, y in v.items() if x in ("formation", "idle")}
        for k, v in results.items()
    }
    largest = max(results)
    formation = results[largest]["formation"]
    if "error" in formation:
        fig.result = f"not formed at {largest}: {formation['error']}"
        fig.met = False if largest >= 50 else None
    else:
        formed = formation["after_last_ready_s"]
        fig.result = f"{formed:.2f} s at {largest} (after the last process is up)"
        stable = formation["confirmed"] == largest
        fig.met = (formed <= 5 and stable) if largest >= 50 else None
    if largest < 50:
        fig.notes.append(f"Goal is for 50 nodes; this run went up to {largest}.")
    fig.notes.append(
        "Start-up of the processes themselves (~1 s of CPU each, mostly "
        "imports) is shown apart: on 2 cores N processes take ~N/2 s to start."
    )
    for got in results.values():
        if isinstance(got.get("profile"), list):
            fig.profile += [*got["profile"], ""]
    return fig


def _formed(got: dict[str, Any]) -> str:
    f = got["formation"]
    if "error" in f:
        return f["error"]
    return (
        f"{secs(f['after_last_ready_s'])} (spawn → complete "
        f"{secs(f['from_spawn_s'])}, spawn → last API up {secs(f['startup_s'])}; "
        f"{f['confirmed']} complete on re-check)"
    )


def _idle(got: dict[str, Any]) -> str:
    idle = got.get("idle", {"error": "not measured"})
    if "error" in idle:
        return idle["error"]
    return (
        f"CPU {idle['cpu_cores']:.2f} cores in all (per node p50 "
        f"{idle['cpu_per_node_pct']['p50']:.1f}%); RSS per process p50 "
        f"{idle['rss_mb']['p50']:.0f} MB, total {idle['rss_total_mb'] / 1024:.1f} GB"
    )


def _figure_6(sizes: Any, got: dict[str, Any], size: int) -> Figure:
    fig = Figure.new(
        6,
        f"{sizes.probes} probes, each published by a random node of the "
        f"{size}-node swarm on its own gossipsub topic; a receiver not reached "
        f"within 5 s counts as not delivered (late arrivals up to "
        f"{sizes.probe_wait:g} s after the last probe are still counted).",
    )
    g = got.get("gossip", {"error": "not measured"})
    fig.data = g
    if "error" in g:
        fig.error = g["error"]
        return fig
    fig.met = g["delivered_pct"] >= 100 and g["p99_all_ms"] <= 1000
    fig.met = fig.met and g["published"] == sizes.probes
    p99 = g["p99_all_ms"]
    fig.result = f"{g['delivered_pct']:.1f}% delivered, p99 {ms(p99)}"
    fig.rows = [
        ("probes published", f"{g['published']} of {sizes.probes}"),
        (
            "deliveries",
            f"{g['delivered']} of {g['expected']} ({g['delivered_pct']:.2f}%)",
        ),
        ("per delivery (delivered only)", dist(g["latency_ms"])),
        ("per delivery p99, a missing one counted as infinite", ms(p99)),
        ("until the last receiver has it, per probe", dist(g["all_reached_ms"])),
    ]
    return fig


def _figure_7(sizes: Any, results: dict[int, Any], largest: int) -> Figure:
    fig = Figure.new(
        7,
        f"figure 1's loop ({sizes.scale_jobs} sequential noop jobs, poll "
        f"{sizes.poll * 1000:g} ms) through node 0 of the {largest}-process "
        "swarm; ratio against figure 1 (3-node devstack, one process) and "
        "against a 3-process swarm.",
    )
    big = results[largest].get("jobs", {"error": "not measured"})
    fig.data = {"largest": largest, str(largest): big}
    if "error" in big:
        fig.error = big["error"]
        return fig
    fig.rows.append((f"{largest} processes, client-observed", dist(big["client_ms"])))
    fig.rows.append((f"{largest} processes, server-recorded", dist(big["server_ms"])))
    if big["problems"]:
        fig.rows.append(
            (f"{largest} processes: jobs that did not complete", big["problems"])
        )
    small = results.get(3, {}).get("jobs", {})
    if largest != 3 and "client_ms" in small:
        fig.data["3"] = small
        fig.rows.append(("3 processes, client-observed", dist(small["client_ms"])))
        ratio3 = big["client_ms"]["p50"] / small["client_ms"]["p50"]
        fig.rows.append(("ratio of p50s against 3 processes", f"{ratio3:.2f}"))
    fig.result = f"p50 {ms(big['client_ms']['p50'])} (no figure 1 to compare)"
    if largest < 50:
        fig.notes.append(f"Goal is for 50 nodes; this run went up to {largest}.")
    return fig


def compare_to_figure_1(fig: Figure, fig1: Figure) -> None:
    """Figure 7's ratio, once figure 1 is known (phases may run apart)."""
    if fig.error or fig1.error or "client_ms" not in fig1.data:
        return
    largest = fig.data["largest"]
    big = fig.data[str(largest)]
    p50 = big["client_ms"]["p50"]
    ratio = p50 / fig1.data["client_ms"]["p50"]
    fig.data["ratio"] = ratio
    fig.rows.append(("ratio of p50s against figure 1", f"{ratio:.2f}"))
    fig.met = (ratio <= 1.5 and not big["problems"]) if largest >= 50 else None
    fig.result = f"{ratio:.2f}x figure 1 (p50 {ms(p50)})"
