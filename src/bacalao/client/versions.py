"""Job versions for `Client` users: list them, diff a spec, rerun one.

    versions(client, "nightly").Items            # every version, oldest first
    diff(client, job).Diff                       # stored job -> this spec
    rerun(client, "nightly", version=1).JobVersion

A spec submitted (`Client.submit`) under an existing job's name becomes
that job's next version; `force=True` repeats an unchanged spec.
Standard library only, like the rest of the client; the models are
imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .api import JOBS, Client
from .wire import parse, seg

if TYPE_CHECKING:
    from ..models.api import DiffJobResponse, ListJobVersionsResponse, RerunJobResponse
    from ..models.job import Job


def versions(
    client: Client, job: str, *, namespace: str | None = None
) -> ListJobVersionsResponse:
    """Every version of the job named by ID, ID prefix or name."""
    from ..models.api import ListJobVersionsResponse

    path = f"{JOBS}/{seg(job)}/versions"
    raw = client.request("GET", path, query={"namespace": namespace})
    return parse(raw, ListJobVersionsResponse, path)


def diff(client: Client, job: Job | Mapping[str, Any]) -> DiffJobResponse:
    """How `job` differs from the stored job of its name."""
    from ..models.api import DiffJobResponse

    spec = job if isinstance(job, Mapping) else job.model_dump(mode="json")
    path = f"{JOBS}/diff"
    return parse(client.request("PUT", path, body={"Job": spec}), DiffJobResponse, path)


def rerun(
    client: Client, job: str, *, version: int = 0, reason: str = ""
) -> RerunJobResponse:
    """Run `version` of the job (0: the latest) again as its next version."""
    from ..models.api import RerunJobResponse

    path = f"{JOBS}/{seg(job)}/rerun"
    body = {"JobVersion": version, "Reason": reason}
    return parse(client.request("PUT", path, body=body), RerunJobResponse, path)


__all__ = ["diff", "rerun", "versions"]
