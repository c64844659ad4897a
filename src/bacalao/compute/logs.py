"""Reading an execution's output as lines, optionally following it live.

Executors write `stdout` and `stderr` into the results folder as the task
runs; `read_logs` turns those files into `LogChunk`s (1 = stdout,
2 = stderr), and with `follow` keeps reading as they grow until the
execution has ended and both files are drained.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import trio

from ..models.wire import LogChunk

POLL = 0.1
CHUNK = 64 * 1024
STREAMS = ((1, "stdout"), (2, "stderr"))


class _Tail:
    """Where one output file has been read up to, and its unfinished line."""

    def __init__(self, path: Path, kind: int, start_at_end: bool) -> None:
        self.path = path
        self.kind = kind
        self.offset = path.stat().st_size if start_at_end and path.exists() else 0
        self.partial = b""

    def read_lines(self, final: bool) -> list[LogChunk]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read(CHUNK)
        self.offset += len(data)
        text = self.partial + data
        *lines, self.partial = text.split(b"\n")
        if final and self.partial and len(data) < CHUNK:
            lines.append(self.partial)
            self.partial = b""
        return [
            LogChunk(Type=self.kind, Line=line.decode(errors="replace"))
            for line in lines
        ]


async def read_logs(
    results_dir: Path,
    *,
    follow: bool,
    tail: bool,
    finished: Callable[[], bool],
) -> AsyncIterator[LogChunk]:
    """The lines of an execution's output; see the module docstring."""
    tails = [_Tail(results_dir / name, kind, tail) for kind, name in STREAMS]
    while True:
        done = finished() or not follow
        got = 0
        for t in tails:
            lines = await trio.to_thread.run_sync(t.read_lines, done)
            got += len(lines)
            for line in lines:
                yield line
        if done and not got:
            return
        if not got:
            await trio.sleep(POLL)
