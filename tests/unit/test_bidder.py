"""Whether a compute node bids, and why not."""

from __future__ import annotations

from typing import Any

import pytest

from bacalao.compute.bidder import BidDecision, decide
from bacalao.compute.capacity import Capacity, CapacitySnapshot
from bacalao.matching import Offer
from bacalao.models.job import Job
from bacalao.models.resources import Resources

from .support import GiB, make_job

OFFER = Offer(
    engines=frozenset({"docker", "noop"}),
    storage=frozenset({"inline", "urlDownload"}),
    publishers=frozenset({"local"}),
    networks=frozenset({"None", "Default"}),
    labels={"zone": "eu"},
)
NODE = Resources(CPU=4, Memory=8 * GiB, Disk=100 * GiB)
ONE_CPU = Resources(CPU=1, Memory=GiB)


def snapshot(
    *held: Resources, queued: int = 0, max_queued: int = 2
) -> CapacitySnapshot:
    capacity = Capacity(NODE, max_queued=max_queued)
    for i, amount in enumerate(held):
        capacity.hold_or_queue(f"held-{i}", amount)
    for i in range(queued):
        capacity.hold_or_queue(f"queued-{i}", NODE)
    return capacity.snapshot()


def job(engine: str = "docker", **task: Any) -> Job:
    return make_job(engine, {"Image": "x"} if engine == "docker" else {}, task=task)


def bid(
    j: Job | None = None,
    need: Resources = ONE_CPU,
    capacity: CapacitySnapshot | None = None,
    engine_refusal: str | None = None,
) -> BidDecision:
    return decide(j or job(), need, OFFER, capacity or snapshot(), engine_refusal)


def test_accepts_what_it_can_run_now() -> None:
    assert bid() == BidDecision(True, "")


def test_a_stopping_node_bids_on_nothing_and_runs_what_it_holds() -> None:
    capacity = Capacity(NODE, max_queued=2)
    capacity.hold_or_queue("running", ONE_CPU)
    capacity.close()
    assert bid(capacity=capacity.snapshot()) == BidDecision.no(
        "this node is shutting down"
    )
    assert capacity.busy()
    capacity.release("running")
    assert not capacity.busy()


def test_engine_type_is_matched_ignoring_case() -> None:
    assert bid(make_job("Docker", {"Image": "x"})).accept


@pytest.mark.parametrize(
    ("decision_job", "reason"),
    [
        (job("wasm"), "this node does not support engine 'wasm'"),
        (
            job(InputSources=[{"Source": {"Type": "s3"}, "Target": "/in"}]),
            "this node does not support input source 's3'",
        ),
        (
            job(Publisher={"Type": "ipfs"}),
            "this node does not support publisher 'ipfs'",
        ),
        (job(Network={"Type": "Host"}), "this node does not allow network 'Host'"),
    ],
)
def test_refuses_what_it_does_not_offer(decision_job: Job, reason: str) -> None:
    assert bid(decision_job) == BidDecision(False, reason)


def test_refuses_a_job_whose_constraints_its_labels_do_not_meet() -> None:
    """The same rule the requesters rank by: a node never bids on a job
    meant for other nodes, even if a requester asks it."""
    us_only = make_job(
        "docker",
        {"Image": "x"},
        Constraints=[{"Key": "zone", "Operator": "in", "Values": ["us"]}],
    )
    assert bid(us_only) == BidDecision(
        False, "this node does not match constraint 'zone in (us)'"
    )
    eu = make_job(
        "docker",
        {"Image": "x"},
        Constraints=[{"Key": "zone", "Operator": "=", "Values": ["eu"]}],
    )
    assert bid(eu).accept


def test_engine_refusal_is_passed_on() -> None:
    decision = bid(engine_refusal="image ubuntu:nope not found")
    assert decision == BidDecision(False, "image ubuntu:nope not found")


def test_refuses_jobs_bigger_than_the_node() -> None:
    decision = bid(need=Resources(CPU=8))
    assert not decision.accept
    assert decision.reason == "job needs more than this node has: cpu (asks 8, free 4)"
    assert not decision.reason.startswith("busy:")


def test_too_big_is_judged_against_total_even_when_busy() -> None:
    decision = bid(need=Resources(Memory=16 * GiB), capacity=snapshot(NODE, queued=2))
    assert decision.reason.startswith("job needs more than this node has: memory")


def test_accepts_into_the_queue_when_full_but_queue_has_room() -> None:
    assert bid(capacity=snapshot(NODE, max_queued=1)).accept


def test_does_not_jump_the_queue_even_if_it_fits() -> None:
    """With work queued, a new job waits its turn: it is accepted into the queue
    only while there is room, never started ahead."""
    full_queue = snapshot(Resources(CPU=1), queued=2, max_queued=2)
    assert ONE_CPU.fits_in(full_queue.available)
    decision = bid(capacity=full_queue)
    assert not decision.accept
    assert decision.reason.startswith("busy:")


def test_busy_refusal_says_how_busy() -> None:
    decision = bid(capacity=snapshot(NODE, queued=0, max_queued=0))
    assert decision == BidDecision(
        False, "busy: 1 running, 0 queued (free cpu 0, memory 0 B)"
    )
