"""Bounds on a submitted job spec, and the fields it holds that we ignore.

A spec is checked before anything else reads it, without I/O:

- its JSON nests at most `MAX_DEPTH` levels (deeper documents cannot be
  encoded again once stored, and cost every node that replicates them);
- it is at most `MAX_SPEC_BYTES` long (what a shared-view sync frame can
  always carry; large inputs belong in a storage source);
- numbers fit what they mean (Count, Priority and timeouts are bounded in
  the models themselves).

`unknown_fields` lists keys the job models do not know (Bacalhau's server
ignores them, and so do we, but the user hears about it: a misspelt
`Constraints` or an unsupported `Privileged` must not pass in silence).
"""

from __future__ import annotations

import types
import typing
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from ..models.api import PutJobRequest
from ..models.base import WireModel
from ..models.engines import ENGINE_SPECS
from .errors import InvalidSubmission, PayloadTooLarge

MAX_DEPTH = 32
MAX_SPEC_BYTES = 4 * 1024 * 1024
MAX_WARNINGS = 20


def check_size(body: bytes) -> None:
    """`PayloadTooLarge` (413) for a spec over `MAX_SPEC_BYTES`."""
    if len(body) > MAX_SPEC_BYTES:
        raise PayloadTooLarge(
            f"job spec is {len(body) // 1024} KiB, over the limit of "
            f"{MAX_SPEC_BYTES // (1024 * 1024)} MiB",
            hint="put large inputs in a storage source (urlDownload, s3, ipfs) "
            "instead of inline in the spec",
        )


def check_depth(value: Any) -> None:
    """`InvalidSubmission` naming the field where `value` nests too deep."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidSubmission(
                f"invalid job spec: {path or 'body'}: nested deeper than "
                f"{MAX_DEPTH} levels"
            )
        if isinstance(item, dict):
            children = ((str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            children = ((str(i), v) for i, v in enumerate(item))
        else:
            continue
        for key, child in children:
            stack.append((child, f"{path}.{key}" if path else key, depth + 1))


def unknown_fields(body: dict[str, Any]) -> list[str]:
    """Warnings for keys of `body` that no model field takes (dotted paths),
    engine params included (by the task's engine type)."""
    found: list[str] = []
    _walk(PutJobRequest, body, "", found)
    job = _get(body, "Job")
    tasks = _get(job, "Tasks") if isinstance(job, dict) else None
    for index, task in enumerate(tasks if isinstance(tasks, list) else []):
        engine = _get(task, "Engine") if isinstance(task, dict) else None
        if isinstance(engine, dict):
            kind = _get(engine, "Type")
            spec = ENGINE_SPECS.get(kind.lower()) if isinstance(kind, str) else None
            if spec is not None:
                where = f"Job.Tasks.{index}.Engine.Params"
                _walk(spec, _get(engine, "Params"), where, found)
    warnings = [f"unknown field {path} is ignored" for path in found[:MAX_WARNINGS]]
    if len(found) > MAX_WARNINGS:
        warnings.append(f"... and {len(found) - MAX_WARNINGS} more unknown fields")
    return warnings


def _get(data: dict[str, Any], name: str) -> Any:
    """`data[name]`, the key matched ignoring case (as the models match)."""
    for key, value in data.items():
        if isinstance(key, str) and key.lower() == name.lower():
            return value
    return None


def _walk(model: type[BaseModel], data: Any, path: str, found: list[str]) -> None:
    if not isinstance(data, dict):
        return
    names = getattr(model, "_lower_names", {})
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        alias = names.get(str(key).lower()) if isinstance(key, str) else None
        if alias is None:
            found.append(where)
            continue
        field = _field_by_alias(model, alias)
        if field is not None:
            _walk_value(field, value, where, found)


def _field_by_alias(model: type[BaseModel], alias: str) -> Any:
    for name, info in model.model_fields.items():
        if (info.alias or name) == alias:
            return info.annotation
    return None


def _walk_value(annotation: Any, value: Any, path: str, found: list[str]) -> None:
    model = _model_in(annotation)
    if model is not None:
        _walk(model, value, path, found)
        return
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin is list and args and isinstance(value, list):
        for index, item in enumerate(value):
            _walk_value(args[0], item, f"{path}.{index}", found)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The WireModel `annotation` is (or is optional of), else None."""
    if isinstance(annotation, type) and issubclass(annotation, WireModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        models = [m for a in get_args(annotation) if (m := _model_in(a))]
        return models[0] if len(models) == 1 else None
    if isinstance(origin, type) and issubclass(origin, WireModel):
        return origin  # a parametrized generic such as State[JobStateType]
    return None


__all__ = ["MAX_DEPTH", "MAX_SPEC_BYTES", "check_depth", "check_size", "unknown_fields"]
