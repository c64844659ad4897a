"""Metric label values stay in small fixed sets, whatever peers send."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bacalao.models.ids import now_ns
from bacalao.models.job import Job
from bacalao.models.resources import Resources
from bacalao.models.states import ExecutionStateType, JobStateType
from bacalao.orchestrator.record import JobRecord
from bacalao.telemetry import BID_REASONS, JobMetrics, NodeMetrics, bid_reason
from bacalao.telemetry.compute import TimedCapacity
from bacalao.telemetry.tracing import TraceParent, Tracing, parse_traceparent


@given(st.text())
def test_any_decline_text_maps_to_a_known_reason(text: str) -> None:
    assert bid_reason(text) in BID_REASONS


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("busy: 2 running, 1 queued (free cpu 0, memory 1.0 GiB)", "busy"),
        ("job needs more than this node has: memory 8 GiB > 4 GiB", "resources"),
        ("engine 'docker' is not available on this node", "engine"),
        ("image 'evil:latest' is not allowed on this node", "engine"),
        ("input source 's3' is not supported here", "storage"),
        ("publisher 'ipfs' is not supported here", "storage"),
        ("could not ask node for a bid: peer unreachable", "unreachable"),
        ("this compute node takes work only from its allowed requesters", "other"),
    ],
)
def test_decline_reasons_of_this_codebase(text: str, reason: str) -> None:
    assert bid_reason(text) == reason


@given(st.text())
def test_labels_are_names_this_node_knows_or_other(name: str) -> None:
    metrics = NodeMetrics(known=("noop", "urlDownload"))
    assert metrics.label(name) in {"noop", "urlDownload", "other"}


def test_known_names_keep_their_registry_spelling() -> None:
    metrics = NodeMetrics(known=("urlDownload",))
    assert metrics.label("URLDOWNLOAD") == "urlDownload"


def test_queue_wait_counts_each_start_once() -> None:
    metrics = NodeMetrics()
    capacity = TimedCapacity(Resources(CPU=1), max_queued=4, metrics=metrics)
    one = Resources(CPU=1)
    assert capacity.hold_or_queue("e-1", one)
    assert not capacity.hold_or_queue("e-2", one)
    assert not capacity.hold_or_queue("e-2", one)  # asked again: still queued
    assert capacity.release("e-1") == ["e-2"]
    count = metrics.registry.get_sample_value(
        "bacalao_compute_queue_wait_seconds_count"
    )
    assert count == 2


@given(st.text())
def test_any_traceparent_text_parses_or_is_refused(text: str) -> None:
    parsed = parse_traceparent(text)
    assert parsed is None or parse_traceparent(parsed.header()) == parsed


@given(st.integers(1, 2**128 - 1), st.integers(1, 2**64 - 1), st.integers(0, 255))
def test_traceparent_round_trips(trace_id: int, span_id: int, flags: int) -> None:
    parent = TraceParent(trace_id, span_id, flags)
    assert parse_traceparent(parent.header()) == parent


@pytest.mark.parametrize(
    "text",
    [
        "",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    ],
)
def test_malformed_traceparents_are_refused(text: str) -> None:
    assert parse_traceparent(text) is None


def test_tracing_is_off_without_an_endpoint() -> None:
    tracing = Tracing.from_env("n-1", {})
    assert not tracing.enabled


def _record() -> JobRecord:
    job = Job.model_validate(
        {"ID": "j-1", "Type": "batch", "Tasks": [{"Engine": {"Type": "noop"}}]}
    )
    job.CreateTime = now_ns()
    return JobRecord(job=job)


def _sample(metrics: NodeMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_job_metrics_follow_a_record_through_its_commits() -> None:
    metrics = NodeMetrics()
    observer = JobMetrics(metrics)
    record = _record()
    record.set_state(JobStateType.Pending)
    observer.job_changed(record)
    busy = record.new_execution("n-busy", "ev-1")
    record.move(busy, ExecutionStateType.AskForBidRejected, "busy: 1 running")
    taker = record.new_execution("n-free", "ev-1")
    record.move(taker, ExecutionStateType.AskForBidAccepted)
    record.set_state(JobStateType.Running)
    observer.job_changed(record)
    assert _sample(metrics, "bacalao_jobs", type="batch", state="Running") == 1
    assert _sample(metrics, "bacalao_jobs", type="batch", state="Pending") == 0
    record.move(taker, ExecutionStateType.Completed)
    record.set_state(JobStateType.Completed)
    observer.job_changed(record)
    observer.job_changed(record)  # a commit that changed nothing new
    assert _sample(metrics, "bacalao_jobs", type="batch", state="Completed") == 1
    assert _sample(metrics, "bacalao_jobs", type="batch", state="Running") == 0
    assert _sample(metrics, "bacalao_jobs_submitted_total", type="batch") == 1
    assert _sample(metrics, "bacalao_bids_asked_total") == 2
    answered = "bacalao_bids_answered_total"
    assert _sample(metrics, answered, outcome="declined", reason="busy") == 1
    assert _sample(metrics, answered, outcome="accepted", reason="") == 1
    latency = "bacalao_job_latency_seconds_count"
    assert _sample(metrics, latency, type="batch", state="Completed") == 1


def test_an_observer_that_fails_does_not_break_the_commit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = NodeMetrics()
    observer = JobMetrics(metrics)

    def broken(*_args: object) -> None:
        raise RuntimeError("metric backend gone")

    metrics.job_state = broken  # type: ignore[method-assign]
    record = _record()
    record.set_state(JobStateType.Pending)
    observer.job_changed(record)  # logged, not raised
    assert "metric backend gone" in caplog.text


def test_a_new_version_replaces_the_old_in_the_gauge_and_counts_only_its_own() -> None:
    metrics = NodeMetrics()
    observer = JobMetrics(metrics)
    first = _record()
    first.set_state(JobStateType.Pending)
    observer.job_changed(first)
    asked = first.new_execution("n-1", "ev-1")
    first.move(asked, ExecutionStateType.AskForBidAccepted)
    first.set_state(JobStateType.Running)
    observer.job_changed(first)
    first.superseded_by = 2
    observer.job_changed(first)
    assert _sample(metrics, "bacalao_jobs", type="batch", state="Running") == 0
    second = JobRecord(
        job=first.job.model_copy(update={"Version": 2}), history=list(first.history)
    )
    second.set_state(JobStateType.Pending)
    observer.job_changed(second)
    assert _sample(metrics, "bacalao_jobs", type="batch", state="Pending") == 1
    assert _sample(metrics, "bacalao_bids_asked_total") == 1  # not counted again
    assert _sample(metrics, "bacalao_jobs_submitted_total", type="batch") == 2
    latency = "bacalao_job_latency_seconds_count"
    assert _sample(metrics, latency, type="batch", state="Running") == 0
