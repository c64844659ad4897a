"""The served OpenAPI document is true: it lists exactly the routes that
answer, and the answers match the schemas it gives for them."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from bacalao.api.app import ApiApp, build_router
from bacalao.api.events import EVENTS
from bacalao.api.openapi import OPENAPI_PATH, QUERY_PARAMS, openapi_document
from bacalao.api.router import Route, route

from .asgi import call
from .conftest import Api
from .fakes import FakeBackend

Doc = dict[str, Any]


async def served(api: Api) -> Doc:
    reply = await api("GET", OPENAPI_PATH)
    assert reply.status == 200
    doc: Doc = reply.json()
    return doc


def answering(backend: FakeBackend) -> set[tuple[str, str]]:
    """(path, method) of every HTTP route the app's router answers."""
    pairs = set()
    for item in build_router(backend).routes:
        for method in item.methods - {"WEBSOCKET"}:
            pairs.add((item.pattern, method.lower()))
    return pairs


async def test_document_lists_exactly_the_routes(
    api: Api, backend: FakeBackend
) -> None:
    doc = await served(api)
    documented = {(path, m) for path, ops in doc["paths"].items() for m in ops}
    assert documented == answering(backend)
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["version"] == backend.version().GitVersion


async def test_every_operation_is_described(api: Api) -> None:
    doc = await served(api)
    operation_ids = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            operation_ids.append(op["operationId"])
            assert op["summary"], (path, method)
            assert "200" in op["responses"]
            assert "500" in op["responses"]
            names = [p["name"] for p in op["parameters"] if p["in"] == "path"]
            assert names == [s.strip("{}") for s in path.split("/") if "{" in s]
            for param in op["parameters"]:
                if param["in"] == "query":
                    assert param["name"] in QUERY_PARAMS
    assert len(operation_ids) == len(set(operation_ids))


def test_a_route_without_doc_is_refused(backend: FakeBackend) -> None:
    async def nothing(request: object) -> None:  # pragma: no cover - never called
        raise AssertionError

    undocumented: Route = route("GET", "/api/v1/undocumented", nothing)
    with pytest.raises(ValueError, match="/api/v1/undocumented"):
        openapi_document([*build_router(backend).routes, undocumented], "v0")


def _check(doc: Doc, path: str, method: str, status: int, body: Any) -> None:
    response = doc["paths"][path][method]["responses"][str(status)]
    content = response["content"]
    if "application/json" not in content:
        return
    schema = {**content["application/json"]["schema"], "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


@pytest.fixture
def populated(backend: FakeBackend) -> dict[str, str]:
    """A job with an execution and history; the values for path params."""
    job = backend.add_job(Name="documented")
    backend.add_execution(
        job.ID,
        ComputeState={"StateType": 9, "Message": "done"},
        RunOutput={"Stdout": "hi", "stderr": "", "ExitCode": 0},
        PublishedResult={"Type": "urlDownload", "Params": {"URL": "http://x/e.tgz"}},
    )
    backend.add_event(job.ID, "Job submitted")
    return {"id": job.ID}


async def test_answers_match_their_schemas(
    app: ApiApp, backend: FakeBackend, populated: dict[str, str]
) -> None:
    doc = (await call(app, "GET", OPENAPI_PATH)).json()
    queries = {
        "/api/v1/orchestrator/jobs/{id}": "include=history,executions",
        "/api/v1/orchestrator/jobs/{id}/logs": "",
    }
    checked = 0
    for path, operations in doc["paths"].items():
        if "get" not in operations or path == EVENTS:  # endless: test_events.py
            continue
        concrete = path.replace("{id}", populated["id"]).replace("{name}", "e.tar.gz")
        if path.startswith("/api/v1/orchestrator/nodes/"):
            concrete = path.replace("{id}", backend.node_id[:6])
        reply = await call(app, "GET", concrete, query=queries.get(path, ""))
        assert str(reply.status) in operations["get"]["responses"], path
        if reply.headers["content-type"] == "application/json":
            _check(doc, path, "get", reply.status, reply.json())
            checked += 1
    assert checked >= 15


async def test_errors_and_bodies_match_their_schemas(
    app: ApiApp, populated: dict[str, str]
) -> None:
    doc = (await call(app, "GET", OPENAPI_PATH)).json()
    jobs = "/api/v1/orchestrator/jobs"
    spec = {"Type": "batch", "Tasks": [{"Name": "t", "Engine": {"Type": "noop"}}]}
    body = {"Job": spec}
    _check(doc, jobs, "put", 200, (await call(app, "PUT", jobs, json=body)).json())
    bad = await call(app, "PUT", jobs, json={"Job": {}})
    _check(doc, jobs, "put", 400, bad.json())
    gone = await call(app, "GET", f"{jobs}/j-nope")
    _check(doc, jobs + "/{id}", "get", 404, gone.json())
    stop = await call(app, "DELETE", f"{jobs}/{populated['id']}", json={"reason": "x"})
    _check(doc, jobs + "/{id}", "delete", stop.status, stop.json())
