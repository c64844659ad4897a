"""Placement: which nodes can run a job, best first, and why the rest cannot.

Whether one node can run a job at all is `matching.mismatch`, the rule the
compute nodes bid by; this module adds liveness, approval and the order.

Pure functions over frozen `NodeView` snapshots: no I/O, no clock. The
scheduler calls `rank_nodes`; when it returns no candidates,
`Ranking.explain()` says which requirement no node met and how many nodes
were considered, so a user never sees a bare "not enough nodes".
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..matching import Offer, Requirements, mismatch
from ..network.nodes import NodeView


def held_inputs(node: NodeView, need: Requirements) -> list[str]:
    """The job's IPFS inputs `node` says it holds (data locality)."""
    return sorted(need.cids.intersection(node.info.HeldCIDs))


@dataclass(frozen=True)
class Ranking:
    """Candidates best first, and how many nodes were refused for each reason."""

    candidates: list[NodeView]
    refusals: Counter[str] = field(default_factory=Counter)
    considered: int = 0

    def explain(self) -> str:
        if not self.considered:
            return "no compute nodes are known to this orchestrator yet"
        parts = [f"{n} {reason}" for reason, n in self.refusals.most_common()]
        plural = "s" if self.considered != 1 else ""
        return (
            f"no node can run this job ({self.considered} node{plural} considered: "
            + "; ".join(parts)
            + ")"
        )


def refusal(node: NodeView, need: Requirements) -> str | None:
    """Why `node` cannot run a job with `need` now, or None if it can."""
    offer = Offer.of(node.info)
    if offer is None:
        return "are not compute nodes"
    if not node.approved:
        return "are not approved (bacalao node approve ID)"
    if not node.connected:
        return "disconnected"
    found = mismatch(need, offer)
    return found.of_nodes if found else None


def rank_nodes(
    need: Requirements,
    nodes: Sequence[NodeView],
    *,
    exclude: Iterable[str] = (),
    rng: random.Random | None = None,
) -> Ranking:
    """Nodes able to run a job with `need`, most free capacity first."""
    skip = set(exclude)
    refusals: Counter[str] = Counter()
    fit: list[NodeView] = []
    considered = 0
    for node in nodes:
        if node.info.ComputeNodeInfo is None:
            continue
        considered += 1
        if node.node_id in skip:
            refusals["already tried"] += 1
            continue
        reason = refusal(node, need)
        if reason is None:
            fit.append(node)
        else:
            refusals[reason] += 1
    jitter = rng or random
    # data locality first: a node that holds more of the inputs saves the
    # transfer; among equals, the least loaded
    fit.sort(key=lambda n: (-len(held_inputs(n, need)), _load(n), jitter.random()))
    return Ranking(fit, refusals, considered)


def _load(node: NodeView) -> float:
    """Lower is better: busy fraction plus queued work."""
    compute = node.info.ComputeNodeInfo
    assert compute is not None
    cap = compute.MaxCapacity.CPU or 1.0
    used = 1.0 - min(compute.AvailableCapacity.CPU / cap, 1.0)
    return used + compute.EnqueuedExecutions + 0.01 * compute.RunningExecutions
