"""The dashboard behind an API token, by keyboard, and at phone width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.support import run_cli, running_devstack

from .shots import screenshot

TOKEN = "dashboard-token-0123456789"
PHONE = {"width": 390, "height": 844}


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_behind_a_token_the_page_asks_once_and_everything_works(
    page: Any, tmp_path: Path, wasm_module: Path
) -> None:
    with running_devstack(tmp_path / "guarded", 1, api_tokens=[TOKEN]) as nodes:
        node = nodes[0]
        page.goto(f"{node.api_url}/#/jobs")
        expect(page.get_by_role("dialog")).to_be_visible()
        page.get_by_label("API token").fill(TOKEN)
        page.get_by_role("button", name="Use token").click()
        expect(page.get_by_role("dialog")).to_be_hidden()
        expect(page.locator("#live")).to_have_text("live")  # the event stream

        args = ["--api-port", str(node.api_port), "--api-token", TOKEN]
        ran = run_cli(*args, "wasm", "run", "--id-only", str(wasm_module))
        assert ran.exit_code == 0, ran.output
        job_id = ran.output.strip()
        row = page.locator(f'tr[data-job-id="{job_id}"]')
        expect(row).to_have_attribute("data-state", "Completed")
        row.get_by_role("link").click()
        expect(page.locator("pre.logs")).to_contain_text("hello from wasm")  # socket
        expect(page.get_by_role("dialog")).to_be_hidden()
        stored = page.evaluate("sessionStorage.getItem('bacalao.apiToken')")
        assert stored == TOKEN


def test_the_views_are_reachable_by_keyboard(page: Any, stack: list[Any]) -> None:
    page.goto(f"{stack[0].api_url}/")
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    focused = []
    for _ in range(4):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert focused == ["Skip to content", "bacalao", "Jobs", "Nodes"]
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Nodes")).to_be_visible()
    current = page.get_by_role("link", name="Nodes")
    expect(current).to_have_attribute("aria-current", "page")


def test_at_phone_width_nothing_scrolls_sideways(
    browser: Any, stack: list[Any]
) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    phone = context.new_page()
    try:
        for view in ("jobs", "nodes", "submit"):
            phone.goto(f"{stack[0].api_url}/#/{view}")
            expect(phone.locator("#view h2")).to_be_visible()
            phone.wait_for_function("document.fonts.status === 'loaded'")
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{view} is {overflow}px wider than the phone"
        phone.goto(f"{stack[0].api_url}/#/nodes")
        expect(phone.locator("svg.swarm line")).to_have_count(1)
        screenshot(phone, "nodes-phone")
    finally:
        context.close()
