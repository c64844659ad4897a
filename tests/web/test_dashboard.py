"""The dashboard in a real browser, against real nodes: what a user sees."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bacalao.ports import free_port
from tests.cli.support import run_cli
from tests.needs import TEST_IMAGE, need_docker_image

JOBS = "/api/v1/orchestrator/jobs"


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def cli(node: Any, *args: str) -> str:
    result = run_cli("--api-port", str(node.api_port), *args)
    assert result.exit_code == 0, result.output
    return result.output


def api_error(node: Any, spec: dict[str, Any]) -> str:
    """The message the API answers `spec` with (it must refuse it)."""
    request = urllib.request.Request(
        node.api_url + JOBS, data=json.dumps(spec).encode(), method="PUT"
    )
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as refused:
        message: str = json.loads(refused.read())["Message"]
        return message
    raise AssertionError("the API accepted a bad spec")


@contextmanager
def serving_node(repo: Path, peer: str, label: str) -> Iterator[None]:
    """`bacalao serve` in a process of its own, joined to `peer`."""
    bacalao = Path(sys.executable).parent / "bacalao"
    command = [str(bacalao), "serve", "--repo", str(repo), "--peer", peer]
    command += ["--swarm-host", "127.0.0.1", "--swarm-port", "0"]
    command += ["--api-port", str(free_port()), "--labels", f"devstack-node={label}"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_job_run_through_the_cli_appears_live_and_shows_logs_and_results(
    page: Any, stack: list[Any], wasm_module: Path, shot: Callable[..., Path]
) -> None:
    node = stack[0]
    page.goto(f"{node.api_url}/#/jobs")
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.notReloaded = true")

    job_id = cli(node, "wasm", "run", "--no-wait", "--id-only", str(wasm_module))
    job_id = job_id.strip()
    row = page.locator(f'tr[data-job-id="{job_id}"]')
    expect(row).to_have_attribute("data-state", "Completed")
    assert page.evaluate("window.notReloaded") is True

    named = ["--name", "nightly-report", "-l", "team=data"]
    cli(node, "wasm", "run", "--id-only", *named, str(wasm_module))
    rows = page.locator("table.jobs tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("nightly-report")
    shot("jobs")
    page.get_by_label("Labels").fill("team=data")
    expect(rows).to_have_count(1)
    page.get_by_label("Labels").fill("")
    page.get_by_label("ID prefix or name").fill(job_id[:10])
    expect(rows).to_have_count(1)
    page.get_by_label("State").select_option("Failed")
    expect(rows).to_have_count(0)
    page.get_by_label("State").select_option("")

    row.get_by_role("link").click()
    expect(page.locator(".job-state")).to_have_attribute("data-state", "Completed")
    expect(page.locator("pre.logs")).to_contain_text("hello from wasm")
    download = page.get_by_role("link", name="Download results")
    expect(download).to_have_attribute("href", re.compile(r"/api/v1/ipfs/get/Qm"))
    with page.expect_download() as fetched:
        download.click()
    saved = fetched.value.path()
    assert saved is not None
    assert Path(saved).stat().st_size > 0
    expect(page.locator("code.cid")).to_have_text(re.compile(r"^Qm\w{44}$"))
    expect(page.locator(".timeline li").first).to_contain_text("Job submitted")
    shot("job")


def test_a_node_started_later_appears_in_the_nodes_view(
    page: Any, stack: list[Any], tmp_path: Path, shot: Callable[..., Path]
) -> None:
    page.goto(f"{stack[0].api_url}/#/nodes")
    expect(page.locator("table.nodes tbody tr")).to_have_count(2)
    expect(page.locator("svg.swarm line")).to_have_count(1)
    with serving_node(tmp_path / "late", stack[0].swarm_addrs[0], "late"):
        row = page.locator("table.nodes tbody tr", has_text="devstack-node=late")
        expect(row).to_have_attribute("data-connection", "CONNECTED")
        late_id = row.get_attribute("data-node-id")
        expect(page.locator(f'svg.swarm g[data-node-id="{late_id}"]')).to_be_visible()
        expect(page.locator("table.nodes tbody tr")).to_have_count(3)
        expect(page.locator("svg.swarm line")).to_have_count(3)
        shot("nodes", full_page=True)


def test_the_submit_form_runs_a_job_and_shows_the_apis_validation_error(
    page: Any, stack: list[Any], wasm_module: Path, shot: Callable[..., Path]
) -> None:
    node = stack[0]
    page.goto(f"{node.api_url}/#/submit")
    page.get_by_label("Image").fill("Not A Valid Image!!")
    page.get_by_role("button", name="Submit job").click()
    engine = {"Type": "docker", "Params": {"Image": "Not A Valid Image!!"}}
    spec = {"Job": {"Type": "batch", "Tasks": [{"Name": "main", "Engine": engine}]}}
    expect(page.get_by_role("alert")).to_contain_text(api_error(node, spec))
    shot("submit")

    page.get_by_label("WebAssembly (WASI)").check()
    page.get_by_label("Module file").set_input_files(str(wasm_module))
    page.get_by_role("button", name="Submit job").click()
    submitted = page.locator("#submit-outcome a")
    expect(submitted).to_have_text(re.compile(r"^j-"))
    submitted.click()
    expect(page.locator(".job-state")).to_have_attribute("data-state", "Completed")
    expect(page.locator("pre.logs")).to_contain_text("hello from wasm")


def test_output_streams_while_a_job_runs_and_the_stop_button_stops_it(
    page: Any, stack: list[Any]
) -> None:
    need_docker_image()
    node = stack[0]
    script = "echo first line; sleep 60; echo never"
    job_id = cli(
        node,
        "docker",
        "run",
        "--no-wait",
        "--id-only",
        TEST_IMAGE,
        "--",
        "sh",
        "-c",
        script,
    ).strip()
    page.goto(f"{node.api_url}/#/jobs/{job_id}")
    expect(page.locator(".job-state")).to_have_attribute("data-state", "Running")
    expect(page.locator("pre.logs")).to_contain_text("first line")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Stop job").click()
    expect(page.locator(".job-state")).to_have_attribute("data-state", "Stopped")
    expect(page.get_by_role("button", name="Stop job")).to_be_hidden()
    assert "never" not in page.locator("pre.logs").inner_text()
