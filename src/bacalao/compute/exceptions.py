"""Errors of the compute side.

ComputeError
 └─ ComputeStoreUnavailable  this node cannot write its executions
                             database (disk full, I/O error): work that
                             must be recorded waits, new work is declined
"""

from __future__ import annotations


class ComputeError(Exception):
    """Base of the compute side's errors."""


class ComputeStoreUnavailable(ComputeError):
    """Raised when the compute node's own store refuses a write or a read."""

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"this node cannot write {path}: {cause}")
        self.cause = cause
