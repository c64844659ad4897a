"""The suite's results as data (`Figure`) and as BENCHMARKS.md.

A figure carries a one-line result for the summary table, whether its goal
was met (None: not measured, or not measurable at this size), detail rows,
raw numbers (for `--json`) and, when the goal is missed, a "Limit /
profile" paragraph: the profile the suite took, or a marked placeholder.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGES = ("libp2p", "trio", "pydantic", "hypercorn", "docker", "wasmtime")
GOALS = {
    1: ("orchestration latency", "p50 ≤ 25 ms, p99 ≤ 100 ms"),
    2: ("Docker job overhead", "ratio ≤ 1.15"),
    3: ("WASM job overhead", "p50 ≤ 40 ms"),
    4: ("throughput", "≥ 300 jobs/s to Completed, 0 lost, 0 duplicated"),
    5: ("swarm formation", "≤ 5 s at 50"),
    6: ("gossip delivery", "100% delivered, p99 ≤ 1 s"),
    7: ("job at scale", "≤ 1.5x the 3-node figure"),
    8: ("CLI start", "≤ 0.25 s absolute, recorded as ratio too"),
    9: ("node footprint", "≤ 100 MB idle, growth ≤ 20 MB"),
}
PLACEHOLDER = (
    "**Limit / profile:** _(to fill: what bounds this figure, and the profile)_"
)


@dataclass
class Figure:
    """One row of the issue's table, as measured."""

    num: int
    title: str
    goal: str
    how: str
    result: str = "not measured"
    met: bool | None = None
    rows: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    skipped: str = ""

    @classmethod
    def new(cls, num: int, how: str) -> Figure:
        title, goal = GOALS[num]
        return cls(num, title, goal, how)

    def as_json(self) -> dict[str, Any]:
        return {
            "num": self.num,
            "title": self.title,
            "goal": self.goal,
            "result": self.result,
            "met": self.met,
            "error": self.error,
            "skipped": self.skipped,
            "data": self.data,
        }


def ms(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.1f} ms"


def secs(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.2f} s"


def dist(s: dict[str, float], fmt: Any = ms) -> str:
    """ "p50 X · p99 Y (min A, max B, n N)" of a `harness.summary`."""
    return (
        f"p50 {fmt(s['p50'])} · p99 {fmt(s['p99'])} "
        f"(min {fmt(s['min'])}, max {fmt(s['max'])}, n {int(s['n'])})"
    )


def _run(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def machine() -> dict[str, str]:
    """Cores, memory, CPU, OS, Python, package and tool versions, git commit."""
    info: dict[str, str] = {"cores": str(os.cpu_count())}
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    kb = int(next(ln for ln in meminfo if ln.startswith("MemTotal")).split()[1])
    info["memory"] = f"{kb / 1024 / 1024:.1f} GiB"
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln), ""
    )
    info["cpu"] = model or platform.processor()
    info["os"] = f"{platform.system()} {platform.release()}"
    info["python"] = platform.python_version()
    for name in PACKAGES:
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            info[name] = "absent"
    info["docker engine"] = (
        _run(["docker", "version", "--format", "{{.Server.Version}}"]) or "absent"
    )
    info["hyperfine"] = (
        _run(["hyperfine", "--version"]).removeprefix("hyperfine ")
        if shutil.which("hyperfine")
        else "absent"
    )
    commit = _run(["git", "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    info["commit"] = f"{commit}{' + uncommitted changes' if dirty else ''}"
    return info


def guard(nums: list[int], phase: Any, *args: Any) -> list[Figure]:
    """Run `phase(*args)`; if it raises, figures `nums` record the error."""
    try:
        figures: list[Figure] = phase(*args)
    except Exception as exc:  # a broken phase must not stop the others
        import traceback

        traceback.print_exc()
        failed = []
        for num in nums:
            fig = Figure.new(num, "(the phase failed before measuring this)")
            fig.error = f"{type(exc).__name__}: {exc}"
            failed.append(fig)
        return failed
    return figures


def _met(fig: Figure) -> str:
    if fig.error:
        return "error"
    if fig.skipped:
        return "skipped"
    return {True: "met", False: "**not met**", None: "n/a"}[fig.met]


def render(figures: list[Figure], info: dict[str, str], mode: str, command: str) -> str:
    """BENCHMARKS.md."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmarks",
        "",
        "Generated by `scripts/bench/run.py` (`just bench`); do not edit by hand "
        "except the **Limit / profile** lines. Goals are issue 5's. Durations "
        "are medians (p50) and p99 over the runs shown, or min/median/max for "
        "whole-process timings; comparisons were run side by side, interleaved.",
        "",
        f"- date: {now}",
        f"- mode: {mode}",
        f"- command: `{command}`",
        f"- machine: {info['cores']} cores ({info['cpu']}), {info['memory']} RAM, "
        f"{info['os']}; shared and noisy",
        f"- Python {info['python']}; "
        + ", ".join(f"{p} {info[p]}" for p in PACKAGES)
        + f"; docker engine {info['docker engine']}; hyperfine {info['hyperfine']}",
        f"- code: {info['commit']}",
        "",
        "| # | figure | result | goal | |",
        "|---|---|---|---|---|",
    ]
    for fig in figures:
        result = fig.error or fig.skipped or fig.result
        out.append(
            f"| {fig.num} | {fig.title} | {_cell(result)} | {fig.goal} | {_met(fig)} |"
        )
    for fig in figures:
        out += ["", f"## {fig.num}. {fig.title}", "", f"How: {fig.how}", ""]
        out.append(f"Goal: {fig.goal} — {_met(fig)}")
        if fig.error:
            out += ["", f"Error: `{_cell(fig.error)}`"]
        if fig.skipped:
            out += ["", f"Skipped: {fig.skipped}"]
        if fig.rows:
            out += ["", "| measure | value |", "|---|---|"]
            out += [f"| {k} | {_cell(v)} |" for k, v in fig.rows]
        if fig.notes:
            out.append("")
            out += [f"- {n}" for n in fig.notes]
        if fig.met is False or fig.error:
            out += ["", PLACEHOLDER]
        if fig.profile:
            out += ["", *fig.profile]
    out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def profile_lines(title: str, prof: dict[str, Any]) -> list[str]:
    """A profile summary as markdown (see `profile.summarize`)."""
    if "error" in prof:
        return [f"Profile ({title}): {prof['error']}"]
    lines = [
        f"Profile ({title}): py-spy, {prof['samples']} samples over "
        f"{prof['seconds']} s; the trio thread was on CPU {prof['loop_busy_pct']}% "
        f"of the time, all threads {prof['busy_pct']}% (waits in epoll and "
        f"idle worker threads left out; raw stacks: "
        f"`{prof['file']}`).",
        "",
        "| innermost package | share of CPU samples |",
        "|---|---|",
        *(f"| {k} | {v}% |" for k, v in prof["packages"]),
        "",
        "| hottest functions (self) | share |",
        "|---|---|",
        *(f"| `{_cell(k)}` | {v}% |" for k, v in prof["self"]),
        "",
        "| bacalao functions (inclusive) | share |",
        "|---|---|",
        *(f"| `{_cell(k)}` | {v}% |" for k, v in prof["bacalao_inclusive"]),
    ]
    return lines


def print_summary(figures: list[Figure]) -> None:
    for fig in figures:
        result = fig.error or fig.skipped or fig.result
        print(f"  {fig.num}. {fig.title}: {result} [{_met(fig)}]", file=sys.stderr)
