"""Capped output: write a task's streams to files, read back a capped head.

Every executor writes a task's stdout and stderr into the results folder
while it runs, keeping at most `OutputLimits.log_bytes` of each, and returns
at most `OutputLimits.output_bytes` of each in the `RunCommandResult`. These
helpers are blocking file I/O: call them from a worker thread.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import BinaryIO


class CappedWriter:
    """Appends bytes to a file, unbuffered, until `limit` bytes; drops the rest.

    Writes reach the file at once, so a reader can follow it while the task
    runs. `truncated` tells whether anything was dropped.
    """

    def __init__(self, path: Path, limit: int) -> None:
        self._file: BinaryIO = path.open("ab", buffering=0)
        self._room = max(limit, 0)
        self.truncated = False

    def write(self, data: bytes) -> None:
        if self._file.closed:
            return
        keep = data[: self._room]
        if len(keep) < len(data):
            self.truncated = True
        if keep:
            self._file.write(keep)
            self._room -= len(keep)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CappedWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def decode_head(data: bytes) -> str:
    """Decode UTF-8, replacing bad bytes and dropping a sequence cut at the end."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(data, final=False)


def read_head(path: Path, limit: int) -> tuple[str, bool]:
    """The first `limit` bytes of `path` as text, and whether more followed."""
    try:
        with path.open("rb") as file:
            data = file.read(max(limit, 0) + 1)
    except FileNotFoundError:
        return "", False
    return decode_head(data[:limit]), len(data) > limit


def cap_file(path: Path, limit: int) -> bool:
    """Cut `path` to `limit` bytes; True when it was longer."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size <= limit:
        return False
    with path.open("r+b") as file:
        file.truncate(max(limit, 0))
    return True
