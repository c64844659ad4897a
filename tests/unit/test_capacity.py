"""Resource accounting on a compute node: hold, queue FIFO, release."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bacalao.compute.capacity import Capacity
from bacalao.models.resources import Resources

NODE = Resources(CPU=4, Memory=4000)


def cpu(n: float) -> Resources:
    return Resources(CPU=n, Memory=100)


def test_holds_while_there_is_room() -> None:
    capacity = Capacity(NODE, max_queued=2)
    assert capacity.hold_or_queue("a", cpu(3))
    assert capacity.is_held("a")
    assert capacity.available() == Resources(CPU=1, Memory=3900)
    snap = capacity.snapshot()
    assert (snap.running, snap.enqueued, snap.queue_room) == (1, 0, 2)


def test_queues_when_full() -> None:
    capacity = Capacity(NODE, max_queued=2)
    capacity.hold_or_queue("a", cpu(3))
    assert not capacity.hold_or_queue("b", cpu(2))
    assert not capacity.is_held("b")
    snap = capacity.snapshot()
    assert (snap.running, snap.enqueued, snap.queue_room) == (1, 1, 1)
    assert snap.queued == cpu(2)


def test_queue_is_first_in_first_out() -> None:
    capacity = Capacity(NODE, max_queued=5)
    capacity.hold_or_queue("big", cpu(4))
    capacity.hold_or_queue("q1", cpu(3))
    # fits in nothing now, and must not overtake q1 later either
    assert not capacity.hold_or_queue("q2", cpu(1))
    assert capacity.release("big") == ["q1", "q2"]
    assert capacity.is_held("q1")
    assert capacity.is_held("q2")


def test_small_job_does_not_overtake_a_queued_big_one() -> None:
    capacity = Capacity(NODE, max_queued=5)
    capacity.hold_or_queue("a", cpu(2))
    capacity.hold_or_queue("b", cpu(1))
    capacity.hold_or_queue("big", cpu(4))  # queued: needs the whole node
    assert not capacity.hold_or_queue("small", cpu(1))  # would fit, but waits
    assert capacity.release("a") == []  # big still does not fit
    assert capacity.release("b") == ["big"]
    assert capacity.release("big") == ["small"]


def test_release_starts_as_many_queued_as_fit_in_order() -> None:
    capacity = Capacity(NODE, max_queued=5)
    capacity.hold_or_queue("all", cpu(4))
    for name in ("q1", "q2", "q3"):
        capacity.hold_or_queue(name, cpu(2))
    assert capacity.release("all") == ["q1", "q2"]
    assert capacity.release("q1") == ["q3"]


def test_releasing_a_queued_execution_removes_it() -> None:
    capacity = Capacity(NODE, max_queued=5)
    capacity.hold_or_queue("a", cpu(4))
    capacity.hold_or_queue("q", cpu(1))
    assert capacity.release("q") == []
    assert capacity.snapshot().enqueued == 0
    assert capacity.release("a") == []


def test_holding_twice_is_idempotent() -> None:
    capacity = Capacity(NODE, max_queued=2)
    assert capacity.hold_or_queue("a", cpu(1))
    assert capacity.hold_or_queue("a", cpu(1))
    assert capacity.available().CPU == 3
    capacity.hold_or_queue("b", cpu(3))
    assert not capacity.hold_or_queue("q", cpu(1))
    assert not capacity.hold_or_queue("q", cpu(1))
    assert capacity.snapshot().enqueued == 1


def test_releasing_unknown_executions_is_harmless() -> None:
    capacity = Capacity(NODE, max_queued=1)
    assert capacity.release("ghost") == []
    assert capacity.available() == NODE


@given(
    st.lists(
        st.tuples(st.sampled_from("abcdefgh"), st.floats(0.1, 4.0), st.booleans()),
        max_size=40,
    )
)
def test_nothing_leaks(ops: list[tuple[str, float, bool]]) -> None:
    """Whatever is held and released, releasing everything frees the node."""
    capacity = Capacity(NODE, max_queued=100)
    known: dict[str, float] = {}
    for name, cores, release in ops:
        if release:
            capacity.release(name)
            known.pop(name, None)
        else:
            capacity.hold_or_queue(name, cpu(cores))
            known.setdefault(name, cores)
        snap = capacity.snapshot()
        assert snap.running + snap.enqueued == len(known)
        held = sum(c for n, c in known.items() if capacity.is_held(n))
        assert held <= NODE.CPU + 1e-9
    for name in sorted(known):
        capacity.release(name)
    snap = capacity.snapshot()
    assert capacity.available() == NODE
    assert (snap.running, snap.enqueued, snap.queued) == (0, 0, Resources())
