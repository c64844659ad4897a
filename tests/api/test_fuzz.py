"""Property tests: no input a client can send makes the API answer 5xx.

Random query strings, JSON bodies and paths go through the in-process
ASGI driver; every answer must be below 500, and every error must be
Bacalhau's APIError JSON.
"""

from __future__ import annotations

import json
from typing import Any

import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bacalao.api.app import ApiApp

from .asgi import Reply, call, error_of, frames, websocket
from .fakes import FakeBackend, job_spec

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

_backend = FakeBackend()
_job = _backend.add_job(ID="j-11111111-2222-3333-4444-555555555555")
_backend.add_execution(_job.ID)
_backend.add_event(_job.ID, "Job submitted")
_APP = ApiApp(_backend)

GET_PATHS = [
    "/api/v1/orchestrator/jobs",
    f"/api/v1/orchestrator/jobs/{_job.ID}",
    f"/api/v1/orchestrator/jobs/{_job.ID}/executions",
    f"/api/v1/orchestrator/jobs/{_job.ID}/history",
    f"/api/v1/orchestrator/jobs/{_job.ID}/results",
    f"/api/v1/orchestrator/jobs/{_job.ID}/logs",
    "/api/v1/orchestrator/nodes",
    "/api/v1/agent/alive",
    "/api/v1/openapi.json",
    "/api/v1/local/results/e-1.tar.gz",
]
PARAMS = [
    "limit",
    "next_token",
    "order_by",
    "reverse",
    "labels",
    "namespace",
    "include",
    "since",
    "event_type",
    "execution_id",
    "node_id",
    "job_version",
    "all_job_versions",
    "filter-approval",
    "filter-status",
    "reason",
    "follow",
    "tail",
]


def request(method: str, path: str, **kwargs: Any) -> Reply:
    async def go() -> Reply:
        return await call(_APP, method, path, **kwargs)

    return trio.run(go)


def check(reply: Reply) -> None:
    assert reply.status < 500, reply.body
    if reply.status >= 400:
        error_of(reply)
    else:
        json.loads(reply.body)


_value = st.one_of(
    st.text(max_size=20),
    st.from_regex(r"-?[0-9]{1,12}", fullmatch=True),
    st.sampled_from(
        [
            "true",
            "false",
            "T",
            "0",
            "created_at",
            "modified_at",
            "id",
            "history,executions",
        ]
    ),
)
_query = st.lists(st.tuples(st.sampled_from(PARAMS), _value), max_size=6)


@FUZZ
@given(path=st.sampled_from(GET_PATHS), pairs=_query)
def test_random_query_parameters(path: str, pairs: list[tuple[str, str]]) -> None:
    from urllib.parse import urlencode

    check(request("GET", path, query=urlencode(pairs)))


@FUZZ
@given(pairs=_query, job=st.sampled_from([_job.ID, _job.ID[:4], "x", "%00"]))
def test_random_log_socket_queries(pairs: list[tuple[str, str]], job: str) -> None:
    from urllib.parse import urlencode

    path = f"/api/v1/orchestrator/jobs/{job}/logs"
    sent = trio.run(websocket, _APP, path, urlencode(pairs))
    assert sent[0] == {"type": "websocket.accept"}
    assert sent[-1] == {"type": "websocket.close", "code": 1000}
    assert all(f.get("error") != "Internal server error" for f in frames(sent))


@FUZZ
@given(path=st.sampled_from(GET_PATHS), raw=st.binary(max_size=60))
def test_raw_query_bytes(path: str, raw: bytes) -> None:
    check(request("GET", path, query=raw))


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_job_keys = st.sampled_from(
    [
        "Name",
        "Type",
        "Count",
        "Tasks",
        "Meta",
        "Labels",
        "Constraints",
        "State",
        "ID",
        "Priority",
    ]
)
_task_keys = st.sampled_from(
    [
        "Name",
        "Engine",
        "Env",
        "Resources",
        "Network",
        "Timeouts",
        "InputSources",
        "ResultPaths",
        "Publisher",
    ]
)


@st.composite
def job_bodies(draw: st.DrawFn) -> Any:
    job: dict[str, Any] = job_spec(
        draw(st.sampled_from(["docker", "wasm", "noop", "x"]))
    )
    for key in draw(st.lists(_job_keys, max_size=3)):
        job[key] = draw(_json)
    task = (
        job["Tasks"][0] if isinstance(job.get("Tasks"), list) and job["Tasks"] else None
    )
    if isinstance(task, dict):
        for key in draw(st.lists(_task_keys, max_size=3)):
            task[key] = draw(_json)
        if draw(st.booleans()):
            task["Engine"] = {
                "Type": draw(st.sampled_from(["docker", "wasm"])),
                "Params": draw(_json),
            }
    return {"Job": job} if draw(st.booleans()) else draw(_json)


@FUZZ
@given(body=job_bodies())
def test_random_job_bodies(body: Any) -> None:
    check(request("PUT", "/api/v1/orchestrator/jobs", json=body))


@FUZZ
@given(raw=st.binary(max_size=200))
def test_random_body_bytes(raw: bytes) -> None:
    check(request("PUT", "/api/v1/orchestrator/jobs", body=raw))
    check(request("DELETE", f"/api/v1/orchestrator/jobs/{_job.ID}", body=raw))


@FUZZ
@given(
    method=st.sampled_from(
        ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    ),
    path=st.lists(st.text(max_size=12), max_size=6).map(lambda p: "/" + "/".join(p)),
)
def test_random_paths(method: str, path: str) -> None:
    reply = request(method, path)
    assert reply.status < 500
    if reply.status >= 400 and method != "HEAD":
        error_of(reply)
