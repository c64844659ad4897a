"""Execution updates go to a requester in batches that fit one RPC frame."""

from __future__ import annotations

import contextlib

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bacalao.compute.updates import (
    BATCH_BYTES,
    UpdateSender,
    _chunks,
    _latest_per_execution,
)
from bacalao.models.execution import RunCommandResult
from bacalao.models.states import ExecutionStateType
from bacalao.models.wire import ExecutionUpdate, ExecutionUpdates
from bacalao.p2p.codec import MAX_FRAME_BYTES


def update(
    execution: str, state: ExecutionStateType, stdout: str = ""
) -> ExecutionUpdate:
    return ExecutionUpdate(
        ExecutionID=execution,
        JobID="j-" + execution,
        NodeID="n",
        State=state,
        RunOutput=RunCommandResult(Stdout=stdout) if stdout else None,
    )


def test_an_execution_is_reported_once_in_a_batch_with_its_latest_state() -> None:
    queued = [
        (1, update("a", ExecutionStateType.Running)),
        (2, update("b", ExecutionStateType.Running)),
        (3, update("a", ExecutionStateType.Completed)),
    ]
    latest = _latest_per_execution(queued)
    assert [(seqs, u.ExecutionID, u.State) for seqs, u in latest] == [
        ([2], "b", ExecutionStateType.Running),
        ([1, 3], "a", ExecutionStateType.Completed),
    ]


def test_many_small_updates_share_calls_of_at_most_the_limit() -> None:
    many = [([i], update(f"e{i}", ExecutionStateType.Completed)) for i in range(600)]
    chunks = _chunks(many)
    assert [len(c) for c in chunks] == [256, 256, 88]
    assert [seqs for c in chunks for seqs, _ in c] == [[i] for i in range(600)]


def test_batches_of_big_outputs_fit_one_frame_even_when_fully_escaped() -> None:
    control = "\x01" * 64 * 1024  # JSON writes each as \\u0001: 6 bytes
    big = [
        ([i], update(f"e{i}", ExecutionStateType.Completed, control)) for i in range(40)
    ]
    chunks = _chunks(big)
    assert len(chunks) > 1
    for chunk in chunks:
        body = ExecutionUpdates(Updates=[u for _, u in chunk]).model_dump_json()
        assert len(body.encode()) <= BATCH_BYTES < MAX_FRAME_BYTES


updates = st.builds(
    update,
    st.text(min_size=1, max_size=20),
    st.sampled_from(list(ExecutionStateType)),
    st.text(max_size=200),
)


@given(st.lists(updates, min_size=1, max_size=20))
def test_a_batch_survives_the_wire(batch: list[ExecutionUpdate]) -> None:
    sent = ExecutionUpdates(Updates=batch)
    assert ExecutionUpdates.model_validate_json(sent.model_dump_json()) == sent


@given(st.binary(max_size=300))
def test_bytes_off_the_wire_parse_or_fail_with_a_validation_error(raw: bytes) -> None:
    with contextlib.suppress(ValidationError):
        ExecutionUpdates.model_validate_json(raw)


def test_an_empty_or_oversized_batch_is_refused() -> None:
    one = update("a", ExecutionStateType.Completed).model_dump()
    for size in (0, ExecutionUpdates.LIMIT + 1):
        with pytest.raises(ValidationError):
            ExecutionUpdates.model_validate({"Updates": [one] * size})


class SlowOutbox:
    """An outbox whose write finishes only after the node began stopping."""

    def __init__(self) -> None:
        self.written: list[ExecutionUpdate] = []
        self.release = trio.Event()

    async def pending(self) -> list[tuple[int, str, ExecutionUpdate]]:
        return []

    async def enqueue(self, requester: str, update: ExecutionUpdate) -> int:
        with trio.CancelScope(shield=True):  # like a write in a worker thread
            await self.release.wait()
        self.written.append(update)
        return len(self.written)

    async def delivered(self, seqs: list[int]) -> None:
        return None


async def test_update_made_while_the_node_stops_stays_in_the_outbox() -> None:
    outbox = SlowOutbox()
    sender = UpdateSender(outbox, rpc=None)  # type: ignore[arg-type]
    async with trio.open_nursery() as nursery:
        await nursery.start(sender.run)
        nursery.start_soon(
            sender.send, "requester", update("a", ExecutionStateType.Running)
        )
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()  # the node stops; the write is under way
        with trio.CancelScope(shield=True):
            await trio.testing.wait_all_tasks_blocked()  # the sender has stopped
        outbox.release.set()
    assert [u.ExecutionID for u in outbox.written] == ["a"]
