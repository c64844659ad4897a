"""The suite's results as data (`Figure`) and as BENCHMARKS.md.

A figure carries a one-line result for the summary table, whether its goal
was met (None: not measured, or not measurable at this size), detail rows,
raw numbers (for `--json`) and, when the goal is missed, a "Limit /
profile" paragraph: the profile the suite took, or a marked placeholder.
`merge` folds the report of a run of some figures into BENCHMARKS.md as
it was, keeping the other figures' sections (and their hand-written
lines) untouched.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import re
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
    10: ("ipfs add", "≥ 50% of sha256sum's rate, RSS growth ≤ 32 MB"),
    11: ("bitswap fetch", "≥ 50% of a raw libp2p stream's rate"),
    12: ("S3 input staging", "≥ 90% of boto3's rate, RSS growth ≤ 32 MB"),
    13: ("S3 publish", "≥ 90% of boto3's rate, RSS growth ≤ 32 MB"),
    14: ("Docker job, IPFS input", "none set: what fetching the input costs"),
    15: ("`wasm run` from the CLI", "≤ 60 ms over `version --client`"),
    16: ("`docker run` from the CLI", "ratio ≤ 1.10 to `docker run --rm`"),
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
        *([f"- load average (1 min): {info['load']}"] if "load" in info else []),
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


_ROW = re.compile(r"^\| (\d+) \|")
_HEADING = re.compile(r"^## (\d+)\. ", re.M)
LATER_RUN = (
    "Sections that open with a **Run:** line were measured in a later run "
    "of only some figures; that line says when, how and on what."
)


def split(text: str) -> tuple[list[str], dict[int, str], dict[int, str]]:
    """A report's preamble lines (up to its table), table rows and sections,
    both by figure number."""
    head, _, body = text.partition("\n## ")
    body = "## " + body if body else ""
    lines = head.rstrip("\n").splitlines()
    table = next((i for i, ln in enumerate(lines) if ln.startswith("| # |")), None)
    if table is None:
        raise ValueError("not a BENCHMARKS.md: no summary table")
    rows = {}
    for ln in lines[table + 2 :]:
        match = _ROW.match(ln)
        if match:
            rows[int(match.group(1))] = ln
    found = list(_HEADING.finditer(body))
    ends = [m.start() for m in found[1:]] + [len(body)]
    sections = {
        int(m.group(1)): body[m.start() : end]
        for m, end in zip(found, ends, strict=True)
    }
    return lines[:table], rows, sections


def merge(old: str, new: str) -> str:
    """`new` (a report of some figures) folded into `old`: its figures'
    rows and sections replace or join those of `old`, each of its sections
    opening with a **Run:** line (its preamble's facts); everything else
    of `old` stays as it was."""
    old_head, old_rows, old_sections = split(old)
    new_head, new_rows, new_sections = split(new)
    facts = "; ".join(ln[2:] for ln in new_head if ln.startswith("- "))
    for num, section in new_sections.items():
        heading, _, rest = section.partition("\n")
        new_sections[num] = f"{heading}\n\n**Run:** {facts}\n{rest}"
    head = old_head
    while head and not head[-1]:
        head = head[:-1]
    if f"- {LATER_RUN}" not in head:
        head = [*head, f"- {LATER_RUN}"]
    rows = {**old_rows, **new_rows}
    sections = {**old_sections, **new_sections}
    out = [*head, "", "| # | figure | result | goal | |", "|---|---|---|---|---|"]
    out += [rows[n] for n in sorted(rows)]
    texts = [sections[n] for n in sorted(sections)]
    # sections end as they did, only the one that was last gets its gap back
    texts = [s if s.endswith("\n\n") else s.rstrip("\n") + "\n\n" for s in texts]
    return "\n".join(out) + "\n\n" + "".join(texts).rstrip("\n") + "\n"


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
