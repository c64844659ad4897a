"""The small faces of the p2p layer that the node's services are given.

`Rpc` and `Gossip` satisfy them; a service takes only the one it uses, so
a test can hand it a fake without building a swarm.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import trio

from .gossip import Topic
from .rpc import Method


class Calls(Protocol):
    """Request/response with peers, and serving our own methods."""

    def register(
        self, method: Method[Any, Any], handler: Callable[[str, Any], Awaitable[Any]]
    ) -> None: ...

    def register_stream(
        self,
        method: Method[Any, Any],
        handler: Callable[[str, Any], AsyncIterator[Any]],
    ) -> None: ...

    async def call(
        self, peer_id: str, method: Method[Any, Any], request: Any, *, timeout: float
    ) -> Any: ...

    async def call_with_retry(
        self,
        peer_id: str,
        method: Method[Any, Any],
        request: Any,
        *,
        timeout: float,
        attempts: float,
        backoff: float = ...,
        max_backoff: float = ...,
    ) -> Any: ...


class Broadcast(Protocol):
    """Publishing on a gossip topic."""

    async def publish(self, topic: Topic[Any], message: Any) -> None: ...


class Subscriptions(Protocol):
    """Following a gossip topic."""

    async def serve(
        self,
        topic: Topic[Any],
        handler: Callable[[str, Any], None],
        *,
        task_status: trio.TaskStatus[None] = ...,
    ) -> None: ...
