"""`GET /metrics` after a known workload counts exactly what ran."""

from __future__ import annotations

import urllib.request
from collections import Counter
from typing import Any

import trio
from prometheus_client.parser import text_string_to_metric_families

from .conftest import Api, Devstack, apis
from .test_jobs import noop_job, wasm_job

E_ACCEPTED = "AskForBidAccepted"


def scrape(
    base: str, token: str = ""
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a node's /metrics, by name and sorted labels."""
    request = urllib.request.Request(base + "/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(samples: dict[Any, float], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(
        value
        for (sample, have), value in samples.items()
        if sample == name and set(labels.items()) <= set(have)
    )


async def described(api: Api, job_ids: list[str]) -> list[dict[str, Any]]:
    return [await api.wait_for(job_id) for job_id in job_ids]


def engine_of(job: dict[str, Any]) -> str:
    return str(job["Job"]["Tasks"][0]["Engine"]["Type"])


async def test_metrics_count_the_jobs_that_ran(
    devstack: Devstack, hello_wasm: bytes
) -> None:
    async with devstack(2, engines=["wasm"]) as nodes:
        requester, *_ = apis(nodes)
        specs = [noop_job(Stdout="a"), noop_job(Stdout="b"), wasm_job(hello_wasm)]
        specs.append(noop_job(Fail="this task fails on purpose"))
        job_ids = [await requester.submit(spec) for spec in specs]
        jobs = await described(requester, job_ids)

        ended = Counter(j["Job"]["State"]["StateType"] for j in jobs)
        assert ended == {"Completed": 3, "Failed": 1}
        finished: Counter[tuple[str, str]] = Counter()
        accepted = 0
        for job in jobs:
            for event in job["History"]["Items"]:
                if event["Type"] != "ExecutionLevel":
                    continue
                state = event["Event"]["Details"].get("NewState")
                if state == E_ACCEPTED:
                    accepted += 1
                if state in ("Completed", "Failed"):
                    finished[engine_of(job), state.lower()] += 1

        def settled() -> bool:  # compute nodes count an end once it is reported
            samples = [scrape(h.api_url) for h in nodes]
            counted = sum(
                total(s, "bacalao_executions_finished_total") for s in samples
            )
            return counted == sum(finished.values())

        with trio.fail_after(10):
            while not await trio.to_thread.run_sync(settled):
                await trio.sleep(0.05)

        mine = await trio.to_thread.run_sync(scrape, nodes[0].api_url)
        everyone = [await trio.to_thread.run_sync(scrape, h.api_url) for h in nodes]

    assert total(mine, "bacalao_jobs", type="batch", state="Completed") == 3
    assert total(mine, "bacalao_jobs", type="batch", state="Failed") == 1
    assert total(mine, "bacalao_jobs", state="Running") == 0
    assert total(mine, "bacalao_jobs_submitted_total", type="batch") == 4
    assert total(mine, "bacalao_job_latency_seconds_count", state="Completed") == 3
    assert total(mine, "bacalao_job_latency_seconds_count", state="Failed") == 1
    assert total(mine, "bacalao_bids_answered_total", outcome="accepted") == accepted
    assert total(mine, "bacalao_bids_asked_total") >= accepted
    for (engine, state), count in finished.items():
        counted = sum(
            total(s, "bacalao_executions_finished_total", engine=engine, state=state)
            for s in everyone
        )
        assert counted == count, (engine, state)
    for engine in ("noop", "wasm"):
        started = sum(
            total(s, "bacalao_executions_started_total", engine=engine)
            for s in everyone
        )
        ran = sum(c for (e, _state), c in finished.items() if e == engine)
        assert started == ran, engine
        runs = sum(
            total(s, "bacalao_execution_duration_seconds_count", engine=engine)
            for s in everyone
        )
        assert runs == ran, engine
    assert total(mine, "bacalao_peers_connected") >= 1
    assert total(mine, "bacalao_store_commit_seconds_count") > 0
    assert total(mine, "bacalao_rpc_latency_seconds_count", outcome="ok") > 0
    assert total(mine, "bacalao_gossip_messages_out_total") > 0
    assert (
        sum(total(s, "bacalao_data_bytes_total", direction="in") for s in everyone) > 0
    )
    assert sum(
        total(s, "bacalao_compute_queue_wait_seconds_count") for s in everyone
    ) == sum(finished.values())


async def test_metrics_need_the_api_token(devstack: Devstack) -> None:
    async with devstack(1, api_tokens=["metrics-test-token-0123456789"]) as nodes:
        base = nodes[0].api_url
        refused = await trio.to_thread.run_sync(_status, base + "/metrics")
        samples = await trio.to_thread.run_sync(
            scrape, base, "metrics-test-token-0123456789"
        )
    assert refused == 401
    assert ("bacalao_peers_connected", ()) in samples


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
