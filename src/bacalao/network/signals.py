"""A small trio primitive: wake every waiter when something changed."""

from __future__ import annotations

import trio


class ChangeSignal:
    """`notify()` wakes every task blocked in `wait()`; no value, no queue."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = trio.Event()

    async def wait(self) -> None:
        await self._event.wait()
