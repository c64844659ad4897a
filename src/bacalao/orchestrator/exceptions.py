"""Errors the orchestrator raises to its callers (the API maps them to HTTP).

OrchestratorError
 ├─ InvalidJob        the submitted spec is wrong; names the field  (400)
 ├─ NothingChanged    a spec under an existing name changes nothing (400)
 ├─ JobNotFound       no job has that ID or ID prefix               (404)
 ├─ AmbiguousJobID    a prefix matches several jobs                 (400)
 ├─ NodeNotFound      no node has that ID or ID prefix              (404)
 ├─ VersionNotFound   the job has no such version                   (404)
 ├─ Unavailable       the node that holds it cannot be reached      (503)
 └─ InvalidJobState   the job cannot do that in its state           (409)

The job store's own errors (`bacalao.jobstore.exceptions`) pass through
the orchestrator unchanged; the API answers `StorageUnavailable` with 503.
"""

from __future__ import annotations


class OrchestratorError(Exception):
    """Base of the errors the orchestrator reports to API callers."""

    code = "InternalError"
    status = 500
    component = "Orchestrator"  # the part of the node that answers

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InvalidJob(OrchestratorError):
    """The job spec failed validation; `field` is the dotted path at fault."""

    code = "ValidationError"
    status = 400

    def __init__(self, field: str, reason: str, *, hint: str = "") -> None:
        where = f"{field}: " if field else ""
        super().__init__(f"invalid job spec: {where}{reason}", hint=hint)
        self.field = field
        self.reason = reason


class NothingChanged(OrchestratorError):
    """Raised when a spec submitted under an existing job's name is the same
    as that job's spec (and not forced): it would make an identical version."""

    code = "BadRequest"
    status = 400

    def __init__(self, name: str, job_id: str) -> None:
        super().__init__(
            f"no changes detected for new job spec. Job Name: '{name}', "
            f"Job Id: '{job_id}'",
            hint="use the --force flag (Force in the API) to run it again anyway, "
            f"or `job rerun {job_id}`",
        )
        self.job_id = job_id


class JobNotFound(OrchestratorError):
    code = "NotFound"
    status = 404
    component = "JobStore"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job not found: {job_id}")
        self.job_id = job_id


class AmbiguousJobID(OrchestratorError):
    code = "MultipleJobsFound"
    status = 400
    component = "JobStore"

    def __init__(self, prefix: str, candidates: list[str]) -> None:
        super().__init__(
            f"job ID prefix {prefix!r} matches several jobs: {', '.join(candidates)}",
            hint="use more characters of the job ID",
        )
        self.candidates = candidates


class NodeNotFound(OrchestratorError):
    code = "NotFound"
    status = 404
    component = "NodeManager"

    def __init__(self, node_id: str) -> None:
        super().__init__(f"node not found: {node_id}")


class VersionNotFound(OrchestratorError):
    """Raised when a job exists but not the version asked for."""

    code = "NotFound"
    status = 404
    component = "JobStore"


class Unavailable(OrchestratorError):
    code = "ServiceUnavailable"
    status = 503


class InvalidJobState(OrchestratorError):
    code = "ResourceInUse"
    status = 409

    @classmethod
    def already_ended(cls, job_id: str, state: str) -> InvalidJobState:
        """For a stop of a job that has already ended."""
        return cls(f"job {job_id} is already {state}: there is nothing to stop")
