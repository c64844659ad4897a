"""The asyncio thread trio awaits aioboto3 on: results, errors, cancellation."""

from __future__ import annotations

import asyncio
import threading

import pytest
import trio

from bacalao.s3.loop import AsyncioThread, LoopClosed


async def test_results_errors_and_the_thread():
    loop = AsyncioThread()
    loop.start()
    try:

        async def where() -> str:
            await asyncio.sleep(0)
            return threading.current_thread().name

        assert await loop.run(where) == "bacalao-asyncio"

        async def fail() -> None:
            raise KeyError("boom")

        with pytest.raises(KeyError, match="boom"):
            await loop.run(fail)
    finally:
        await trio.to_thread.run_sync(loop.close)


async def test_a_trio_cancel_cancels_the_asyncio_task_and_waits_for_it():
    loop = AsyncioThread()
    loop.start()
    unwound = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.05)  # cleanup that takes a moment
            unwound.set()

    try:
        with trio.move_on_after(0.2) as scope:
            await loop.run(forever)
        assert scope.cancelled_caught
        assert unwound.is_set(), "run returned before the task unwound"
    finally:
        await trio.to_thread.run_sync(loop.close)


async def test_the_loop_closing_under_a_call():
    loop = AsyncioThread()
    loop.start()
    started = trio.Event()
    token = trio.lowlevel.current_trio_token()

    async def forever() -> None:
        token.run_sync_soon(started.set)
        await asyncio.sleep(3600)

    async def close_when_started() -> None:
        await started.wait()
        await trio.to_thread.run_sync(loop.close)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(close_when_started)
            with pytest.raises(LoopClosed):
                await loop.run(forever)
    with pytest.raises(LoopClosed):
        await loop.run(forever)
