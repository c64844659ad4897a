"""Whether a node can run a job at all: the one rule, wherever it is asked.

A requester ranking nodes (orchestrator/selection.py), a compute node
deciding its bid (compute/bidder.py) and a compute node answering an open
call all ask the same question through `mismatch(need, offer)`: an engine,
input sources and a publisher the node offers, a network mode it allows,
labels that meet the job's constraints, and resources that fit in the node
at all. Whether there is room *now* is the bidder's own business.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .models.job import Job, LabelSelectorRequirement
from .models.node import NodeInfo
from .models.resources import Resources
from .models.selectors import format_requirement, requirement_matches
from .storage.base import lower_params


@dataclass(frozen=True)
class Requirements:
    """What a node must offer to run a job's task."""

    engine: str
    publisher: str
    storage: frozenset[str]
    network: str
    resources: Resources
    constraints: tuple[LabelSelectorRequirement, ...]
    cids: frozenset[str] = frozenset()  # IPFS inputs: holders rank first

    @classmethod
    def of(cls, job: Job, resources: Resources) -> Requirements:
        task = job.task
        return cls(
            engine=task.Engine.Type.lower(),
            publisher=task.Publisher.Type,
            storage=frozenset(i.Source.Type for i in task.InputSources),
            network=task.Network.Type,
            resources=resources,
            constraints=tuple(job.Constraints),
            cids=frozenset(_input_cids(job)),
        )


def _input_cids(job: Job) -> list[str]:
    cids = []
    for source in job.task.InputSources:
        cid = lower_params(source.Source.Params).get("cid")
        if source.Source.Type == "ipfs" and isinstance(cid, str):
            cids.append(cid)
    return cids


@dataclass(frozen=True)
class Offer:
    """What a compute node offers, as its node info advertises it."""

    engines: frozenset[str]
    storage: frozenset[str]
    publishers: frozenset[str]
    networks: frozenset[str] = frozenset()  # empty: any network mode
    labels: Mapping[str, str] = field(default_factory=dict)
    capacity: Resources | None = None  # the whole node; None: not checked

    @classmethod
    def of(cls, info: NodeInfo) -> Offer | None:
        """What `info` offers; None for a node that runs no jobs."""
        compute = info.ComputeNodeInfo
        if compute is None:
            return None
        return cls(
            engines=frozenset(compute.ExecutionEngines),
            storage=frozenset(compute.StorageSources),
            publishers=frozenset(compute.Publishers),
            networks=frozenset(compute.NetworkTypes),
            labels=info.Labels,
            capacity=compute.MaxCapacity,
        )


@dataclass(frozen=True)
class Mismatch:
    """Why a node cannot run a job, said of many nodes or of this one."""

    of_nodes: str  # "do not support engine 'docker'": counted over nodes
    of_this_node: str  # "this node does not support engine 'docker'"


def mismatch(need: Requirements, offer: Offer) -> Mismatch | None:
    """Why a node offering `offer` can never run a job with `need`, if so."""
    if need.engine not in offer.engines:
        return _unsupported("engine", need.engine)
    if need.publisher and need.publisher not in offer.publishers:
        return _unsupported("publisher", need.publisher)
    missing = sorted(need.storage - offer.storage)
    if missing:
        return _unsupported("input source", missing[0])
    if offer.networks and need.network not in offer.networks:
        return Mismatch(
            f"do not allow network {need.network!r}",
            f"this node does not allow network {need.network!r}",
        )
    for constraint in need.constraints:
        if not requirement_matches(constraint, dict(offer.labels)):
            text = format_requirement(constraint)
            return Mismatch(
                f"do not match constraint {text!r}",
                f"this node does not match constraint {text!r}",
            )
    short = need.resources.shortfall(offer.capacity) if offer.capacity else []
    if short:
        return Mismatch(
            f"are too small ({short[0].split(' (')[0]})",
            f"job needs more than this node has: {short[0]}",
        )
    return None


def _unsupported(what: str, name: str) -> Mismatch:
    return Mismatch(
        f"do not support {what} {name!r}", f"this node does not support {what} {name!r}"
    )
