"""Small builders shared by the unit tests."""

from __future__ import annotations

from typing import Any

from bacalao.models.job import Job
from bacalao.models.node import ComputeNodeInfo, NodeInfo
from bacalao.models.resources import Resources

GiB = 1024**3


def make_job(
    engine: str = "noop", params: dict[str, Any] | None = None, **fields: Any
) -> Job:
    """A minimal valid job; `task=` entries are merged into its one task."""
    task: dict[str, Any] = {"Engine": {"Type": engine, "Params": params or {}}}
    task.update(fields.pop("task", {}))
    return Job.model_validate({"Tasks": [task], **fields})


def make_node(
    node_id: str,
    *,
    engines: tuple[str, ...] = ("docker", "wasm", "noop"),
    publishers: tuple[str, ...] = ("local", "noop"),
    storage: tuple[str, ...] = ("inline", "urlDownload"),
    cpu: float = 4.0,
    free_cpu: float | None = None,
    memory: int = 8 * GiB,
    labels: dict[str, str] | None = None,
    compute: bool = True,
    **info: Any,
) -> NodeInfo:
    capacity = Resources(CPU=cpu, Memory=memory, Disk=100 * GiB)
    available = capacity.model_copy(
        update={"CPU": cpu if free_cpu is None else free_cpu}
    )
    compute_info = ComputeNodeInfo(
        ExecutionEngines=list(engines),
        Publishers=list(publishers),
        StorageSources=list(storage),
        MaxCapacity=capacity,
        AvailableCapacity=available,
    )
    return NodeInfo(
        NodeID=node_id,
        Labels=labels or {},
        ComputeNodeInfo=compute_info if compute else None,
        **info,
    )
