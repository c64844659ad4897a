"""CLI test fixtures: `live` is the real API over a fake backend (see support)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.fakes import FakeBackend

from .support import Live, serving


@pytest.fixture
def live() -> Iterator[Live]:
    with serving(FakeBackend(auto_run=True)) as api:
        yield api
