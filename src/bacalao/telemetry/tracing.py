"""OpenTelemetry spans for a job's walk, when the operator asks for them.

Tracing is on when OpenTelemetry's SDK and OTLP exporter are installed
and `OTEL_EXPORTER_OTLP_ENDPOINT` is set (`Tracing.from_env`), or when a
test hands a tracer provider to `Tracing.use`. Off, nothing here imports
OpenTelemetry and no job changes.

How a trace crosses nodes: when a job is submitted, its requester opens a
`job` span and writes its W3C traceparent into the job's Meta under
`TRACEPARENT_META` (a reserved key: submitters cannot set it). The job
travels to the compute node with its Meta, and the compute node's spans
name that span as their parent. Every other span is written when its
phase is over, with the times the phase began and ended (the requester's
from its job history, the compute node's from its own timeline), so no
span is held open across awaits except the job's own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..models.job import Job

log = logging.getLogger(__name__)

TRACEPARENT_META = "bacalao.org/traceparent"
SERVICE_NAME = "bacalao"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class TraceParent:
    """A W3C trace context: which trace, which parent span, sampled or not."""

    trace_id: int
    span_id: int
    flags: int = 1

    def header(self) -> str:
        return f"00-{self.trace_id:032x}-{self.span_id:016x}-{self.flags:02x}"


def parse_traceparent(text: str) -> TraceParent | None:
    """The trace context in a `traceparent` value (version 00), or None if
    it is malformed or names the all-zero trace or span."""
    match = _TRACEPARENT.match(text.strip().lower())
    if match is None:
        return None
    trace_id, span_id, flags = (int(part, 16) for part in match.groups())
    if not trace_id or not span_id:
        return None
    return TraceParent(trace_id, span_id, flags)


def job_parent(job: Job | None) -> TraceParent | None:
    """The trace context a job carries, if any."""
    if job is None:
        return None
    return parse_traceparent(job.Meta.get(TRACEPARENT_META, ""))


class Tracing:
    """One node's tracer, or nothing when tracing is off."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self._tracer: Any = None
        self._provider: Any = None
        self._owned = False  # whether `close` shuts the provider down
        self._open: dict[str, Any] = {}  # traceparent -> open job span

    @classmethod
    def from_env(cls, node_id: str, env: Mapping[str, str]) -> Tracing:
        """Tracing to the OTLP endpoint in `env`, or off."""
        tracing = cls(node_id)
        if not env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            return tracing
        provider = _otlp_provider(node_id, env)
        if provider is not None:
            tracing.use(provider)
            tracing._owned = True
        return tracing

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def use(self, provider: Any) -> None:
        """Write spans through `provider` (an SDK `TracerProvider`)."""
        self._provider = provider
        self._tracer = provider.get_tracer("bacalao")

    def close(self) -> None:
        """Flush and stop the exporter this node started (blocking)."""
        if self._owned and self._provider is not None:
            self._provider.shutdown()

    # -- the job span ----------------------------------------------------

    @contextmanager
    def submission(self, job: Job) -> Iterator[Job]:
        """Open the job's span around its submission; yields the job with
        its traceparent (unchanged when off). A submission that fails ends
        the span as an error."""
        if self._tracer is None:
            yield job
            return
        span = self._tracer.start_span("job", attributes=self._common())
        context = span.get_span_context()
        parent = TraceParent(
            context.trace_id, context.span_id, int(context.trace_flags)
        )
        self._open[parent.header()] = span
        traced = job.model_copy(
            update={"Meta": {**job.Meta, TRACEPARENT_META: parent.header()}}
        )
        try:
            yield traced
        except BaseException as exc:
            self._open.pop(parent.header(), None)
            span.record_exception(exc)
            span.end()
            raise

    def job_seen(self, job: Job) -> None:
        """Name the open span of `job` once its ID is known."""
        span = self._open.get(job.Meta.get(TRACEPARENT_META, ""))
        if span is not None:
            span.set_attribute("bacalao.job.id", job.ID)
            span.set_attribute("bacalao.job.type", job.Type)

    def job_ended(self, job: Job, state: str, end_ns: int) -> None:
        span = self._open.pop(job.Meta.get(TRACEPARENT_META, ""), None)
        if span is not None:
            span.set_attribute("bacalao.job.state", state)
            span.end(end_time=end_ns)

    # -- phase spans -----------------------------------------------------

    def phase(
        self,
        name: str,
        parent: TraceParent | None,
        start_ns: int,
        end_ns: int,
        **attributes: str,
    ) -> None:
        """Write a finished span `name`, child of `parent`, over the times."""
        if self._tracer is None or parent is None:
            return
        from opentelemetry import trace

        context = trace.set_span_in_context(
            trace.NonRecordingSpan(
                trace.SpanContext(
                    parent.trace_id,
                    parent.span_id,
                    is_remote=True,
                    trace_flags=trace.TraceFlags(parent.flags),
                )
            )
        )
        attrs = {**self._common(), **{f"bacalao.{k}": v for k, v in attributes.items()}}
        span = self._tracer.start_span(
            name, context=context, start_time=start_ns, attributes=attrs
        )
        span.end(end_time=max(end_ns, start_ns))

    def _common(self) -> dict[str, str]:
        return {"bacalao.node.id": self.node_id}


def _otlp_provider(node_id: str, env: Mapping[str, str]) -> Any:
    """An SDK tracer provider exporting over OTLP, or None (logged) when
    the packages are missing."""
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        grpc = env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") == "grpc"
        if grpc:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter,
            )
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )
    except ImportError as exc:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing is off: %s "
            "(pip install opentelemetry-sdk opentelemetry-exporter-otlp)",
            exc,
        )
        return None
    resource = Resource.create(
        {"service.name": SERVICE_NAME, "service.instance.id": node_id}
    )
    provider = TracerProvider(resource=resource)
    endpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"]
    if not grpc:  # a base URL: the exporter is given the traces path
        endpoint = endpoint.rstrip("/") + "/v1/traces"
    exporter = OTLPSpanExporter(endpoint=endpoint)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


__all__ = [
    "TRACEPARENT_META",
    "TraceParent",
    "Tracing",
    "job_parent",
    "parse_traceparent",
]
