#!/usr/bin/env python3
"""bacalao's benchmark suite: issue 5's nine figures, the data plane's five,
and issue 13's two of a job run from the CLI.

    python scripts/bench/run.py            full run, rewrites BENCHMARKS.md
    python scripts/bench/run.py --only 10,14   those figures, merged into it
    python scripts/bench/run.py --quick    < 4 minutes, prints the report
    python scripts/bench/run.py --only 1,8 --out /tmp/b.md --json /tmp/b.json

Phases run one after another, each with its own processes, so they never
load the machine at the same time: CLI start (8), the devstack figures
(1, 2, 3), footprint (9), throughput (4), swarms (5, 6, 7), the data plane
(10-14: ipfs add, bitswap, S3 staging and publishing, a Docker job with an
IPFS input), a job run from the CLI (15, 16). A phase that breaks records
an error in its figures and the others still run. Full runs also profile
the slow paths with py-spy (`--no-profile` to skip); raw stacks are kept
in the work folder (`--keep`). A run of some figures written to an
existing report replaces only their rows and sections (`report.merge`).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import fig_cli
import fig_cli_jobs
import fig_data
import fig_latency
import fig_load
import fig_swarm
from report import Figure, guard, machine, merge, print_summary, render

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sizes:
    """How much of everything one mode does."""

    latency_jobs: int
    poll: float
    poll_check_jobs: int
    docker_pairs: int
    wasm_pairs: int
    throughput_jobs: int
    clients: int
    compute_nodes: int
    drain_timeout: float
    swarm_sizes: tuple[int, ...]
    idle_window: float
    probes: int
    scale_jobs: int
    cli_rounds: int
    cli_runs: int
    idle_s: float
    footprint_jobs: int
    profile: bool
    probe_wait: float
    add_mib: int
    add_rounds: int
    fetch_mib: int
    fetch_rounds: int
    fetch_disk: bool
    s3_mib: int
    s3_objects: int
    s3_rounds: int
    job_mib: int
    job_rounds: int
    parallel: bool = False
    warmup: int = 5
    loop_budget: float = 120
    cli_job_pairs: int = 30


FULL = Sizes(
    latency_jobs=200,
    poll=0.005,
    poll_check_jobs=30,
    docker_pairs=30,
    wasm_pairs=60,
    throughput_jobs=2000,
    clients=20,
    compute_nodes=10,
    drain_timeout=180,
    swarm_sizes=(3, 10, 30, 50),
    idle_window=10,
    probes=100,
    scale_jobs=200,
    cli_rounds=6,
    cli_runs=10,
    idle_s=60,
    footprint_jobs=2000,
    profile=True,
    probe_wait=2.0,
    add_mib=256,
    add_rounds=3,
    fetch_mib=64,
    fetch_rounds=3,
    fetch_disk=True,
    s3_mib=256,
    s3_objects=1000,
    s3_rounds=3,
    job_mib=64,
    job_rounds=7,
)
QUICK = replace(
    FULL,
    latency_jobs=40,
    poll_check_jobs=0,
    docker_pairs=4,
    wasm_pairs=15,
    throughput_jobs=300,
    compute_nodes=5,
    drain_timeout=15,
    swarm_sizes=(10,),
    idle_window=3,
    probes=20,
    scale_jobs=30,
    cli_rounds=2,
    cli_runs=5,
    idle_s=5,
    footprint_jobs=200,
    profile=False,
    loop_budget=15,
    add_mib=64,
    add_rounds=3,
    fetch_mib=32,
    fetch_disk=False,
    s3_mib=32,
    s3_objects=100,
    s3_rounds=1,
    job_mib=32,
    job_rounds=3,
    cli_job_pairs=10,
)
SMOKE = replace(
    QUICK,
    latency_jobs=3,
    docker_pairs=1,
    wasm_pairs=1,
    throughput_jobs=12,
    clients=3,
    compute_nodes=1,
    drain_timeout=30,
    swarm_sizes=(2,),
    idle_window=0.5,
    probes=2,
    scale_jobs=2,
    cli_rounds=1,
    cli_runs=2,
    idle_s=0.5,
    footprint_jobs=6,
    probe_wait=0.2,
    parallel=True,
    warmup=0,
    add_mib=2,
    add_rounds=1,
    fetch_mib=2,
    fetch_rounds=1,
    s3_mib=2,
    s3_objects=8,
    job_mib=1,
    job_rounds=1,
    cli_job_pairs=1,
)
MODES = {"full": FULL, "quick": QUICK, "smoke": SMOKE}


def _phase(nums: list[int], phase: Any, *args: Any) -> list[Figure]:
    started = time.perf_counter()
    figures = guard(nums, phase, *args)
    took = time.perf_counter() - started
    print(f"bench: figures {nums} took {took:.1f} s", file=sys.stderr)
    return figures


def run_phases(sizes: Sizes, only: set[int], work: Path) -> list[Figure]:
    """Each phase alone on the machine (all at once in smoke mode)."""
    phases: list[tuple[list[int], Any, tuple[Any, ...]]] = [
        ([8], fig_cli.run, (sizes,)),
        ([1, 2, 3], fig_latency.run, (sizes, work / "latency")),
        ([9], fig_load.figure_9, (sizes, work)),
        ([4], fig_load.figure_4, (sizes, work)),
        ([5, 6, 7], fig_swarm.run, (sizes, work / "swarm")),
        ([10, 11, 12, 13, 14], fig_data.run, (sizes, work / "data", only)),
        ([15, 16], fig_cli_jobs.run, (sizes, work / "cli_jobs")),
    ]
    chosen = [p for p in phases if only & set(p[0])]
    if sizes.parallel:
        with ThreadPoolExecutor(len(chosen)) as pool:
            done = list(pool.map(lambda p: _phase(p[0], p[1], *p[2]), chosen))
    else:
        done = [_phase(nums, fn, *args) for nums, fn, args in chosen]
    figures = {f.num: f for group in done for f in group if f.num in only}
    if 1 in figures and 7 in figures:
        fig_swarm.compare_to_figure_1(figures[7], figures[1])
    return [figures[n] for n in sorted(figures)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="< 4 minutes")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--only", default="", help="figures, e.g. 1,4,8")
    parser.add_argument("--out", type=Path, help="markdown report to write")
    parser.add_argument("--json", type=Path, help="raw results to write")
    parser.add_argument("--work", type=Path, help="folder for node repos and logs")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args(argv)
    name = "quick" if args.quick else "smoke" if args.smoke else "full"
    sizes = MODES[name]
    if args.no_profile:
        sizes = replace(sizes, profile=False)
    every = set(range(1, 17))
    only = {int(n) for n in args.only.split(",") if n.strip()} or every
    out = args.out or (ROOT / "BENCHMARKS.md" if name == "full" else None)
    work = args.work or Path(tempfile.mkdtemp(prefix="bacalao-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    command = shlex.join(
        ["just", "bench", *(argv if argv is not None else sys.argv[1:])]
    )
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    print(f"bench: {name} run, work folder {work}", file=sys.stderr)
    try:
        figures = run_phases(sizes, only, work)
    finally:
        if not (args.keep or args.work or sizes.profile):
            shutil.rmtree(work, ignore_errors=True)
    info = machine()
    info["load"] = (
        f"{load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    )
    text = render(figures, info, name, command)
    took = time.perf_counter() - started
    print(f"bench: {name} run took {took:.0f} s", file=sys.stderr)
    print_summary(figures)
    if out:
        if only != every and out.exists():
            text = merge(out.read_text(), text)
            print(f"bench: merged figures {sorted(only)} into {out}", file=sys.stderr)
        out.write_text(text)
        print(f"bench: wrote {out}", file=sys.stderr)
    else:
        print(text)
    if args.json:
        payload = {
            "mode": name,
            "seconds": took,
            "figures": [f.as_json() for f in figures],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
