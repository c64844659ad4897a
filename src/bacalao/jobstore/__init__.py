"""The job store every node keeps: its own jobs and replicas of the others'.

sqlite.py      SqliteStore (blocking): schema, Change, transactions
store.py       JobStore: the async, group-committing face trio code uses
exceptions.py  StorageUnavailable, StoreError, AmbiguousID
"""

from .exceptions import AmbiguousID, JobStoreError, StorageUnavailable, StoreError
from .sqlite import Change, SqliteStore
from .store import JobStore

__all__ = [
    "AmbiguousID",
    "Change",
    "JobStore",
    "JobStoreError",
    "SqliteStore",
    "StorageUnavailable",
    "StoreError",
]
