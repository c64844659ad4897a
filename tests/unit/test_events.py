"""The event hub: fan-out, bounded buffers, node changes; the client's parser."""

from __future__ import annotations

import trio
from hypothesis import given
from hypothesis import strategies as st

from bacalao.client.events import EventParser, ServerEvent
from bacalao.events import Event, EventHub, collapsed
from bacalao.models.job import Job
from bacalao.models.node import NodeState
from bacalao.network.signals import ChangeSignal
from tests.api.fakes import make_node


def job(job_id: str, revision: int) -> Job:
    return Job.model_validate(
        {
            "ID": job_id,
            "Revision": revision,
            "Type": "batch",
            "Tasks": [{"Name": "t", "Engine": {"Type": "noop"}}],
        }
    )


def pending(hub: EventHub, job_id: str = "") -> list[tuple[str, int]]:
    subscription = hub.subscribe(job_id)
    return [(e.key, e.revision) for e in subscription._pending]


async def test_a_slow_reader_keeps_only_the_newest_state_of_each_job() -> None:
    hub = EventHub(limit=8)
    with hub.subscribe() as slow:
        for revision in range(1, 101):
            for job_id in ("j-a", "j-b", "j-c"):
                hub.job_changed(job(job_id, revision), [])
        received = []
        with trio.move_on_after(0.01):
            while True:
                received.append(await slow.receive())
    assert len(received) <= 8
    newest = {e.key: e.revision for e in received}
    assert newest == {"j-a": 100, "j-b": 100, "j-c": 100}
    assert not slow.lagged


async def test_a_reader_behind_on_more_jobs_than_it_may_hold_is_dropped() -> None:
    hub = EventHub(limit=4)
    with hub.subscribe() as slow, hub.subscribe() as fast:
        for n in range(5):
            hub.job_changed(job(f"j-{n}", 1), [])
            if n < 4:
                assert (await fast.receive()).key == f"j-{n}"
        assert slow.lagged
        assert (await fast.receive()).key == "j-4"
        try:
            await slow.receive()
        except trio.EndOfChannel:
            pass
        else:  # pragma: no cover
            raise AssertionError("a dropped reader gets no more events")


def test_collapsing_keeps_the_order_of_the_newest_events() -> None:
    events = [Event("job", k, r, "{}") for k, r in [("a", 1), ("b", 1), ("a", 2)]]
    assert [(e.key, e.revision) for e in collapsed(events)] == [("b", 1), ("a", 2)]


async def test_nobody_listening_costs_no_encoding() -> None:
    hub = EventHub()
    broken = job("j-x", 1)
    broken.__dict__["ID"] = object()  # would fail to encode
    hub.job_changed(broken, [])


async def test_node_changes_are_events_and_heartbeats_are_not(
    nursery: trio.Nursery,
) -> None:
    hub = EventHub()
    changed = ChangeSignal()
    table: list[NodeState] = [make_node("n-1")]
    await nursery.start(hub.follow_nodes, changed, lambda: list(table))
    with hub.subscribe() as subscription:
        table.append(make_node("n-2"))
        table[0] = table[0].model_copy(update={"Connection": "CONNECTED"})
        changed.notify()
        event = await subscription.receive()
        assert (event.kind, event.key) == ("node", "n-2")
        assert b"event: node\ndata: {" in event.frame()
        table[0] = table[0].model_copy(update={"Connection": "DISCONNECTED"})
        changed.notify()
        assert (await subscription.receive()).key == "n-1"
    nursery.cancel_scope.cancel()


async def test_the_hub_closes_every_stream_when_it_stops(nursery: trio.Nursery) -> None:
    hub = EventHub()
    await nursery.start(hub.follow_nodes, ChangeSignal(), list)
    with hub.subscribe("j-1") as subscription:
        nursery.cancel_scope.cancel()
        with trio.fail_after(1):
            try:
                await subscription.receive()
            except trio.EndOfChannel:
                return
    raise AssertionError("the stream did not end")  # pragma: no cover


def parse(text: str) -> list[ServerEvent]:
    parser = EventParser()
    found = [parser.feed(line + "\n") for line in text.split("\n")]
    return [event for event in found if event is not None]


def test_the_parser_reads_what_the_node_writes() -> None:
    frame = Event("job", "j-1", 3, '{"Job":{"ID":"j-1"}}').frame()
    text = ": keepalive\n\n" + frame.decode() + "data: a\ndata:b\n\n"
    assert parse(text) == [
        ServerEvent("job", "3", '{"Job":{"ID":"j-1"}}'),
        ServerEvent("message", "3", "a\nb"),
    ]


_line = st.text(st.characters(exclude_characters="\r\n"), max_size=30)


@given(st.lists(st.tuples(st.sampled_from(["job", "node"]), _line), max_size=8))
def test_any_data_survives_the_round_trip(items: list[tuple[str, str]]) -> None:
    text = "".join(f"event: {kind}\ndata: {data}\n\n" for kind, data in items)
    got = parse(text)
    assert [(e.event, e.data) for e in got] == items


@given(st.text(max_size=200))
def test_any_input_parses_without_error(text: str) -> None:
    for event in parse(text):
        assert event.event
