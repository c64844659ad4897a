"""The text of `bacalao job describe` and the rows of `bacalao job list`.

Sections as Bacalhau prints them: a key/value header, a summary of
execution states, the job's history, its executions, and the standard
output of each execution.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..models.ids import short_node_id
from .output import clock, key_values, short, table, when

if TYPE_CHECKING:
    from ..models.api import GetJobResponse
    from ..models.execution import Execution
    from ..models.history import JobHistory
    from ..models.job import Job

JOB_COLUMNS = ("created", "id", "name", "job", "type", "state")


def job_row(job: Job) -> list[str]:
    engine = job.Tasks[0].Engine.Type if job.Tasks else ""
    return [
        when(job.CreateTime, date=False),
        short(job.ID),
        job.Name,
        engine,
        job.Type,
        job.State.StateType.name,
    ]


def _header(job: Job) -> str:
    pairs = [
        ("ID", job.ID),
        ("Name", job.Name),
        ("Namespace", job.Namespace),
        ("Type", job.Type),
        ("State", job.State.StateType.name),
    ]
    if job.State.Message:
        pairs.append(("Message", job.State.Message))
    if job.Type in ("batch", "service"):
        pairs.append(("Count", str(job.Count)))
    pairs += [
        ("Created Time", when(job.CreateTime)),
        ("Modified Time", when(job.ModifyTime)),
        ("Version", str(job.Version)),
    ]
    return key_values(pairs)


def _history(items: list[JobHistory]) -> str:
    rows = [
        [clock(item.Time), item.Event.Topic, _event_text(item)]
        for item in items
        if not item.ExecutionID
    ]
    return table(("time", "topic", "event"), rows)


def _event_text(item: JobHistory) -> str:
    message = item.Event.Message
    error = item.Event.Details.get("IsError") == "true"
    return f"{message} (error)" if error else message


def _executions(executions: list[Execution]) -> str:
    rows = [
        [
            short(e.ID),
            short_node_id(e.NodeID),
            e.ComputeState.StateType.name,
            e.DesiredState.StateType.name,
            str(e.Revision),
            when(e.CreateTime, date=False),
            when(e.ModifyTime, date=False),
            e.ComputeState.Message,
        ]
        for e in executions
    ]
    headers = (
        "id",
        "node id",
        "state",
        "desired",
        "rev.",
        "created",
        "modified",
        "comment",
    )
    return table(headers, rows)


def _output(executions: list[Execution]) -> str:
    parts = []
    for e in executions:
        out = e.RunOutput
        if out is None or not (out.Stdout or out.STDERR):
            continue
        text = out.Stdout + out.STDERR
        if out.StdoutTruncated or out.StderrTruncated:
            text += "...\nOutput truncated"
        label = f"Execution {short(e.ID)}:\n" if len(executions) > 1 else ""
        parts.append(label + text.rstrip("\n"))
    return "\n\n".join(parts) or "(none)"


def describe_text(response: GetJobResponse) -> str:
    """The whole `job describe` text of a GetJobResponse (with includes)."""
    job = response.Job
    executions = sorted(
        response.Executions.Items if response.Executions else [],
        key=lambda e: e.CreateTime,
        reverse=True,
    )
    history = response.History.Items if response.History else []
    summary = Counter(e.ComputeState.StateType.name for e in executions)
    sections = [_header(job)]
    if summary:
        counts = [(name, str(n)) for name, n in sorted(summary.items())]
        sections.append("Summary\n" + key_values(counts))
    sections.append("Job History\n" + _history(history))
    sections.append(
        "Executions\n" + (_executions(executions) if executions else "(none)")
    )
    for e in executions:
        own = [h for h in history if h.ExecutionID == e.ID]
        if own:
            rows = [[clock(h.Time), h.Event.Topic, _event_text(h)] for h in own]
            sections.append(
                f"Execution {short(e.ID)} History\n"
                + table(("time", "topic", "event"), rows)
            )
    sections.append("Standard Output\n" + _output(executions))
    return "\n\n".join(sections)


__all__ = ["JOB_COLUMNS", "describe_text", "job_row"]
