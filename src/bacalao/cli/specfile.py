"""Reading a job spec file (YAML or JSON, Bacalhau's format) for `job run`.

As Bacalhau's `job run`: top-level keys match case-insensitively; the
fields the server sets (ID, State, Version, Revision, CreateTime,
ModifyTime) are refused, as is any key a job does not have. The job is
then checked by `bacalao.validation`, as the node checks it, so a fault is
named before anything is sent (`Job.Tasks.0.Engine.Params.Image: Field
required`).
"""

from __future__ import annotations

import difflib
from typing import Any

from ..models.job import Job
from .errors import CliError

SERVER_SET = ("ID", "State", "Version", "Revision", "CreateTime", "ModifyTime")
ALLOWED = (
    "Name",
    "Namespace",
    "Type",
    "Priority",
    "Count",
    "Constraints",
    "Meta",
    "Labels",
    "Tasks",
)


def parse_spec_text(text: str, source: str) -> dict[str, Any]:
    """The mapping in `text` (YAML, of which JSON is a part)."""
    import yaml

    if not text.strip():
        raise CliError(f"{source} is empty", "give a job spec in YAML or JSON")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise CliError(
            f"{source} is not valid YAML or JSON{line}: {problem}",
            "fix the spec's syntax",
        ) from None
    if not isinstance(data, dict):
        raise CliError(
            f"{source} does not hold a job spec (found {type(data).__name__})",
            "a spec is a mapping with Type and Tasks; see examples/specs/",
        )
    return data


def check_keys(data: dict[str, Any], source: str) -> None:
    """Refuse server-set and unknown top-level keys, as Bacalhau's CLI does."""
    for key in data:
        name = str(key)
        lower = name.lower()
        if lower in (k.lower() for k in SERVER_SET):
            raise CliError(
                f"field '{name}' in the job spec of {source} is not allowed",
                "the node sets it; remove it from the spec",
            )
        if lower not in (k.lower() for k in ALLOWED):
            close = difflib.get_close_matches(name, ALLOWED, n=1)
            hint = f"did you mean '{close[0]}'?" if close else ""
            raise CliError(
                f"unknown field '{name}' in the job spec of {source}",
                hint or f"a job has {', '.join(ALLOWED)}",
            )


def validate_spec(data: dict[str, Any], source: str) -> Job:
    """The job the spec describes; `CliError` naming each field at fault
    (`bacalao.validation`: the same check the node runs)."""
    from ..validation import InvalidSpec, validate_job

    try:
        return validate_job(data)
    except InvalidSpec as exc:
        problems = "; ".join(map(str, exc.problems))
        raise CliError(f"invalid job spec in {source}: {problems}") from None


def load_spec(text: str, source: str) -> Job:
    """Parse, check and validate a job spec."""
    data = parse_spec_text(text, source)
    check_keys(data, source)
    return validate_spec(data, source)


__all__ = ["check_keys", "load_spec", "parse_spec_text", "validate_spec"]
