"""A job's walk on a 2-node swarm is one trace: the requester's spans and
the compute node's, joined by the job's traceparent."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import trio

from bacalao.node import NodeHandle
from bacalao.telemetry import TRACEPARENT_META
from tests.needs import missing

from .conftest import Devstack, apis
from .test_jobs import noop_job

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )

REQUESTER_SPANS = {"job", "submit", "place", "bid", "execution"}
COMPUTE_SPANS = {"queue", "stage", "run", "publish"}


def traced(handle: NodeHandle) -> InMemorySpanExporter:
    """Trace `handle`'s node into an in-memory exporter."""
    try:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter,
        )
    except ImportError:
        missing("opentelemetry-sdk is not installed (it is in the dev extra)")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    handle.node.tracing.use(provider)
    return exporter


def by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {span.name: span for span in spans}


async def wait_for_spans(exporter: InMemorySpanExporter, names: set[str]) -> None:
    with trio.fail_after(10):
        while not names <= {s.name for s in exporter.get_finished_spans()}:
            await trio.sleep(0.02)


async def test_a_job_is_one_trace_across_requester_and_compute(
    devstack: Devstack,
) -> None:
    # node 0 only orchestrates, so the job runs on node 1
    async with devstack(2, per_node={0: {"compute": False}}) as nodes:
        requester, compute = traced(nodes[0]), traced(nodes[1])
        api = apis(nodes)[0]
        job_id = await api.submit(noop_job(Stdout="traced"))
        done = await api.wait_for(job_id)
        await wait_for_spans(requester, REQUESTER_SPANS)
        await wait_for_spans(compute, COMPUTE_SPANS)

    assert done["Job"]["State"]["StateType"] == "Completed"
    mine = by_name(requester.get_finished_spans())
    theirs = by_name(compute.get_finished_spans())
    job = mine["job"]
    assert job.attributes is not None
    assert job.attributes["bacalao.job.id"] == job_id
    context = job.get_span_context()
    traceparent = done["Job"]["Meta"][TRACEPARENT_META]
    assert traceparent == (
        f"00-{context.trace_id:032x}-{context.span_id:016x}"
        f"-{int(context.trace_flags):02x}"
    )
    for span in [*mine.values(), *theirs.values()]:
        assert span.get_span_context().trace_id == context.trace_id, span.name
        if span.name != "job":
            assert span.parent is not None
            assert span.parent.span_id == context.span_id, span.name
    _in_order(theirs, ["queue", "stage", "run", "publish"])
    assert _attr(theirs["run"], "bacalao.engine") == "noop"
    assert _attr(mine["execution"], "bacalao.state") == "Completed"
    assert _attr(theirs["run"], "bacalao.node.id") == nodes[1].node_id


def _in_order(spans: dict[str, ReadableSpan], names: list[str]) -> None:
    for earlier, later in itertools.pairwise(names):
        assert spans[earlier].end_time <= spans[later].start_time + 1, (earlier, later)


def _attr(span: ReadableSpan, key: str) -> Any:
    assert span.attributes is not None
    return span.attributes.get(key)


async def test_without_tracing_jobs_carry_no_traceparent(devstack: Devstack) -> None:
    async with devstack(1) as nodes:
        api = apis(nodes)[0]
        done = await api.wait_for(await api.submit(noop_job()))
    assert TRACEPARENT_META not in done["Job"]["Meta"]
    assert not nodes[0].node.tracing.enabled
