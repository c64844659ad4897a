"""Fixtures for API tests: a fake backend and the app in front of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import pytest

from bacalao.api.app import ApiApp

from .asgi import Reply, call
from .fakes import FakeBackend

Api = Callable[..., Awaitable[Reply]]


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def app(backend: FakeBackend) -> ApiApp:
    return ApiApp(backend)


@pytest.fixture
def api(app: ApiApp) -> Api:
    """`await api("GET", "/api/v1/...", query=..., json=...)` -> Reply."""
    return partial(call, app)
