"""Checks every executor makes of a task, whatever its engine.

- Host paths: a `local` input is bound into the task, so an executor
  refuses one the operator has not allow-listed (the storage layer checks
  again, on the real path, when it stages it).
- Disk: no engine here can cap a task's disk use (Docker's `vfs` and
  `overlay2`-on-ext4 storage drivers cannot), so a task that asks for more
  `Disk` than the node has free is refused, at bid time from the last
  measurement and again, measured afresh, just before it starts.

Free space is measured in a worker thread, never on the event loop:
`refresh` at start-up and after every run, `check` before each run.
"""

from __future__ import annotations

import os
from pathlib import Path

import trio

from ..models.job import Job
from ..models.resources import format_bytes
from ..storage.staging import refusal as input_refusal
from .exceptions import ExecutorError


class TaskGuard:
    """The engine-independent refusals of one node."""

    def __init__(
        self, allowed_local_paths: tuple[str, ...] = (), disk_path: Path | None = None
    ) -> None:
        self._allowed = allowed_local_paths
        self._disk_path = disk_path
        self.free_disk: int | None = None

    def refusal(self, job: Job) -> str | None:
        """Why this node will not take `job` (no I/O), or None."""
        reason = input_refusal(job.task.InputSources, self._allowed)
        return reason or self._disk_refusal(job, self.free_disk)

    async def refresh(self) -> None:
        """Measure the free disk space again."""
        if self._disk_path is not None:
            self.free_disk = await trio.to_thread.run_sync(free_bytes, self._disk_path)

    async def check(self, job: Job) -> None:
        """Raise `ExecutorError` if `job` cannot run here now (measures afresh)."""
        reason = self.refusal(job)
        if reason is None and job.task.Resources.parsed().Disk > 0:
            await self.refresh()
            reason = self._disk_refusal(job, self.free_disk)
        if reason is not None:
            raise ExecutorError(reason)

    def _disk_refusal(self, job: Job, free: int | None) -> str | None:
        need = job.task.Resources.parsed().Disk
        if free is None or need <= free:
            return None
        return (
            f"task asks for {format_bytes(need)} of disk, this node has "
            f"{format_bytes(free)} free"
        )


def free_bytes(path: Path) -> int:
    """Bytes free to unprivileged users on the file system holding `path`."""
    while not path.exists() and path != path.parent:
        path = path.parent
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize
