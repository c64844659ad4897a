"""Bacalhau's own Python clients, unchanged, against a real bacalao node.

`bacalhau-apiclient` (PyPI, the generated client of Bacalhau's v1 API) is
a dev dependency. `bacalhau-sdk` (its thin wrapper) pins old versions of
ruff, tox and twine, so it cannot share our dev environment; installed
with `pip install --no-deps bacalhau-sdk` (it needs only the api client;
`scripts/dev` does that) its test runs too. Without it the test skips,
except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bacalao.node import NodeHandle
from tests.cli.support import running_devstack

apiclient = pytest.importorskip("bacalhau_apiclient")
from bacalhau_apiclient.api.orchestrator_api import OrchestratorApi  # noqa: E402
from bacalhau_apiclient.models import (  # noqa: E402
    ApiPutJobRequest,
    Job,
    SpecConfig,
    Task,
)
from bacalhau_apiclient.rest import ApiException  # noqa: E402

from bacalao.client.api import Client  # noqa: E402


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeHandle]:
    with running_devstack(tmp_path_factory.mktemp("nodes"), 1) as handles:
        yield handles[0]


@pytest.fixture
def api(node: NodeHandle) -> OrchestratorApi:
    config = apiclient.Configuration()
    config.host = node.api_url
    return OrchestratorApi(apiclient.ApiClient(config))


def noop_job(name: str, **params: Any) -> Job:
    task = Task(
        name="main",
        engine=SpecConfig(type="noop", params=params),
        publisher=SpecConfig(type="local"),
    )
    return Job(name=name, type="batch", count=1, namespace="default", tasks=[task])


def wait_done(node: NodeHandle, job_id: str) -> None:
    Client("127.0.0.1", node.api_port).wait(job_id, timeout=20)


def test_submit_get_list_executions_history_results(
    api: OrchestratorApi, node: NodeHandle
) -> None:
    put = api.orchestratorput_job(ApiPutJobRequest(job=noop_job("sdk", Stdout="hi")))
    assert put.job_id.startswith("j-")
    assert put.evaluation_id
    wait_done(node, put.job_id)

    got = api.orchestratorget_job(put.job_id, include="executions,history")
    assert got.job.name == "sdk"
    assert got.job.state.state_type == "Completed"
    assert got.executions.items[0].run_output.stdout == "hi"
    assert got.history.items

    listed = api.orchestratorlist_jobs(limit=5, order_by="created_at", reverse=True)
    assert put.job_id in [j.id for j in listed.items]

    executions = api.orchestratorjob_executions(put.job_id, "")
    assert [e.compute_state.state_type for e in executions.items] == [9]

    history = api.orchestratorjob_history(put.job_id, event_type="execution")
    assert history.items
    assert {h.type for h in history.items} == {"ExecutionLevel"}
    assert all(h.execution_id for h in history.items)

    results = api.orchestratorjob_results(put.job_id)
    assert results.items[0].type == "urlDownload"
    assert results.items[0].params["URL"].endswith(".tar.gz")


def test_stop_and_errors(api: OrchestratorApi, node: NodeHandle) -> None:
    put = api.orchestratorput_job(ApiPutJobRequest(job=noop_job("long", Duration=60)))
    stopped = api.orchestratorstop_job(put.job_id, reason="enough")
    assert stopped.evaluation_id
    got = api.orchestratorget_job(put.job_id[:10])
    assert got.job.state.state_type == "Stopped"
    with pytest.raises(ApiException) as missing:
        api.orchestratorget_job("j-nope")
    assert missing.value.status == 404
    with pytest.raises(ApiException) as bad:
        api.orchestratorput_job(ApiPutJobRequest(job=Job(type="batch", tasks=[])))
    assert bad.value.status == 400


def test_bacalhau_sdk(
    node: NodeHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        import bacalhau_sdk.jobs as sdk_jobs
    except ImportError:
        missing = "bacalhau-sdk missing: pip install --no-deps bacalhau-sdk"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    monkeypatch.setenv("BACALHAU_DIR", str(tmp_path))
    monkeypatch.setenv("BACALHAU_API_HOST", "127.0.0.1")
    monkeypatch.setenv("BACALHAU_API_PORT", str(node.api_port))
    jobs = sdk_jobs.Jobs()
    put = jobs.put(ApiPutJobRequest(job=noop_job("via-sdk", Stdout="sdk")))
    wait_done(node, put.job_id)
    assert jobs.get(put.job_id).job.state.state_type == "Completed"
    assert put.job_id in [j.id for j in jobs.list(limit=10, reverse=True).items]
    assert jobs.executions(put.job_id).items[0].run_output.stdout == "sdk"
    assert jobs.history(put.job_id).items
    assert jobs.results(put.job_id).items
    long = jobs.put(ApiPutJobRequest(job=noop_job("sdk-long", Duration=60)))
    assert jobs.stop(long.job_id, reason="done").evaluation_id
