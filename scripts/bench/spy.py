"""Where the time goes: py-spy samples of a node process, summarized.

`Sampler(pid, out)` runs `py-spy record --format raw --nonblocking` on a
running process (the target is never paused) until stopped, and
`summarize(out)` turns the collapsed stacks into three short tables: CPU
by package of the innermost frame, the hottest functions by self time, and
the bacalao functions by inclusive time. `import_profile(argv)` does the
same for start-up with `python -X importtime`.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
RATE = 200
# leaves py-spy reports as active though the thread only waits: a worker
# thread waiting for work, the trio loop in epoll_wait
IDLE_LEAVES = {"WorkerThread._work", "EpollIOManager.get_events"}


class Sampler:
    """py-spy recording `pid` into `out` from `start()` to `stop()`."""

    def __init__(self, pid: int, out: Path) -> None:
        self.pid = pid
        self.out = out
        self.proc: subprocess.Popen[bytes] | None = None
        self.seconds = 0.0
        self._t0 = 0.0

    @staticmethod
    def available() -> bool:
        return (
            shutil.which("py-spy") is not None
            or Path(sys.executable).with_name("py-spy").exists()
        )

    def start(self) -> Sampler:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.proc = subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(self.pid),
                "--format",
                "raw",
                "--rate",
                str(RATE),
                "--nonblocking",
                "--output",
                str(self.out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._t0 = time.perf_counter()
        time.sleep(0.3)  # let it attach
        return self

    def stop(self) -> dict[str, Any]:
        assert self.proc is not None
        self.seconds = time.perf_counter() - self._t0
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if not self.out.exists():
            return {"error": "py-spy wrote no profile (ptrace not permitted?)"}
        return summarize(self.out, self.seconds)


def _package(path: str) -> str:
    """ "bacalao.orchestrator", "trio", "libp2p", "stdlib:threading", ..."""
    parts = path.split("/")
    if parts[0] == "bacalao":
        return (
            "bacalao." + parts[1].removesuffix(".py") if len(parts) > 2 else "bacalao"
        )
    if len(parts) == 1:
        return "stdlib:" + parts[0].removesuffix(".py")
    return parts[0]


def _frames(stack: str) -> list[tuple[str, str]]:
    out = []
    for raw in stack.split(";"):
        match = _FRAME.match(raw.strip())
        if match:
            out.append((match.group("fn"), match.group("file")))
        else:
            out.append((raw.strip(), ""))
    return out


def summarize(path: Path, seconds: float, top: int = 8) -> dict[str, Any]:
    """Collapsed stacks → busy share, and top packages/functions by samples."""
    by_package: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    loop = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = _frames(stack)
        # drop the thread label py-spy puts first, e.g. "process 12:..."
        frames = [f for f in frames if f[1]]
        if not frames or frames[-1][0] in IDLE_LEAVES:
            continue
        total += n
        if any(fn == "unrolled_run" for fn, _ in frames):
            loop += n
        fn, file = frames[-1]
        by_package[_package(file)] += n
        self_time[f"{fn} ({_short(file)})"] += n
        seen = set()
        for fn, file in frames:
            if file.startswith("bacalao/"):
                key = f"{fn} ({_short(file)})"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += n
    expected = seconds * RATE
    pct = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {
        "samples": total,
        "seconds": round(seconds, 1),
        "busy_pct": round(100 * total / expected, 1) if expected else 0.0,
        "loop_busy_pct": round(100 * loop / expected, 1) if expected else 0.0,
        "packages": [(k, pct(v)) for k, v in by_package.most_common(top)],
        "self": [(k, pct(v)) for k, v in self_time.most_common(top)],
        # leave out the frames above the trio loop (main, serve, devstack, ...)
        "bacalao_inclusive": [
            (k, pct(v)) for k, v in inclusive.most_common() if v < loop
        ][:top],
        "file": str(path),
    }


def _short(file: str) -> str:
    return file


def import_profile(argv: list[str], top: int = 8) -> list[tuple[str, float]]:
    """Imports of depth <= 1 by cumulative ms, one `python -X importtime` run."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    rows: list[tuple[str, float]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative, name = line.split(":", 1)[1].split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        if depth <= 1:
            rows.append((("  " * depth) + name.strip(), int(cumulative) / 1000))
    rows.sort(key=lambda r: -r[1])
    return rows[:top]
