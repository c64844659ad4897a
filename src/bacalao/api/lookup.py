"""Finding the job a request names: its ID, a unique ID prefix, or its name.

Bacalhau accepts a job's name wherever it takes an ID. The backend resolves
IDs and prefixes (404 `JobNotFound`, 400 `AmbiguousJobID` naming the
candidates); when nothing matches as an ID, the name is looked up, and a
name several jobs share is ambiguous in the same way.
"""

from __future__ import annotations

from ..models.job import Job
from ..orchestrator.exceptions import AmbiguousJobID, JobNotFound
from .backend import Backend

NAME_CANDIDATES = 5


async def resolve_job(backend: Backend, id_or_name: str, namespace: str = "") -> str:
    """The full ID of the job `id_or_name` names (see the module docstring)."""
    try:
        return await backend.resolve_job_id(id_or_name)
    except JobNotFound:
        jobs = await _named(backend, id_or_name, namespace)
        if len(jobs) == 1:
            return jobs[0].ID
        if jobs:
            raise AmbiguousJobID(id_or_name, [j.ID for j in jobs]) from None
        raise


async def _named(backend: Backend, name: str, namespace: str) -> list[Job]:
    if not name:
        return []

    def same_name(job: Job) -> bool:
        return job.Name == name

    jobs, _ = await backend.list_jobs(
        namespace=None if namespace in ("", "*") else namespace,
        order_by="create_time",
        reverse=True,
        where=same_name,
        offset=0,
        limit=NAME_CANDIDATES,
    )
    return jobs


__all__ = ["resolve_job"]
