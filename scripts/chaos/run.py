#!/usr/bin/env python3
"""bacalao's fault and attack suite: what "a network operators can trust" means.

    python scripts/chaos/run.py            full run (< 20 min), rewrites RELIABILITY.md
    python scripts/chaos/run.py --quick    fewer rounds, prints the report
    python scripts/chaos/run.py --only compute-kill,hostile --out /tmp/r.md

Scenarios run one after another, each on its own `bacalao serve`
processes on loopback, so they never load the machine at the same time.
A scenario that breaks records an error in its row and the others still
run. The exit status is 0 whether or not scenarios pass: the report says
which did (the suite exists to find defects).
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(1, str(ROOT / "scripts" / "bench"))  # harness.py, report.py

import attacks  # noqa: E402
import disk  # noqa: E402
import faults  # noqa: E402
from cluster import log  # noqa: E402
from reliability import Row, print_summary, render  # noqa: E402
from report import machine  # noqa: E402  (the benchmark suite's)


@dataclass(frozen=True)
class Sizes:
    """How much each scenario does in one mode."""

    kill_rounds: int
    requester_rounds: int
    requester_jobs: int
    restart_rounds: int
    restart_jobs: int
    burst_jobs: int
    burst_clients: int
    docker: bool  # Docker jobs where the job matters (else noop)
    settle: float  # s for acknowledged jobs to end, per wait
    round_settle: float  # the same, after each requester restart
    black_hole_wait: float  # s a job handed to a black hole may take to end
    disk_mb: int
    full_seconds: float  # how long the disk stays full


FULL = Sizes(
    kill_rounds=10,
    requester_rounds=5,
    requester_jobs=100,
    restart_rounds=2,
    restart_jobs=6,
    burst_jobs=1000,
    burst_clients=20,
    docker=True,
    settle=120,
    round_settle=60,
    black_hole_wait=120,
    disk_mb=48,
    full_seconds=15,
)
QUICK = replace(
    FULL,
    kill_rounds=3,
    requester_rounds=2,
    requester_jobs=50,
    restart_rounds=1,
    burst_jobs=200,
    burst_clients=10,
    settle=90,
    black_hole_wait=90,
    full_seconds=10,
)
SMOKE = replace(
    QUICK,
    kill_rounds=1,
    requester_rounds=1,
    requester_jobs=10,
    restart_jobs=3,
    burst_jobs=20,
    burst_clients=4,
    docker=False,
    settle=45,
    round_settle=30,
    black_hole_wait=20,
    full_seconds=4,
)
MODES = {"full": FULL, "quick": QUICK, "smoke": SMOKE}

SCENARIOS: dict[str, Callable[[Sizes, Path], Row]] = {
    "compute-kill": faults.compute_kill,
    "requester-kill": faults.requester_kill,
    "compute-restart": faults.compute_restart,
    "submissions": faults.submissions,
    "hostile": attacks.hostile,
    "disk-full": disk.disk_full,
}


def run_one(key: str, sizes: Sizes, work: Path) -> Row:
    """One scenario; a broken one comes back as a row with its error."""
    log(f"{key}: starting")
    started = time.perf_counter()
    try:
        row = SCENARIOS[key](sizes, work / key)
    except Exception as exc:  # a broken scenario must not stop the others
        traceback.print_exc()
        row = Row(key, key, "(the scenario failed before it could finish)")
        row.error = f"{type(exc).__name__}: {exc}"
        row.seconds = time.perf_counter() - started
    log(f"{key}: {'pass' if row.passed else 'FAIL'} in {row.seconds:.0f} s")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer rounds")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--only", default="", help=f"of: {', '.join(SCENARIOS)}")
    parser.add_argument("--out", type=Path, help="markdown report to write")
    parser.add_argument("--json", type=Path, help="raw results to write")
    parser.add_argument("--work", type=Path, help="folder for node repos and logs")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    # the hostile peer runs in this process: its libp2p and bacalao logs
    # (dials to peers that left, refused handshakes) are not the suite's output
    logging.basicConfig(level=logging.CRITICAL)
    name = "quick" if args.quick else "smoke" if args.smoke else "full"
    chosen = [k.strip() for k in args.only.split(",") if k.strip()] or list(SCENARIOS)
    unknown = [k for k in chosen if k not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r} (one of {', '.join(SCENARIOS)})")
    out = args.out or (ROOT / "RELIABILITY.md" if name == "full" else None)
    work = args.work or Path(tempfile.mkdtemp(prefix="bacalao-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["just", "chaos", *(sys.argv[1:] if argv is None else argv)])
    log(f"{name} run, work folder {work}")
    info = machine()  # the code as it was when the run started
    started = time.perf_counter()
    try:
        rows = [run_one(key, MODES[name], work) for key in chosen]
    finally:
        if not (args.keep or args.work):
            shutil.rmtree(work, ignore_errors=True)
    text = render(rows, info, name, command)
    log(f"{name} run took {time.perf_counter() - started:.0f} s")
    print_summary(rows)
    if out:
        out.write_text(text)
        log(f"wrote {out}")
    else:
        print(text)
    if args.json:
        payload = {"mode": name, "rows": [r.as_json() for r in rows]}
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
