"""A real filesystem that runs out of space, for tests of a full disk.

`small_disk(path)` mounts a small tmpfs at `path` (this needs root: the
test is skipped where mounting is not allowed, or fails under CI=true);
`fill()` takes every free byte with a filler file and `make_room()`
deletes it. SQLite then fails as it does on a full disk in production:
"database or disk is full".
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.needs import missing

FILLER = ".filler"
PROBE = ".probe"


@dataclass(frozen=True)
class SmallDisk:
    """A mounted tmpfs that a test can fill up and free again."""

    path: Path

    def fill(self) -> None:
        """Take every free byte (blocking: call it through a thread)."""
        fd = os.open(self.path / FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for chunk in (b"\0" * 65536, b"\0" * 512, b"\0"):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, chunk)
        finally:
            os.close(fd)
        self._check_full()

    def make_room(self) -> None:
        for name in (FILLER, PROBE):
            (self.path / name).unlink(missing_ok=True)

    def _check_full(self) -> None:
        with pytest.raises(OSError, match="No space left") as full:
            (self.path / PROBE).write_bytes(b"x")
        assert full.value.errno == errno.ENOSPC


@contextlib.contextmanager
def small_disk(path: Path, size: str = "8m") -> Iterator[SmallDisk]:
    """Mount a tmpfs of `size` at `path` (created) for the block's duration."""
    path.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]
    try:
        subprocess.run(mount, check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        missing(f"cannot mount a small tmpfs here ({exc}); these tests need root")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, timeout=10)
