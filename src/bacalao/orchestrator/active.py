"""The jobs this orchestrator is driving now, by job and by execution ID."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..models.execution import Execution
from .record import JobRecord


class ActiveJobs:
    """Records of the active jobs; each is owned by its job's task."""

    def __init__(self) -> None:
        self._records: dict[str, JobRecord] = {}
        self._job_of: dict[str, str] = {}  # execution ID -> job ID

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._records

    def __iter__(self) -> Iterator[JobRecord]:
        return iter(list(self._records.values()))

    def add(self, record: JobRecord) -> None:
        self._records[record.job.ID] = record
        self.index(record.job.ID, record.executions.values())

    def index(self, job_id: str, executions: Iterable[Execution]) -> None:
        """Note new executions of an active job."""
        for execution in executions:
            self._job_of[execution.ID] = job_id

    def remove(self, record: JobRecord) -> None:
        for execution_id in record.executions:
            self._job_of.pop(execution_id, None)
        self._records.pop(record.job.ID, None)

    def execution(self, execution_id: str) -> Execution | None:
        record = self._records.get(self._job_of.get(execution_id, ""))
        return record.executions.get(execution_id) if record else None

    def alive(self, execution_id: str, at: float) -> None:
        record = self._records.get(self._job_of.get(execution_id, ""))
        if record is not None:
            record.alive_at[execution_id] = at
