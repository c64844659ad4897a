"""A real browser for the dashboard tests: Debian's chromium driven by
Playwright (no browser download: scripts/setup-browser.sh installs it).

`page` is a fresh tab whose console errors fail the test; `shot(name)`
saves a screenshot of it to .artifacts/screenshots/ (ignored by git);
`stack` is a 2-node devstack in a thread of its own; `wasm_module` the
hello-world module of examples/wasm.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from tests.cli.support import running_devstack
from tests.needs import missing

from .shots import ROOT, screenshot

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 30_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        missing(f"no {CHROMIUM}: run scripts/setup-browser.sh (as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A tab at desktop width; a JavaScript error in it fails the test."""
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def shot(page: Any) -> Callable[..., Path]:
    """`shot(name, full_page=False)`: a screenshot of the test's tab."""
    return lambda name, **options: screenshot(page, name, **options)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[list[Any]]:
    with running_devstack(tmp_path / "nodes", 2) as handles:
        yield handles


@pytest.fixture
def wasm_module(tmp_path: Path) -> Path:
    module = tmp_path / "hello.wasm"
    text = (ROOT / "examples" / "wasm" / "hello.wat").read_text()
    module.write_bytes(wasmtime.wat2wasm(text))
    return module
