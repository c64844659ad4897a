"""The OpenAPI 3.1 document of the API, built from the router itself.

Every HTTP route carries a `Doc` (summary, query parameters by name, body
and response models); `openapi_document` walks the router and refuses a
route without one, so the document lists exactly the routes that answer.
Schemas come from the pydantic models the handlers serialise, so they
change with them. A WebSocket route shares its path with a documented GET.
It is served at `GET /api/v1/openapi.json`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import IntEnum
from functools import partial
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic.json_schema import models_json_schema as _models_json_schema
from pydantic_core import core_schema

from ..models.api import APIError
from .http import Request, Response, json_response
from .router import Doc, Route, Router, route

OPENAPI_PATH = "/api/v1/openapi.json"
REF = "#/components/schemas/{model}"

_STRING: dict[str, Any] = {"type": "string"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_UINT32: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 2**32 - 1}
_INT64: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}

# name -> (schema, description): every query parameter a route may name.
QUERY_PARAMS: dict[str, tuple[dict[str, Any], str]] = {
    "namespace": (_STRING, "Namespace; empty or `*` means all namespaces"),
    "limit": (_UINT32, "Page size; 0 means no limit"),
    "next_token": (_STRING, "The NextToken of the previous page, unchanged"),
    "order_by": (_STRING, "Field to sort by (see the summary)"),
    "reverse": (_BOOL, "Reverse the order"),
    "labels": (
        {"type": "array", "items": _STRING},
        "Label selector, e.g. `env=prod,zone in (a,b)`; repeats are ANDed",
    ),
    "include": (_STRING, "Comma-separated sections to add: history, executions"),
    "job_version": (_INT64, "Job version (0: the latest)"),
    "all_job_versions": (_BOOL, "Every job version"),
    "since": (_INT64, "Only events at or after this Unix time (seconds)"),
    "event_type": (
        {"type": "string", "enum": ["all", "job", "execution"]},
        "Job-level events, execution-level events, or all",
    ),
    "execution_id": (_STRING, "Execution ID or a prefix of it"),
    "node_id": (_STRING, "Node ID or a prefix of it"),
    "reason": (_STRING, "Why the job is stopped (the body's `reason` wins)"),
    "filter-approval": (_STRING, "PENDING, APPROVED or REJECTED"),
    "filter-status": (_STRING, "CONNECTED or DISCONNECTED"),
    "follow": (_BOOL, "Keep streaming new output until the execution ends"),
    "tail": (_BOOL, "Start from the end of the output"),
    "job_id": (_STRING, "Only this job (ID, unique prefix or name)"),
}


class _Schemas(GenerateJsonSchema):
    """pydantic's generator, taught our enums (validated by a plain function)."""

    def function_plain_schema(
        self, schema: core_schema.PlainValidatorFunctionSchema
    ) -> JsonSchemaValue:
        enum = getattr(schema["function"]["function"], "__self__", None)
        if not (isinstance(enum, type) and issubclass(enum, IntEnum)):
            return super().function_plain_schema(schema)
        serializer: Any = schema.get("serialization", {}).get("function")
        first = next(iter(enum))
        if serializer is not None and isinstance(serializer(first), str):
            return {"type": "string", "enum": [m.name for m in enum]}
        return {"type": "integer", "enum": [int(m) for m in enum]}


def _models(docs: Iterable[Doc]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {"APIError": APIError}
    for doc in docs:
        for model in (doc.body, doc.response):
            if isinstance(model, type) and issubclass(model, BaseModel):
                found.setdefault(model.__name__, model)
    return list(found.values())


def component_schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    """JSON schemas of `models` (as serialised) and every model they use."""
    _, top = _models_json_schema(
        [(m, "serialization") for m in models],
        ref_template=REF,
        schema_generator=_Schemas,
    )
    schemas: dict[str, Any] = top.get("$defs", {})
    return schemas


def _content(model: Any, content_type: str) -> dict[str, Any]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        schema: dict[str, Any] = {"$ref": REF.format(model=model.__name__)}
    elif isinstance(model, dict):
        schema = model
    elif content_type == "application/json":
        schema = {"type": "object"}
    else:
        schema = {"type": "string", "format": "binary"}
    return {content_type: {"schema": schema}}


def _parameters(pattern: str, doc: Doc) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _STRING}
        for name in re.findall(r"{(\w+)}", pattern)
    ]
    for name in doc.query:
        schema, description = QUERY_PARAMS[name]
        params.append(
            {"name": name, "in": "query", "schema": schema, "description": description}
        )
    return params


def _tag(pattern: str) -> str:
    parts = pattern.strip("/").split("/")
    return parts[2].capitalize() if len(parts) > 3 else "Misc"


def _operation(method: str, pattern: str, doc: Doc) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "OK",
            "content": _content(doc.response, doc.content_type),
        }
    }
    for status in (*doc.errors, 500):
        responses[str(status)] = {
            "description": "Error",
            "content": _content(APIError, "application/json"),
        }
    operation: dict[str, Any] = {
        "operationId": re.sub(r"\W+", "_", f"{method}{pattern}").strip("_"),
        "summary": doc.summary,
        "tags": [doc.tag or _tag(pattern)],
        "parameters": _parameters(pattern, doc),
        "responses": responses,
    }
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": _content(doc.body, "application/json"),
        }
    return operation


def openapi_document(routes: Iterable[Route], version: str) -> dict[str, Any]:
    """The document of `routes`; `ValueError` names an HTTP route with no Doc."""
    paths: dict[str, dict[str, Any]] = {}
    docs: list[Doc] = []
    for item in routes:
        methods = sorted(item.methods - {"WEBSOCKET"})
        if not methods:
            continue
        if item.doc is None:
            raise ValueError(f"route {item.pattern} has no Doc for the OpenAPI doc")
        docs.append(item.doc)
        for method in methods:
            operation = _operation(method, item.pattern, item.doc)
            paths.setdefault(item.pattern, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "bacalao",
            "version": version,
            "description": "Bacalhau's v1 REST API, as a bacalao node serves it.",
        },
        "servers": [{"url": "http://127.0.0.1:1234"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": component_schemas(_models(docs))},
    }


async def serve_document(
    router: Router, version: str, cache: dict[str, Response], request: Request
) -> Response:
    if "doc" not in cache:
        cache["doc"] = json_response(openapi_document(router.routes, version))
    return cache["doc"]


def openapi_route(router: Router, version: str) -> Route:
    """The route serving the document of `router` (itself included)."""
    doc = Doc("This OpenAPI document", errors=(), response={"type": "object"})
    cache: dict[str, Response] = {}
    handler = partial(serve_document, router, version, cache)
    return route("GET", OPENAPI_PATH, handler, doc)


__all__ = [
    "OPENAPI_PATH",
    "QUERY_PARAMS",
    "component_schemas",
    "openapi_document",
    "openapi_route",
]
