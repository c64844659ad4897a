"""Job reads and stop: list/paging/filters, get, executions, history, results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bacalao.api.paging import PagingToken
from bacalao.models.api import (
    GetJobResponse,
    ListJobExecutionsResponse,
    ListJobHistoryResponse,
    ListJobsResponse,
)
from bacalao.models.history import JobHistoryType

from .asgi import error_of
from .conftest import Api
from .fakes import FakeBackend

JOBS = "/api/v1/orchestrator/jobs"


async def list_jobs(api: Api, query: str = "") -> ListJobsResponse:
    reply = await api("GET", JOBS, query=query)
    assert reply.status == 200, reply.body
    return ListJobsResponse.model_validate(reply.json())


# -- list -----------------------------------------------------------------


async def test_list_pages_with_next_token(api: Api, backend: FakeBackend) -> None:
    ids = [backend.add_job().ID for _ in range(5)]
    first = await list_jobs(api, "limit=2")
    assert [j.ID for j in first.Items] == ids[:2]
    assert PagingToken.decode(first.NextToken) == PagingToken("", False, 2, 2)
    second = await list_jobs(api, f"next_token={first.NextToken}")
    third = await list_jobs(api, f"next_token={second.NextToken}")
    assert [j.ID for j in second.Items + third.Items] == ids[2:]
    assert third.NextToken == ""


async def test_token_overrides_query(api: Api, backend: FakeBackend) -> None:
    ids = [backend.add_job().ID for _ in range(4)]
    token = PagingToken("created_at", True, 1, 1).encode()
    page = await list_jobs(api, f"next_token={token}&limit=50&reverse=false")
    assert [j.ID for j in page.Items] == [ids[2]]
    assert backend.list_calls[-1] == {
        "namespace": None,
        "order_by": "create_time",
        "reverse": True,
        "offset": 1,
        "limit": 1,
    }


async def test_limit_zero_means_all(api: Api, backend: FakeBackend) -> None:
    for _ in range(3):
        backend.add_job()
    page = await list_jobs(api, "limit=0")
    assert (len(page.Items), page.NextToken) == (3, "")


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("created_at", "create_time"),
        ("modified_at", "modify_time"),
        ("id", "id"),
        ("", "create_time"),
    ],
)
async def test_order_by_is_translated(
    api: Api, backend: FakeBackend, order: str, expected: str
) -> None:
    await list_jobs(api, f"order_by={order}&reverse=true")
    assert backend.list_calls[-1]["order_by"] == expected
    assert backend.list_calls[-1]["reverse"] is True


async def test_reverse_orders_newest_first(api: Api, backend: FakeBackend) -> None:
    ids = [backend.add_job().ID for _ in range(3)]
    page = await list_jobs(api, "reverse=1")
    assert [j.ID for j in page.Items] == ids[::-1]


async def test_namespace_filter(api: Api, backend: FakeBackend) -> None:
    backend.add_job(Namespace="default")
    other = backend.add_job(Namespace="team")
    assert [j.ID for j in (await list_jobs(api, "namespace=team")).Items] == [other.ID]
    assert len((await list_jobs(api, "namespace=*")).Items) == 2
    assert backend.list_calls[-1]["namespace"] is None


async def test_labels_filter(api: Api, backend: FakeBackend) -> None:
    prod = backend.add_job(Labels={"env": "prod", "tier": "1"})
    backend.add_job(Labels={"env": "dev"})
    canary = backend.add_job(Labels={"env": "prod", "canary": "true"})
    page = await list_jobs(api, "labels=env%3Dprod")
    assert {j.ID for j in page.Items} == {prod.ID, canary.ID}
    page = await list_jobs(api, "labels=env%3Dprod&labels=canary!%3Dtrue")
    assert [j.ID for j in page.Items] == [prod.ID]
    page = await list_jobs(api, "labels=env+in+(dev,qa)")
    assert len(page.Items) == 1


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=99999999999", "limit"),
        ("reverse=maybe", "reverse"),
        ("order_by=size", "order_by"),
        ("labels=env+in+(a", "labels"),
        ("next_token=%%%", "next_token"),
        ("next_token=YWJj", "next_token"),
        (f"next_token={PagingToken('x', False, 1, 1).encode()[:-2]}", "next_token"),
    ],
)
async def test_bad_query_values_are_400_naming_param(
    api: Api, query: str, param: str
) -> None:
    body = error_of(await api("GET", JOBS, query=query))
    assert body["Status"] == 400
    assert f"'{param}'" in body["Message"]


async def test_bad_token_reasons(api: Api) -> None:
    import base64

    def token(raw: str) -> str:
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    for raw, reason in (
        ("a:N:1", "invalid number of parts"),
        ("a:N:x:1", "malformed token"),
    ):
        body = error_of(await api("GET", JOBS, query=f"next_token={token(raw)}"))
        assert reason in body["Message"]
    body = error_of(await api("GET", JOBS, query="next_token=***"))
    assert "failed to decode paging token" in body["Message"]


# -- get ------------------------------------------------------------------


async def test_get_by_prefix_with_includes(api: Api, backend: FakeBackend) -> None:
    job = backend.add_job()
    backend.add_execution(job.ID)
    backend.add_event(job.ID, "Job submitted")
    reply = await api("GET", f"{JOBS}/{job.ID[:8]}", query="include=executions,history")
    body = GetJobResponse.model_validate(reply.json())
    assert body.Job.ID == job.ID
    assert body.Executions is not None
    assert len(body.Executions.Items) == 1
    assert body.History is not None
    assert body.History.Items[0].Event.Message == "Job submitted"


async def test_get_without_include_omits_sections(
    api: Api, backend: FakeBackend
) -> None:
    job = backend.add_job()
    body = (await api("GET", f"{JOBS}/{job.ID}", query="include=bogus")).json()
    assert set(body) == {"Job"}
    body = (await api("GET", f"{JOBS}/{job.ID}", query="include=HISTORY")).json()
    assert set(body) == {"Job", "History"}


async def test_get_unknown_job_is_404(api: Api) -> None:
    body = error_of(await api("GET", f"{JOBS}/j-nope"))
    assert (body["Status"], body["Code"], body["Component"]) == (
        404,
        "NotFound",
        "JobStore",
    )
    assert body["Message"] == "job not found: j-nope"


async def test_ambiguous_prefix(api: Api, backend: FakeBackend) -> None:
    backend.add_job(ID="j-aaaa1")
    backend.add_job(ID="j-aaaa2")
    body = error_of(await api("GET", f"{JOBS}/j-aaaa"))
    assert body["Code"] == "MultipleJobsFound"
    assert body["Status"] == 400
    assert "j-aaaa1" in body["Message"]
    assert body["Hint"]


async def test_get_bad_job_version_is_400(api: Api, backend: FakeBackend) -> None:
    job = backend.add_job()
    body = error_of(await api("GET", f"{JOBS}/{job.ID}", query="job_version=latest"))
    assert "'job_version'" in body["Message"]


# -- stop -----------------------------------------------------------------


async def test_stop_reason_from_body(api: Api, backend: FakeBackend) -> None:
    job = backend.add_job(State={"StateType": "Running"})
    reply = await api("DELETE", f"{JOBS}/{job.ID[:6]}", json={"reason": "enough"})
    assert reply.status == 200
    assert reply.json()["EvaluationID"]
    assert backend.stopped == [(job.ID, "enough")]


async def test_stop_reason_from_query_and_capitalised_key(
    api: Api, backend: FakeBackend
) -> None:
    job = backend.add_job(State={"StateType": "Running"})
    await api("DELETE", f"{JOBS}/{job.ID}", query="reason=from+query")
    await api("DELETE", f"{JOBS}/{job.ID}", json={"Reason": "capital"})
    assert [r for _, r in backend.stopped] == ["from query", "capital"]


async def test_stop_already_stopped_has_empty_evaluation(
    api: Api, backend: FakeBackend
) -> None:
    job = backend.add_job(State={"StateType": "Stopped"})
    assert (await api("DELETE", f"{JOBS}/{job.ID}")).json() == {"EvaluationID": ""}


async def test_stop_bad_bodies(api: Api, backend: FakeBackend) -> None:
    job = backend.add_job()
    body = error_of(await api("DELETE", f"{JOBS}/{job.ID}", json={"reason": 42}))
    assert "reason" in body["Message"]
    assert body["Status"] == 400
    body = error_of(await api("DELETE", f"{JOBS}/{job.ID}", body=b"{"))
    assert body["Message"].startswith("malformed JSON body")
    assert error_of(await api("DELETE", f"{JOBS}/j-none"))["Status"] == 404


# -- executions -----------------------------------------------------------


async def test_executions_order_and_paging(api: Api, backend: FakeBackend) -> None:
    job = backend.add_job()
    first = backend.add_execution(job.ID, ModifyTime=30)
    second = backend.add_execution(job.ID, ModifyTime=10)
    url = f"{JOBS}/{job.ID}/executions"
    body = ListJobExecutionsResponse.model_validate((await api("GET", url)).json())
    assert [e.ID for e in body.Items] == [first.ID, second.ID]
    assert body.NextToken == ""
    body = ListJobExecutionsResponse.model_validate(
        (await api("GET", url, query="order_by=modified_at")).json()
    )
    assert [e.ID for e in body.Items] == [second.ID, first.ID]
    page = ListJobExecutionsResponse.model_validate(
        (await api("GET", url, query="limit=1&reverse=true")).json()
    )
    assert [e.ID for e in page.Items] == [second.ID]
    rest = ListJobExecutionsResponse.model_validate(
        (await api("GET", url, query=f"next_token={page.NextToken}")).json()
    )
    assert [e.ID for e in rest.Items] == [first.ID]
    assert rest.NextToken == ""


async def test_executions_job_version_and_bad_order(
    api: Api, backend: FakeBackend
) -> None:
    job = backend.add_job()
    backend.add_execution(job.ID, JobVersion=1)
    newer = backend.add_execution(job.ID, JobVersion=2)
    url = f"{JOBS}/{job.ID}/executions"
    items = (await api("GET", url, query="job_version=2")).json()["Items"]
    assert [e["ID"] for e in items] == [newer.ID]
    assert (
        "'order_by'"
        in error_of(await api("GET", url, query="order_by=node"))["Message"]
    )
    assert error_of(await api("GET", f"{JOBS}/j-x/executions"))["Status"] == 404


# -- history --------------------------------------------------------------


def history_url(job_id: str) -> str:
    return f"{JOBS}/{job_id}/history"


async def history(api: Api, job_id: str, query: str = "") -> ListJobHistoryResponse:
    reply = await api("GET", history_url(job_id), query=query)
    assert reply.status == 200, reply.body
    return ListJobHistoryResponse.model_validate(reply.json())


async def test_history_filters(api: Api, backend: FakeBackend) -> None:
    job = backend.add_job()
    old = datetime(2020, 1, 1, tzinfo=UTC)
    backend.add_event(job.ID, "submitted", Type="JobLevel", Time=old)
    backend.add_event(
        job.ID,
        "bid",
        Type=JobHistoryType.ExecutionLevel,
        ExecutionID="e-abc1",
        NodeID="n-1",
    )
    backend.add_event(
        job.ID,
        "ran",
        Type=JobHistoryType.ExecutionLevel,
        ExecutionID="e-def2",
        NodeID="n-2",
    )

    def messages(body: ListJobHistoryResponse) -> list[str]:
        return [i.Event.Message for i in body.Items]

    assert messages(await history(api, job.ID)) == ["submitted", "bid", "ran"]
    assert messages(await history(api, job.ID, "event_type=job")) == ["submitted"]
    assert messages(await history(api, job.ID, "event_type=execution")) == [
        "bid",
        "ran",
    ]
    assert messages(await history(api, job.ID, "execution_id=e-abc")) == ["bid"]
    assert messages(await history(api, job.ID, "node_id=n-2")) == ["ran"]
    since = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp())
    assert messages(await history(api, job.ID, f"since={since}")) == ["bid", "ran"]


async def test_history_pages_and_polls_while_running(
    api: Api, backend: FakeBackend
) -> None:
    job = backend.add_job(State={"StateType": "Running"})
    for n in range(3):
        backend.add_event(job.ID, f"event {n}")
    page = await history(api, job.ID, "limit=2")
    assert len(page.Items) == 2
    assert page.NextToken
    page = await history(api, job.ID, f"next_token={page.NextToken}")
    assert [i.Event.Message for i in page.Items] == ["event 2"]
    assert page.NextToken, "a running job keeps a token so callers can poll"
    empty = await history(api, job.ID, f"next_token={page.NextToken}")
    assert (empty.Items, empty.NextToken) == ([], page.NextToken)
    backend.add_event(job.ID, "event 3")
    later = await history(api, job.ID, f"next_token={page.NextToken}")
    assert [i.Event.Message for i in later.Items] == ["event 3"]


async def test_history_of_finished_job_ends(api: Api, backend: FakeBackend) -> None:
    job = backend.add_job(State={"StateType": "Completed"})
    for n in range(150):
        backend.add_event(job.ID, f"event {n}")
    page = await history(api, job.ID)
    assert len(page.Items) == 100, "the default page is 100 items"
    page = await history(api, job.ID, f"next_token={page.NextToken}")
    assert (len(page.Items), page.NextToken) == (50, "")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("event_type=other", "event_type"),
        ("since=-5", "since"),
        ("since=yesterday", "since"),
        ("all_job_versions=perhaps", "all_job_versions"),
        ("limit=x", "limit"),
    ],
)
async def test_history_bad_params(
    api: Api, backend: FakeBackend, query: str, param: str
) -> None:
    job = backend.add_job()
    body = error_of(await api("GET", history_url(job.ID), query=query))
    assert body["Status"] == 400
    assert f"'{param}'" in body["Message"]


# -- results --------------------------------------------------------------


async def test_results_lists_published_results(api: Api, backend: FakeBackend) -> None:
    job = backend.add_job()
    backend.add_execution(job.ID)
    backend.add_execution(
        job.ID, PublishedResult={"Type": "local", "Params": {"URL": "http://x"}}
    )
    body = (await api("GET", f"{JOBS}/{job.ID}/results")).json()
    assert body == {
        "NextToken": "",
        "Items": [{"Type": "local", "Params": {"URL": "http://x"}}],
    }
