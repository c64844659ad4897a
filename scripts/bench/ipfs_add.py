"""`ipfs add` speed: our importer into a fresh blockstore against sha256sum.

    python scripts/bench/ipfs_add.py                 # 256 MiB, 3 rounds
    python scripts/bench/ipfs_add.py --size-mib 1024 --rounds 1 --json out.json

Creates a file of random bytes, then in each round (the order alternating,
so both see the same machine) times `sha256sum FILE` and an add of FILE
into a new blockstore (Kubo's defaults: CIDv0, 256 KiB chunks, pinned),
the latter in a child process that reports the add's wall time and how
far its resident memory rose above what it held just before (peak RSS,
reset through /proc/self/clear_refs). Reports MB/s (10^6 bytes) medians,
our rate as a share of sha256sum's, and the worst RSS growth.
Goals: at least 50% of sha256sum's rate; RSS growth at most 32 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_RATIO = 0.5
GOAL_RSS_MB = 32.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, help="folder for the file and stores")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--child", nargs=2, metavar=("FILE", "STORE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(Path(args.child[0]), Path(args.child[1]))))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-ipfs-add-"))
    try:
        result = run(work, args.size_mib, args.rounds)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def run(work: Path, size_mib: int, rounds: int) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    source = work / "data.bin"
    _random_file(source, size_mib << 20)
    _sha256sum(source)  # both sides then read from the page cache
    ours: list[dict[str, Any]] = []
    base: list[float] = []
    for i in range(rounds):
        for step in ("ours", "base") if i % 2 else ("base", "ours"):
            if step == "ours":
                ours.append(_add_in_child(source, work / f"store-{i}"))
            else:
                base.append(_sha256sum(source))
    size = source.stat().st_size
    ours_rate = statistics.median(size / r["seconds"] / 1e6 for r in ours)
    base_rate = statistics.median(size / s / 1e6 for s in base)
    return {
        "bytes": size,
        "rounds": rounds,
        "ours_mb_s": round(ours_rate, 1),
        "sha256sum_mb_s": round(base_rate, 1),
        "ratio": round(ours_rate / base_rate, 3),
        "rss_growth_mb": round(max(r["rss_growth"] for r in ours) / 1e6, 1),
        "cid": ours[0]["cid"],
        "runs": {"ours": ours, "sha256sum_seconds": base},
    }


def report(result: dict[str, Any]) -> str:
    ratio_ok = "met" if result["ratio"] >= GOAL_RATIO else "NOT met"
    rss_ok = "met" if result["rss_growth_mb"] <= GOAL_RSS_MB else "NOT met"
    return "\n".join(
        [
            f"ipfs add of {result['bytes'] >> 20} MiB, median of {result['rounds']}:",
            f"  importer   {result['ours_mb_s']:8.1f} MB/s   ({result['cid']})",
            f"  sha256sum  {result['sha256sum_mb_s']:8.1f} MB/s",
            f"  ratio      {result['ratio']:8.3f}        "
            f"(goal >= {GOAL_RATIO}: {ratio_ok})",
            f"  RSS growth {result['rss_growth_mb']:8.1f} MB      "
            f"(goal <= {GOAL_RSS_MB:g}: {rss_ok})",
        ]
    )


def _random_file(path: Path, size: int) -> None:
    with open(path, "wb") as out:
        while size > 0:
            piece = min(size, 16 << 20)
            out.write(os.urandom(piece))
            size -= piece


def _sha256sum(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)
    return time.perf_counter() - start


def _add_in_child(source: Path, store: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(source), str(store)],
        check=True,
        capture_output=True,
        text=True,
    )
    shutil.rmtree(store, ignore_errors=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _child(source: Path, root: Path) -> dict[str, Any]:
    import trio

    from bacalao.ipfs.blockstore import Blockstore

    async def add() -> dict[str, Any]:
        store = await Blockstore.open(root)
        before = _rss("VmRSS")
        _reset_peak_rss()
        start = time.perf_counter()
        imported = await store.add(source)
        seconds = time.perf_counter() - start
        peak = _rss("VmHWM")
        store.close()
        return {
            "seconds": seconds,
            "cid": str(imported.cid),
            "blocks": imported.blocks,
            "rss_before": before,
            "rss_growth": max(0, peak - before),
        }

    return trio.run(add)


def _reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _rss(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


if __name__ == "__main__":
    main()
