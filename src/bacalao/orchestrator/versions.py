"""Job names and versions: a spec whose name exists updates that job.

As in Bacalhau, a job's name is unique in its namespace. Submitting a spec
under a name that exists makes the next version of that job: same ID,
Version + 1, state Pending, the old version's executions cancelled and the
new one placed. A spec that changes nothing is refused unless forced. A
rerun makes a new version from the spec of an earlier (or the latest) one.

Pure functions over jobs (the orchestrator does the I/O), and `NameLocks`,
which makes the versions of one named job one at a time.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from ..models.job import META_JOB_NONCE, META_RESERVED_PREFIX, Job
from ..models.states import JobStateType, State
from .exceptions import InvalidJob, InvalidJobState, NothingChanged

# Fields that say where a job is in its life, not what it asks for.
NOT_SPEC = {"ID", "State", "Version", "Revision", "CreateTime", "ModifyTime"}
RESOURCE_FIELDS = ("CPU", "Memory", "Disk", "GPU")
# States a job may be rerun from (Bacalhau: not while it waits to be placed).
NOT_RERUNNABLE = (JobStateType.Undefined, JobStateType.Pending, JobStateType.Queued)


def comparable(job: Job) -> dict[str, Any]:
    """The spec of `job` as two versions are compared: without its ID,
    state, version and times, without reserved Meta keys, and with
    resource amounts in lower case (`1Gb` and `1gb` are the same)."""
    data = job.model_dump(mode="json", exclude=NOT_SPEC)
    data["Meta"] = {
        key: value
        for key, value in data["Meta"].items()
        if not key.startswith(META_RESERVED_PREFIX)
    }
    for task in data["Tasks"]:
        resources = task.get("Resources") or {}
        for name in RESOURCE_FIELDS:
            if isinstance(resources.get(name), str):
                resources[name] = resources[name].lower()
    return data


def spec_diff(stored: Job, submitted: Job) -> str:
    """A unified diff from `stored` to `submitted` ("" if they ask for the
    same thing)."""
    before = _lines(comparable(stored))
    after = _lines(comparable(submitted))
    if before == after:
        return ""
    return "".join(
        difflib.unified_diff(
            before, after, f"version {stored.Version}", "submitted", n=2
        )
    )


def _lines(spec: dict[str, Any]) -> list[str]:
    return [
        line + "\n" for line in json.dumps(spec, indent=2, sort_keys=True).split("\n")
    ]


def check_update(stored: Job, submitted: Job, *, force: bool) -> None:
    """Raise unless `submitted` may become the next version of `stored`:
    `InvalidJob` if it changes the job's type, `NothingChanged` if it
    changes nothing and is not forced."""
    if submitted.Type != stored.Type:
        raise InvalidJob(
            "Job.Type",
            f"job {stored.Name!r} is a {stored.Type} job; a new version cannot "
            f"make it a {submitted.Type} job",
            hint="give the job another name, or stop this one first and use "
            "another name",
        )
    if not force and not spec_diff(stored, submitted):
        raise NothingChanged(stored.Name, stored.ID)


def check_rerunnable(job: Job) -> None:
    """`InvalidJobState` if `job` waits to be placed (it runs soon anyway)."""
    if job.State.StateType in NOT_RERUNNABLE:
        raise InvalidJobState(
            f"cannot rerun job in state {job.State.StateType.name}",
            hint="the job has not run yet; to change it, submit its spec again "
            "with `job run`",
        )


def next_version(latest: Job, spec: Job, *, now_ns: int) -> Job:
    """`spec` (a prepared submission, or an earlier version) stored as the
    version after `latest`: the same ID (still bound to its requester),
    name and namespace, state Pending.

    CreateTime is the new version's: a job's timeouts count from it.
    """
    job = spec.model_copy(deep=True)
    job.ID = latest.ID
    job.Name = latest.Name
    job.Namespace = latest.Namespace
    job.Meta = {**job.Meta, META_JOB_NONCE: latest.Meta.get(META_JOB_NONCE, "")}
    job.State = State[JobStateType](StateType=JobStateType.Pending)
    job.Version = latest.Version + 1
    job.Revision = latest.Revision + 1
    job.CreateTime = job.ModifyTime = now_ns
    return job


class NameLocks:
    """One lock per (namespace, name) in use: two submissions of the same
    name (or a rerun) wait for each other, so each sees the version the
    other made; submissions of other names do not wait."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[trio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, namespace: str, name: str) -> AsyncIterator[None]:
        key = (namespace, name)
        lock, users = self._locks.get(key, (trio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


__all__ = [
    "NameLocks",
    "check_rerunnable",
    "check_update",
    "comparable",
    "next_version",
    "spec_diff",
]
