"""SerialWorker: blocking calls one at a time, from trio or from threads."""

from __future__ import annotations

import threading

import pytest
import trio

from bacalao.threads import SerialWorker

WAIT = 10


async def test_calls_from_trio_and_from_threads_never_overlap() -> None:
    worker = SerialWorker()
    inside = 0
    most = 0
    lock = threading.Lock()

    def work(_: int) -> None:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        threading.Event().wait(0.005)
        with lock:
            inside -= 1

    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery:
            for n in range(8):
                nursery.start_soon(worker.run, work, n)
                nursery.start_soon(
                    trio.to_thread.run_sync, worker.run_blocking, work, n
                )
    assert most == 1


async def test_run_returns_the_value_and_raises_the_error() -> None:
    worker = SerialWorker()
    assert await worker.run(sum, [1, 2, 3]) == 6
    with pytest.raises(ValueError, match="nope"):
        await worker.run(int, "nope")
