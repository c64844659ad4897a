"""Figures 15-16: a job run from the CLI, as the user waits for it.

15. `bacalao wasm run hello.wasm` wall time minus `bacalao version
    --client` wall time (the CLI's own start), on a 3-node devstack.
16. `bacalao docker run busybox:1.37.0 -- true` wall time against `docker
    run --rm busybox:1.37.0 true`.

Each pair of commands runs interleaved, alternating which goes first, after
one warm-up of each; medians are compared (the machine has 2 shared
cores). `BACALAO_BENCH_BASELINE=1` labels a run made with another
checkout's code under test (e.g. PYTHONPATH=/work/main/src), so a "before"
figure can be recorded next to the "after" one.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

from fig_latency import IMAGE, docker_ready, start_devstack
from harness import BACALAO, summary
from report import Figure, dist, ms
from spy import import_profile

HELLO_WAT = Path(__file__).resolve().parents[2] / "examples" / "wasm" / "hello.wat"


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, timeout=120)
    return (time.perf_counter() - start) * 1000


def _pairs(ours: list[str], base: list[str], pairs: int) -> tuple[Any, Any]:
    """Summaries of `pairs` interleaved wall times of each command."""
    _wall(ours)
    _wall(base)
    got: dict[int, list[float]] = {0: [], 1: []}
    for i in range(pairs):
        order = (0, 1) if i % 2 else (1, 0)
        for which in order:
            got[which].append(_wall(ours if which == 0 else base))
    return summary(got[0]), summary(got[1])


def _label() -> str:
    return " (baseline code)" if os.environ.get("BACALAO_BENCH_BASELINE") else ""


def figure_15(port: int, sizes: Any, work: Path) -> Figure:
    import wasmtime

    pairs = sizes.cli_job_pairs
    fig = Figure.new(
        15,
        f"{pairs} pairs, alternating which goes first: `bacalao wasm run "
        "hello.wasm` (examples/wasm/hello.wat) against a 3-node devstack, and "
        "`bacalao version --client`; the figure is the difference of their "
        f"medians{_label()}.",
    )
    module = work / "hello.wasm"
    module.write_bytes(wasmtime.wat2wasm(HELLO_WAT.read_text()))
    run = [BACALAO, "--api-port", str(port), "wasm", "run", str(module)]
    version = [BACALAO, "version", "--client"]
    ours, base = _pairs(run, version, pairs)
    extra = ours["p50"] - base["p50"]
    fig.data = {"wasm_run_ms": ours, "version_ms": base, "extra_ms": extra}
    fig.met = extra <= 60
    fig.result = (
        f"+{ms(extra)} (wasm run {ms(ours['p50'])} vs version --client "
        f"{ms(base['p50'])}){_label()}"
    )
    fig.rows = [
        ("`bacalao wasm run hello.wasm`", dist(ours)),
        ("`bacalao version --client`", dist(base)),
        ("difference of medians", ms(extra)),
    ]
    top = import_profile(["-m", "bacalao", *run[1:]], top=6)
    fig.notes.append(
        "Largest imports of `wasm run` (`-X importtime`, cumulative): "
        + ", ".join(f"`{name.strip()}` {cum:.0f} ms" for name, cum in top)
    )
    return fig


def figure_16(port: int, sizes: Any) -> Figure:
    pairs = sizes.cli_job_pairs
    fig = Figure.new(
        16,
        f"{pairs} pairs, alternating which goes first: `bacalao docker run "
        f"{IMAGE} -- true` against a 3-node devstack, and `docker run --rm "
        f"{IMAGE} true`; ratio of medians{_label()}.",
    )
    reason = docker_ready()
    if reason:
        fig.skipped = reason
        return fig
    run = [BACALAO, "--api-port", str(port), "docker", "run", IMAGE, "--", "true"]
    ours, base = _pairs(run, ["docker", "run", "--rm", IMAGE, "true"], pairs)
    ratio = ours["p50"] / base["p50"]
    fig.data = {"bacalao_ms": ours, "docker_ms": base, "ratio": ratio}
    fig.met = ratio <= 1.10
    fig.result = f"ratio {ratio:.2f} ({ms(ours['p50'])} vs {ms(base['p50'])}){_label()}"
    fig.rows = [
        (f"`bacalao docker run {IMAGE} -- true`", dist(ours)),
        (f"`docker run --rm {IMAGE} true`", dist(base)),
        ("ratio of medians", f"{ratio:.2f}"),
        ("difference of medians", ms(ours["p50"] - base["p50"])),
    ]
    return fig


def run(sizes: Any, work: Path) -> list[Figure]:
    """Figures 15 and 16 on one devstack process."""
    from report import guard

    work.mkdir(parents=True, exist_ok=True)
    proc = start_devstack(work)
    try:
        port = int(proc.api_url.rsplit(":", 1)[1])
        figures = guard([15], lambda: [figure_15(port, sizes, work)])
        figures += guard([16], lambda: [figure_16(port, sizes)])
        return figures
    finally:
        proc.stop()
