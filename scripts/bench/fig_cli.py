"""Figure 8: CLI start, `bacalao version --client` against `python -c pass`.

With hyperfine (Debian's `hyperfine`; `-N`: no intermediate shell), in
rounds that alternate which command goes first, so the two are interleaved
on a noisy machine; without it, a plain loop that alternates single runs.
The import profile (`python -X importtime`) shows what the start costs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import BACALAO, summary
from report import Figure, secs
from spy import import_profile

OURS = [BACALAO, "version", "--client"]
BASE = [sys.executable, "-c", "pass"]


def _hyperfine(rounds: int, runs: int) -> tuple[list[float], list[float]]:
    ours: list[float] = []
    base: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "h.json"
        for i in range(rounds):
            order = [OURS, BASE] if i % 2 == 0 else [BASE, OURS]
            subprocess.run(
                [
                    "hyperfine",
                    "-N",
                    "--style",
                    "none",
                    "--warmup",
                    "2",
                    "--runs",
                    str(runs),
                    "--export-json",
                    str(out),
                    *(" ".join(cmd) for cmd in order),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            results = json.loads(out.read_text())["results"]
            for cmd, result in zip(order, results, strict=True):
                (ours if cmd is OURS else base).extend(result["times"])
    return ours, base


def _loop(rounds: int, runs: int) -> tuple[list[float], list[float]]:
    ours: list[float] = []
    base: list[float] = []

    def once(argv: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    once(OURS)
    once(BASE)
    for i in range(rounds * runs):
        if i % 2:
            ours.append(once(OURS))
            base.append(once(BASE))
        else:
            base.append(once(BASE))
            ours.append(once(OURS))
    return ours, base


def run(sizes: Any) -> list[Figure]:
    tool = "hyperfine" if shutil.which("hyperfine") else "loop"
    fig = Figure.new(
        8,
        f"{sizes.cli_rounds * sizes.cli_runs} runs of each, "
        + (
            f"with hyperfine -N in {sizes.cli_rounds} rounds alternating the "
            "order (2 warm-ups per round)"
            if tool == "hyperfine"
            else "alternating single runs in a Python loop (hyperfine absent)"
        ),
    )
    measure = _hyperfine if tool == "hyperfine" else _loop
    ours, base = measure(sizes.cli_rounds, sizes.cli_runs)
    o, b = summary(ours), summary(base)
    ratio = o["p50"] / b["p50"]
    fig.data = {"tool": tool, "bacalao_s": o, "python_s": b, "ratio": ratio}
    fig.met = o["p50"] <= 0.25
    fig.result = f"{secs(o['p50'])} median, {ratio:.1f}x `python -c pass`"
    fig.rows = [
        (
            "`bacalao version --client` min / median / max",
            f"{secs(o['min'])} / {secs(o['p50'])} / {secs(o['max'])}",
        ),
        (
            "`python -c pass` min / median / max",
            f"{secs(b['min'])} / {secs(b['p50'])} / {secs(b['max'])}",
        ),
        ("ratio of medians", f"{ratio:.2f}"),
        ("above the interpreter's own start (medians)", secs(o["p50"] - b["p50"])),
    ]
    top = import_profile([BACALAO, "version", "--client"], top=6)
    fig.notes.append(
        "Largest imports (`-X importtime`, cumulative): "
        + ", ".join(f"`{name.strip()}` {cum:.0f} ms" for name, cum in top)
    )
    return [fig]
