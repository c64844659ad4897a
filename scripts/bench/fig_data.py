"""Figures 10-14: the data plane (IPFS and S3), one after another.

10. `ipfs add` through our importer against `sha256sum` (`ipfs_add.py`).
11. bitswap fetch between two hosts against a raw libp2p stream between the
    same hosts (`bitswap_fetch.py`; full runs also with on-disk stores).
12. S3 input staging against boto3 (`s3_stage.py`).
13. S3 publishing against boto3 (`s3_publish.py`).
14. a Docker job with an IPFS input fetched from another node, against the
    same job with its input local (`fig_ipfs_job.py`).

Figures 10-13 are the standalone scripts, each run alone as a child
process of this tree's Python with its `--json` read back; their output
is kept in the work folder (`data-*.log`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from fig_ipfs_job import figure_14
from harness import BenchError
from report import Figure, guard

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"


def run_script(name: str, args: list[str], work: Path, timeout: float) -> Any:
    """`scripts/bench/NAME ARGS --json FILE` in a child process; the JSON."""
    stem = f"data-{Path(name).stem}{'-disk' if '--disk' in args else ''}"
    out = work / f"{stem}.json"
    argv = [sys.executable, str(HERE / name), *args, "--json", str(out)]
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": path},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{name} took over {timeout:g} s") from None
    (work / f"{stem}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0 or not out.exists():
        tail = (done.stderr or done.stdout).strip()[-600:]
        raise BenchError(f"{name} exited {done.returncode}: {tail}")
    return json.loads(out.read_text())


def figure_10(sizes: Any, work: Path) -> Figure:
    fig = Figure.new(
        10,
        f"`scripts/bench/ipfs_add.py --size-mib {sizes.add_mib} --rounds "
        f"{sizes.add_rounds}`: a file of random bytes added to a fresh on-disk "
        "blockstore (CIDv0, 256 KiB chunks, pinned, as `ipfs add`) in a child "
        "process, against `sha256sum` of the same file, alternating, both "
        "from the page cache; RSS growth = the add's peak RSS over its RSS "
        "just before. Rates in MB/s (10^6 bytes), medians.",
    )
    args = ["--size-mib", str(sizes.add_mib), "--rounds", str(sizes.add_rounds)]
    r = run_script("ipfs_add.py", args, work, timeout=600)
    fig.data = {k: v for k, v in r.items() if k != "runs"}
    fig.met = r["ratio"] >= 0.5 and r["rss_growth_mb"] <= 32
    fig.result = (
        f"{r['ratio']:.0%} of sha256sum ({r['ours_mb_s']:.0f} vs "
        f"{r['sha256sum_mb_s']:.0f} MB/s); RSS +{r['rss_growth_mb']:.1f} MB"
    )
    fig.rows = [
        (f"importer (median of {r['rounds']})", f"{r['ours_mb_s']:.1f} MB/s"),
        ("`sha256sum`", f"{r['sha256sum_mb_s']:.1f} MB/s"),
        ("ratio", f"{r['ratio']:.2f}"),
        ("RSS growth (worst round)", f"{r['rss_growth_mb']:.1f} MB"),
        ("CID", f"`{r['cid']}`"),
    ]
    return fig


def figure_11(sizes: Any, work: Path) -> Figure:
    fig = Figure.new(
        11,
        f"`scripts/bench/bitswap_fetch.py --mib {sizes.fetch_mib} --rounds "
        f"{sizes.fetch_rounds}`: {sizes.fetch_mib} MiB of 256 KiB blocks fetched "
        "over bitswap from a host in a child process, against the same bytes "
        "on one raw libp2p stream between the same hosts (1 MiB writes) and "
        "`cp` on the same disk, interleaved; blocks in memory on both hosts"
        + (
            ", then again with on-disk blockstores (`--disk`)"
            if sizes.fetch_disk
            else ""
        )
        + ". MiB/s, medians; the goal is judged on the in-memory run.",
    )
    args = ["--mib", str(sizes.fetch_mib), "--rounds", str(sizes.fetch_rounds)]
    mem = run_script("bitswap_fetch.py", args, work, timeout=600)
    fig.data = {"memory": mem}
    fig.met = mem["bitswap_vs_raw"] >= 0.5
    rates = mem["median_mib_s"]
    fig.result = (
        f"{mem['bitswap_vs_raw']:.0%} of the raw stream ({rates['bitswap']:.0f} "
        f"vs {rates['raw']:.0f} MiB/s)"
    )
    fig.rows = _fetch_rows(mem)
    if sizes.fetch_disk:
        disk = run_script("bitswap_fetch.py", [*args, "--disk"], work, timeout=600)
        fig.data["disk"] = disk
        fig.rows += _fetch_rows(disk)
        fig.result += f"; on-disk stores {disk['bitswap_vs_raw']:.0%}"
    return fig


def _fetch_rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    rates, n, store = r["median_mib_s"], r["rounds"], r["store"]
    return [
        (f"bitswap, {store} stores (median of {n})", f"{rates['bitswap']:.1f} MiB/s"),
        (f"raw libp2p stream ({store} run)", f"{rates['raw']:.1f} MiB/s"),
        (f"`cp` on disk ({store} run)", f"{rates['cp']:.1f} MiB/s"),
        (f"bitswap / raw stream ({store})", f"{r['bitswap_vs_raw']:.2f}"),
        (f"duplicate blocks received ({store})", str(r["duplicate_blocks"])),
    ]


def _rounds(n: int) -> str:
    if n == 1:
        return "one run each, boto3 first"
    return f"{n} runs each, alternating which goes first; the median run's rate"


def _s3_row(name: str, r: dict[str, Any]) -> tuple[str, str]:
    rss = r["rss_growth_mb"]
    return name, f"{r['mib_s']:.1f} MiB/s ({r['seconds']:.2f} s), RSS +{rss:.1f} MB"


def _s3_met(ratios: list[float], rss: list[float]) -> bool:
    return min(ratios) >= 0.9 and max(rss) <= 32


def figure_12(sizes: Any, work: Path) -> Figure:
    fig = Figure.new(
        12,
        f"`scripts/bench/s3_stage.py --size-mib {sizes.s3_mib} --objects "
        f"{sizes.s3_objects} --rounds {sizes.s3_rounds}`: `Sources.stage` of an "
        "`s3` input (what a compute "
        "node runs before a task) from a `moto_server` process on loopback, one "
        f"object of {sizes.s3_mib} MiB, then {sizes.s3_objects} objects under a "
        "prefix (the same bytes in all), against boto3 in threads the way "
        "`aws s3 cp` does it (s3transfer, 10 threads), each transfer a fresh "
        f"process, {_rounds(sizes.s3_rounds)}; MiB/s. The goal must hold for "
        "both shapes.",
    )
    args = ["--size-mib", str(sizes.s3_mib), "--objects", str(sizes.s3_objects)]
    args += ["--rounds", str(sizes.s3_rounds)]
    r = run_script("s3_stage.py", args, work, timeout=900)
    one, many = r["shapes"]["one"], r["shapes"]["many"]
    fig.data = r
    rss = max(one["ours"]["rss_growth_mb"], many["ours"]["rss_growth_mb"])
    fig.met = _s3_met([one["ratio"], many["ratio"]], [rss])
    fig.result = (
        f"one object {one['ratio']:.0%} of boto3, {sizes.s3_objects} objects "
        f"{many['ratio']:.0%}; RSS +{rss:.1f} MB"
    )
    n = sizes.s3_objects
    fig.rows = [
        _s3_row("boto3 `download_file`, one object", one["boto3"]),
        _s3_row("boto3, one streamed GET (`iter_chunks`)", one["stream"]),
        _s3_row("bacalao, one object", one["ours"]),
        ("ratio, one object (vs download_file · vs streamed GET)",
         f"{one['ratio']:.2f} · {one['ratio_stream']:.2f}"),
        _s3_row(f"boto3 `download_file` of {n}, 10 threads", many["boto3"]),
        _s3_row(f"bacalao, {n} objects", many["ours"]),
        (f"ratio, {n} objects", f"{many['ratio']:.2f}"),
    ]  # fmt: skip
    fig.notes.append(
        "s3transfer splits one big object into ranged GETs, which moto serves "
        "slowly; the streamed single GET is the stricter baseline for one object."
    )
    return fig


def figure_13(sizes: Any, work: Path) -> Figure:
    fig = Figure.new(
        13,
        f"`scripts/bench/s3_publish.py --size-mib {sizes.s3_mib} --rounds "
        f"{sizes.s3_rounds}`: the `s3` "
        f"publisher's `publish` of a {sizes.s3_mib} MiB result (uncompressed, "
        "multipart) to a `moto_server` process on loopback, against boto3 "
        "`upload_file` (s3transfer: 8 MiB parts, 10 threads, as `aws s3 cp`), "
        f"each a fresh process, {_rounds(sizes.s3_rounds)}; MiB/s.",
    )
    args = ["--size-mib", str(sizes.s3_mib), "--rounds", str(sizes.s3_rounds)]
    r = run_script("s3_publish.py", args, work, timeout=900)
    fig.data = r
    fig.met = _s3_met([r["ratio"]], [r["ours"]["rss_growth_mb"]])
    fig.result = (
        f"{r['ratio']:.0%} of boto3 ({r['ours']['mib_s']:.0f} vs "
        f"{r['boto3']['mib_s']:.0f} MiB/s); RSS +{r['ours']['rss_growth_mb']:.1f} MB"
    )
    fig.rows = [
        _s3_row("boto3 `upload_file`", r["boto3"]),
        _s3_row("bacalao s3 publisher", r["ours"]),
        ("ratio", f"{r['ratio']:.2f}"),
    ]
    return fig


def run(sizes: Any, work: Path, only: set[int]) -> list[Figure]:
    """Those of figures 10-14 in `only`, one at a time; a broken one records
    its error and the next still runs."""
    work.mkdir(parents=True, exist_ok=True)
    figures: list[Figure] = []
    for num, make in (
        (10, figure_10),
        (11, figure_11),
        (12, figure_12),
        (13, figure_13),
        (14, figure_14),
    ):
        if num in only:
            figures += guard([num], lambda make=make: [make(sizes, work)])
    return figures
