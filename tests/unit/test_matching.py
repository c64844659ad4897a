"""One rule for "can this node run this job": ranking and bidding agree."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bacalao.compute.bidder import decide
from bacalao.compute.capacity import Capacity
from bacalao.matching import Offer
from bacalao.models.resources import Resources
from bacalao.network.nodes import NodeView
from bacalao.orchestrator.scheduler import requirements
from bacalao.orchestrator.selection import refusal

from .support import GiB, make_job, make_node

ENGINES = ("docker", "wasm", "noop")
PUBLISHERS = ("ipfs", "local", "s3")
SOURCES = ("inline", "urlDownload", "s3", "ipfs")
ZONES = ("eu", "us")


def subsets(items: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(items), unique=True).map(tuple)


@st.composite
def jobs(draw: st.DrawFn) -> Any:
    engine = draw(st.sampled_from(ENGINES))
    params = {"Image": "x"} if engine == "docker" else {}
    if engine == "wasm":
        params = {"EntryModule": {"Source": {"Type": "inline", "Params": {}}}}
    sources = draw(subsets(SOURCES))
    task = {
        "Publisher": {"Type": draw(st.sampled_from(PUBLISHERS))},
        "InputSources": [
            {"Source": {"Type": t}, "Target": f"/in/{i}"} for i, t in enumerate(sources)
        ],
        "Resources": {"CPU": str(draw(st.sampled_from([0.5, 2, 8])))},
        "Network": {"Type": draw(st.sampled_from(["None", "Host"]))},
    }
    zone = draw(st.sampled_from((None, *ZONES)))
    constraints = [{"Key": "zone", "Operator": "=", "Values": [zone]}] if zone else []
    return make_job(engine, params, task=task, Constraints=constraints)


@given(
    job=jobs(),
    engines=subsets(ENGINES),
    publishers=subsets(PUBLISHERS),
    storage=subsets(SOURCES),
    zone=st.sampled_from(ZONES),
    networks=st.sampled_from([("None",), ("None", "Host")]),
)
def test_a_node_is_ranked_for_a_job_exactly_when_it_would_bid_on_it(
    job: Any,
    engines: tuple[str, ...],
    publishers: tuple[str, ...],
    storage: tuple[str, ...],
    zone: str,
    networks: tuple[str, ...],
) -> None:
    info = make_node(
        "n-a",
        engines=engines,
        publishers=publishers,
        storage=storage,
        cpu=4.0,
        labels={"zone": zone},
    )
    assert info.ComputeNodeInfo is not None
    info.ComputeNodeInfo.NetworkTypes = list(networks)
    ranked = refusal(NodeView(info, connected=True, seen_ago=0.0), requirements(job))
    offer = Offer.of(info)
    assert offer is not None
    idle = Capacity(Resources(CPU=4.0, Memory=8 * GiB, Disk=100 * GiB), max_queued=1)
    need = job.task.Resources.parsed(Resources())
    bid = decide(job, need, offer, idle.snapshot(), None)
    assert (ranked is None) == bid.accept, (ranked, bid.reason)
