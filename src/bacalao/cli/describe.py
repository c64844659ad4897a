"""The text of `job describe`, and the table rows of `job list`,
`job executions` and `job history`.

Sections as Bacalhau prints them: a key/value header, a summary of
execution states, the job's history, its executions, and the standard
output of each execution. The header says how long placement took and
each execution's history how long its phases took (`phases.py`).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..models.ids import short_node_id
from .output import View, clock, key_values, when
from .phases import duration, phases_text, placement

if TYPE_CHECKING:
    from ..models.api import GetJobResponse
    from ..models.execution import Execution
    from ..models.history import JobHistory
    from ..models.job import Job

JOB_COLUMNS = ("created", "id", "name", "job", "type", "state")
EXECUTION_COLUMNS = (
    "created",
    "modified",
    "id",
    "node id",
    "rev.",
    "state",
    "desired",
    "comment",
)
HISTORY_COLUMNS = ("time", "level", "exec. id", "node id", "topic", "event")
_PLAIN = View()


def _node(node_id: str, view: View) -> str:
    return node_id if view.wide else short_node_id(node_id)


def job_row(job: Job, view: View = _PLAIN) -> list[str]:
    engine = job.Tasks[0].Engine.Type if job.Tasks else ""
    return [
        when(job.CreateTime, date=view.wide),
        view.id(job.ID),
        job.Name,
        engine,
        job.Type,
        job.State.StateType.name,
    ]


def execution_row(e: Execution, view: View = _PLAIN) -> list[str]:
    return [
        when(e.CreateTime, date=view.wide),
        when(e.ModifyTime, date=view.wide),
        view.id(e.ID),
        _node(e.NodeID, view),
        str(e.Revision),
        e.ComputeState.StateType.name,
        e.DesiredState.StateType.name,
        e.ComputeState.Message,
    ]


def history_row(item: JobHistory, view: View = _PLAIN) -> list[str]:
    level = "Execution" if item.ExecutionID else "Job"
    return [
        clock(item.Time),
        level,
        view.id(item.ExecutionID) if item.ExecutionID else "",
        _node(item.NodeID, view) if item.NodeID else "",
        item.Event.Topic,
        _event_text(item),
    ]


def _header(job: Job, placed: float | None = None) -> str:
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
    if placed is not None:
        pairs.append(("Placement", duration(placed)))
    return key_values(pairs)


def _event_text(item: JobHistory) -> str:
    message = item.Event.Message
    error = item.Event.Details.get("IsError") == "true"
    return f"{message} (error)" if error else message


def _events(items: list[JobHistory], view: View) -> str:
    rows = [[clock(h.Time), h.Event.Topic, _event_text(h)] for h in items]
    return view.table(("time", "topic", "event"), rows)


def _output(executions: list[Execution], view: View) -> str:
    parts = []
    for e in executions:
        out = e.RunOutput
        if out is None or not (out.Stdout or out.STDERR):
            continue
        text = out.Stdout + out.STDERR
        if out.StdoutTruncated or out.StderrTruncated:
            text += "...\nOutput truncated"
        label = f"Execution {view.id(e.ID)}:\n" if len(executions) > 1 else ""
        parts.append(label + text.rstrip("\n"))
    return "\n\n".join(parts) or "(none)"


def describe_text(response: GetJobResponse, view: View = _PLAIN) -> str:
    """The whole `job describe` text of a GetJobResponse (with includes)."""
    job = response.Job
    executions = sorted(
        response.Executions.Items if response.Executions else [],
        key=lambda e: e.CreateTime,
        reverse=True,
    )
    history = response.History.Items if response.History else []
    summary = Counter(e.ComputeState.StateType.name for e in executions)
    this_version = [h for h in history if h.JobVersion == job.Version]
    sections = [_header(job, placement(this_version))]
    if summary:
        counts = [(name, str(n)) for name, n in sorted(summary.items())]
        sections.append("Summary\n" + key_values(counts))
    sections.append(
        "Job History\n" + _events([h for h in history if not h.ExecutionID], view)
    )
    rows = [execution_row(e, view) for e in executions]
    sections.append(
        "Executions\n" + (view.table(EXECUTION_COLUMNS, rows) if rows else "(none)")
    )
    for e in executions:
        own = [h for h in history if h.ExecutionID == e.ID]
        if own:
            took = phases_text(own)
            sections.append(
                f"Execution {view.id(e.ID)} History\n"
                + (f"Phases: {took}\n" if took else "")
                + _events(own, view)
            )
    sections.append("Standard Output\n" + _output(executions, view))
    return "\n\n".join(sections)


__all__ = [
    "EXECUTION_COLUMNS",
    "HISTORY_COLUMNS",
    "JOB_COLUMNS",
    "describe_text",
    "execution_row",
    "history_row",
    "job_row",
]
