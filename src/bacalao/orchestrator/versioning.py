"""Submitting, versioning and rerunning jobs on their requester.

A spec whose `Name` exists in its namespace becomes that job's next
version (the pure rules are in versions.py): the task of the current
version is told it is superseded and ends, cancelling its executions;
then the new version is stored and placed like a new job. `NameLocks`
makes the versions of one name one at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models.ids import new_evaluation_id, now_ns
from ..models.job import Job
from .exceptions import InvalidJobState, JobNotFound, VersionNotFound
from .inbox import Superseded
from .record import JobRecord
from .submission import prepare_job
from .versions import NameLocks, check_rerunnable, check_update, next_version, spec_diff

if TYPE_CHECKING:
    from .service import Orchestrator


class Submissions:
    """New jobs, new versions of named jobs, reruns and diffs."""

    def __init__(self, orchestrator: Orchestrator) -> None:
        self.o = orchestrator
        self._names = NameLocks()

    def _prepared(self, job: Job) -> Job:
        defaults = self.o.settings.defaults
        return prepare_job(
            job, node_id=self.o.node_id, now_ns=now_ns(), defaults=defaults
        )

    async def submit(self, job: Job, *, force: bool = False) -> tuple[str, str]:
        """Store and start `job`, or make it the next version of the job of
        its name (`NothingChanged` if it is the same, unless `force`)."""
        stored = self._prepared(job)
        if not job.Name:
            return await self._submit_new(stored)
        async with self._names.hold(stored.Namespace, stored.Name):
            named = await self.o.store.jobs_named(stored.Name, stored.Namespace)
            if not named:
                return await self._submit_new(stored)
            latest = named[0]
            await self._check_owned(latest)
            check_update(latest, stored, force=force)
            message = f"Job updated to version {latest.Version + 1}"
            updated = await self._replace(latest, stored, message)
            return updated.ID, new_evaluation_id()

    async def _submit_new(self, stored: Job) -> tuple[str, str]:
        record = JobRecord(job=stored)
        record.add_event("Job submitted", "Submission")
        # tried even while the store is failing: that is how we notice it
        # has room again; a job not stored is not accepted
        await self.o.committer.commit(record, retry=False)
        self.o.start(record)
        return stored.ID, new_evaluation_id()

    async def rerun(self, job_id: str, version: int = 0, reason: str = "") -> Job:
        """Run the spec of `version` (0: the latest) again as the job's next
        version; returns that version."""
        latest = await self.o.store.get_job(job_id)
        if latest is None:
            raise JobNotFound(job_id)
        async with self._names.hold(latest.Namespace, latest.Name):
            latest = await self.o.store.get_job(job_id) or latest
            await self._check_owned(latest)
            check_rerunnable(latest)
            spec = latest
            if version not in (0, latest.Version):
                found = [
                    v
                    for v in await self.o.store.versions(job_id)
                    if v.Version == version
                ]
                if not found:
                    raise VersionNotFound(
                        f"job {job_id} has no version {version}",
                        hint=f"its versions are 1 to {latest.Version}",
                    )
                spec = found[0]
            message = f"Job rerun from version {spec.Version}"
            return await self._replace(
                latest, spec, message + (f": {reason}" if reason else "")
            )

    async def diff(self, job: Job) -> str:
        """How `job` differs from the stored job of its name ("" if not at all)."""
        submitted = self._prepared(job)
        named = await self.o.store.jobs_named(job.Name, submitted.Namespace)
        if not job.Name or not named:
            raise JobNotFound(job.Name or "(the spec has no Name)")
        return spec_diff(named[0], submitted)

    async def _check_owned(self, job: Job) -> None:
        owner = await self.o.store.requester_of(job.ID)
        if owner != self.o.node_id:
            raise InvalidJobState(
                f"job {job.Name!r} ({job.ID}) is owned by another node; "
                "its new versions are made there",
                hint=f"submit it to node {owner}",
            )

    async def _replace(self, latest: Job, spec: Job, message: str) -> Job:
        """Make `spec` the version after `latest`: end the task of the
        current version (cancelling its executions), then store the new
        version and start placing it."""
        if latest.ID in self.o.active:
            superseded = Superseded(latest.Version + 1)
            await self.o.inboxes.deliver(latest.ID, superseded, wait=True)
            await self.o.inboxes.ended(latest.ID)
            latest = await self.o.store.get_job(latest.ID) or latest
        job = next_version(latest, spec, now_ns=now_ns())
        record = JobRecord(job=job, history=await self.o.store.history(job.ID))
        record.add_event(message, "Submission")
        await self.o.committer.commit(record, retry=False)
        self.o.start(record)
        return job
