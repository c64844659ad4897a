"""Errors the job store raises.

JobStoreError
 ├─ StorageUnavailable  the store cannot be written (disk full, I/O error,
 │                      read-only); transient, whoever holds the change
 │                      retries it (the API answers 503)
 ├─ StoreError          one change refused for its content, not for the
 │                      disk: only that change fails
 └─ AmbiguousID         an ID prefix (a LookupError too) matches several jobs
"""

from __future__ import annotations


class JobStoreError(Exception):
    """Base of the errors the job store raises."""


class StorageUnavailable(JobStoreError):
    """Raised when the job store cannot be written (disk full, I/O error).

    Transient: whoever holds the change retries it; new work is refused
    with this message until a write succeeds again.
    """

    def __init__(self, path: str, cause: str) -> None:
        self.message = f"this node cannot write its job store {path}: {cause}"
        self.hint = (
            "free disk space (or fix the disk) on the node; it resumes by "
            "itself, nothing already stored is lost"
        )
        super().__init__(self.message)
        self.path = path
        self.cause = cause


class StoreError(JobStoreError):
    """Raised when the store refuses one change for its content (a bug, or
    data that cannot be encoded); other changes in the same batch still land."""


class AmbiguousID(JobStoreError, LookupError):
    """Raised when an ID prefix matches more than one job."""

    def __init__(self, prefix: str, candidates: list[str]) -> None:
        super().__init__(f"{prefix!r} matches several jobs: {', '.join(candidates)}")
        self.prefix = prefix
        self.candidates = candidates


__all__ = ["AmbiguousID", "JobStoreError", "StorageUnavailable", "StoreError"]
