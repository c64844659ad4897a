"""Placement: which nodes can run a job, best first, and why not."""

from __future__ import annotations

import random
from typing import Any

from bacalao.models.job import Job
from bacalao.models.node import NodeInfo
from bacalao.models.resources import Resources
from bacalao.network.nodes import NodeView
from bacalao.orchestrator.selection import (
    Requirements,
    held_inputs,
    rank_nodes,
    refusal,
)

from .support import GiB, make_job, make_node

SMALL = Resources(CPU=0.5, Memory=512 * 1000**2)


def view(info: NodeInfo, *, connected: bool = True) -> NodeView:
    return NodeView(info=info, connected=connected, seen_ago=0.0)


def need(job: Job | None = None, resources: Resources = SMALL) -> Requirements:
    return Requirements.of(job or make_job("docker", {"Image": "x"}), resources)


def job_with(**task: Any) -> Job:
    return make_job("docker", {"Image": "x"}, task=task)


def ids(nodes: list[NodeView]) -> list[str]:
    return [n.node_id for n in nodes]


def test_requirements_of_a_job() -> None:
    job = make_job(
        "Docker",
        {"Image": "x"},
        Constraints=[{"Key": "zone", "Operator": "=", "Values": ["a"]}],
        task={
            "Publisher": {"Type": "local"},
            "InputSources": [{"Source": {"Type": "inline"}, "Target": "/in"}],
            "Network": {"Type": "HTTP"},
        },
    )
    req = Requirements.of(job, SMALL)
    assert req.engine == "docker"
    assert req.publisher == "local"
    assert req.storage == frozenset({"inline"})
    assert req.network == "HTTP"
    assert [c.Key for c in req.constraints] == ["zone"]


def test_a_capable_node_is_accepted() -> None:
    assert refusal(view(make_node("n1")), need()) is None


def test_refusal_reasons() -> None:
    wasm_only = make_node("n", engines=("wasm",))
    assert refusal(view(wasm_only), need()) == "do not support engine 'docker'"
    assert refusal(view(make_node("n"), connected=False), need()) == "disconnected"
    assert (
        refusal(view(make_node("n", compute=False)), need()) == "are not compute nodes"
    )
    s3 = need(job_with(Publisher={"Type": "s3"}))
    assert refusal(view(make_node("n")), s3) == "do not support publisher 's3'"
    s3 = need(job_with(InputSources=[{"Source": {"Type": "s3"}, "Target": "/in"}]))
    assert refusal(view(make_node("n")), s3) == "do not support input source 's3'"
    big = need(resources=Resources(CPU=64))
    assert refusal(view(make_node("n", cpu=4)), big) == "are too small (cpu)"
    huge = need(resources=Resources(Memory=64 * GiB))
    assert refusal(view(make_node("n")), huge) == "are too small (memory)"


def test_size_is_judged_against_total_not_free_capacity() -> None:
    """A busy node may still queue the job; only a node too small is refused."""
    busy = make_node("n", cpu=4, free_cpu=0)
    assert refusal(view(busy), need(resources=Resources(CPU=2))) is None


def test_network_restrictions() -> None:
    http = need(job_with(Network={"Type": "HTTP"}))
    strict = make_node("n")
    assert strict.ComputeNodeInfo is not None
    strict.ComputeNodeInfo.NetworkTypes = ["None"]
    assert refusal(view(strict), http) == "do not allow network 'HTTP'"
    assert refusal(view(make_node("open")), http) is None  # no list: anything goes


def test_constraints_use_label_selectors() -> None:
    job = make_job(
        "docker",
        {"Image": "x"},
        Constraints=[
            {"Key": "zone", "Operator": "in", "Values": ["eu", "us"]},
            {"Key": "gpu", "Operator": "!"},
        ],
    )
    req = need(job)
    assert refusal(view(make_node("a", labels={"zone": "eu"})), req) is None
    assert (
        refusal(view(make_node("b", labels={"zone": "ap"})), req)
        == "do not match constraint 'zone in (eu,us)'"
    )
    assert (
        refusal(view(make_node("c", labels={"zone": "us", "gpu": "1"})), req)
        == "do not match constraint '!gpu'"
    )


def test_explanation_names_the_unmet_requirement_and_the_count() -> None:
    nodes = [
        view(make_node("a", engines=("wasm",))),
        view(make_node("b", engines=("wasm",))),
        view(make_node("c"), connected=False),
        view(make_node("orch", compute=False)),
    ]
    ranking = rank_nodes(need(), nodes)
    assert ranking.candidates == []
    assert ranking.considered == 3  # the orchestrator-only node is not counted
    assert ranking.explain() == (
        "no node can run this job (3 nodes considered: "
        "2 do not support engine 'docker'; 1 disconnected)"
    )


def test_explanation_with_one_node_is_singular() -> None:
    ranking = rank_nodes(need(), [view(make_node("a", engines=("noop",)))])
    assert "(1 node considered: 1 do not support engine 'docker')" in ranking.explain()


def test_explanation_when_no_compute_node_is_known() -> None:
    ranking = rank_nodes(need(), [view(make_node("orch", compute=False))])
    assert ranking.considered == 0
    assert ranking.explain() == "no compute nodes are known to this orchestrator yet"


def test_excluded_nodes_are_refused_as_already_tried() -> None:
    ranking = rank_nodes(
        need(), [view(make_node("a")), view(make_node("b"))], exclude={"a"}
    )
    assert ids(ranking.candidates) == ["b"]
    assert ranking.refusals == {"already tried": 1}


def test_ranking_prefers_free_capacity() -> None:
    nodes = [
        view(make_node("busy", cpu=4, free_cpu=0.5)),
        view(make_node("idle", cpu=4, free_cpu=4)),
        view(make_node("half", cpu=4, free_cpu=2)),
    ]
    ranking = rank_nodes(need(), nodes, rng=random.Random(1))
    assert ids(ranking.candidates) == ["idle", "half", "busy"]


def test_ranking_puts_nodes_with_a_queue_after_busy_ones() -> None:
    """Work already waiting on a node counts more than its busy cores."""
    queued = make_node("queued", cpu=4, free_cpu=4)
    assert queued.ComputeNodeInfo is not None
    queued.ComputeNodeInfo.EnqueuedExecutions = 1
    nodes = [view(queued), view(make_node("busy", cpu=4, free_cpu=0.5))]
    for seed in range(5):
        ranking = rank_nodes(need(), nodes, rng=random.Random(seed))
        assert ids(ranking.candidates) == ["busy", "queued"]


def test_equal_nodes_are_ordered_by_the_given_rng() -> None:
    nodes = [view(make_node(f"n{i}")) for i in range(6)]
    orders = {
        tuple(ids(rank_nodes(need(), nodes, rng=random.Random(s)).candidates))
        for s in range(10)
    }
    assert len(orders) > 1  # spreads load instead of always picking the first
    first = ids(rank_nodes(need(), nodes, rng=random.Random(7)).candidates)
    assert first == ids(rank_nodes(need(), nodes, rng=random.Random(7)).candidates)


CID_A = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"
CID_B = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"


def ipfs_inputs(*cids: str) -> Job:
    sources = [
        {"Source": {"Type": "ipfs", "Params": {"CID": c}}, "Target": f"/in/{i}"}
        for i, c in enumerate(cids)
    ]
    return job_with(InputSources=sources)


def test_nodes_holding_the_inputs_rank_first_even_when_busier() -> None:
    idle = view(make_node("idle", storage=("ipfs",)))
    one = view(make_node("one", storage=("ipfs",), free_cpu=1.0, HeldCIDs=[CID_A]))
    both = view(
        make_node("both", storage=("ipfs",), free_cpu=0.5, HeldCIDs=[CID_B, CID_A])
    )
    ranking = rank_nodes(need(ipfs_inputs(CID_A, CID_B)), [idle, one, both])
    assert ids(ranking.candidates) == ["both", "one", "idle"]
    assert held_inputs(both, need(ipfs_inputs(CID_A, CID_B))) == sorted([CID_A, CID_B])


def test_holdings_do_not_matter_to_jobs_without_ipfs_inputs() -> None:
    idle = view(make_node("idle"))
    holder = view(make_node("holder", free_cpu=0.5, HeldCIDs=[CID_A]))
    assert ids(rank_nodes(need(), [holder, idle]).candidates) == ["idle", "holder"]
