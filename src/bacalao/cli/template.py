"""Job spec templates, as `bacalhau job run` renders them before parsing.

Bacalhau runs the spec through Go's text/template with a flat map of
string values (`-V key=value`, plus the environment variables whose names
match `-E REGEX`) and `missingkey=error`. This is a small renderer for the
part of that syntax job specs use, and nothing that could run code:

    {{.name}}  {{ .name }}      the value of `name`
    {{- .name }}  {{ .name -}}  the same, trimming the whitespace before/after
    {{/* a comment */}}         nothing

Any other action (`{{if}}`, pipelines, `{{.a.b}}`) is refused by name, as
is an unclosed `{{`. Text without `{{` is returned unchanged.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Mapping

from .errors import CliError

OPEN, CLOSE = "{{", "}}"
_SPACE = " \t\r\n"
_FIELD = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")
_ENV_FIELD = re.compile(r"\.env\.([A-Za-z_][A-Za-z0-9_]*)")
_HINT = "use --no-template to run the spec as it is"


class TemplateError(CliError):
    """The spec's template is malformed or names a value nobody gave."""


def render(text: str, values: Mapping[str, str]) -> str:
    """`text` with each action replaced as Go's text/template would."""
    out: list[str] = []
    position = 0
    while (start := text.find(OPEN, position)) != -1:
        before = text[position:start]
        body_start = start + len(OPEN)
        if text[body_start : body_start + 1] == "-" and _spaced(text, body_start + 1):
            before = before.rstrip(_SPACE)
            body_start += 1
        end = _action_end(text, body_start)
        if end == -1:
            raise TemplateError(
                f"job spec template: unclosed action at line {_line(text, start)}",
                _HINT,
            )
        body, position = text[body_start:end], end + len(CLOSE)
        trim_after = body.endswith("-") and body[:-1].endswith(tuple(_SPACE))
        if trim_after:
            body = body[:-1]
        out += [before, _evaluate(body.strip(_SPACE), values, _line(text, start))]
        if trim_after:
            position = len(text) - len(text[position:].lstrip(_SPACE))
    out.append(text[position:])
    return "".join(out)


def _spaced(text: str, index: int) -> bool:
    return index < len(text) and text[index] in _SPACE


def _action_end(text: str, body_start: int) -> int:
    """Where the action's `}}` is (a comment's `*/}}` may hold `}}` before)."""
    if text.startswith("/*", body_start) or text.startswith("/*", body_start + 1):
        comment_end = text.find("*/", body_start)
        return -1 if comment_end == -1 else text.find(CLOSE, comment_end)
    return text.find(CLOSE, body_start)


def _evaluate(body: str, values: Mapping[str, str], line: int) -> str:
    if body.startswith("/*") and body.endswith("*/"):
        return ""
    field = _FIELD.fullmatch(body)
    env = _ENV_FIELD.fullmatch(body)
    if env is not None:
        raise TemplateError(
            f"job spec template: {{{{{body}}}}} at line {line}: environment "
            "variables are plain names",
            f"write {{{{.{env.group(1)}}}}} and pass -E '^{env.group(1)}$'",
        )
    if field is None:
        raise TemplateError(
            f"job spec template: unsupported action {{{{{body}}}}} at line {line} "
            "(only {{.name}} values and comments are rendered)",
            _HINT,
        )
    name = field.group(1)
    if name not in values:
        raise TemplateError(
            f"job spec template: no value for {name!r} (line {line})",
            f"give it with -V {name}=VALUE, or {_HINT}",
        )
    return values[name]


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def parse_vars(given: Iterable[str]) -> dict[str, str]:
    """`-V` values: each `k=v` or comma-separated `k=v,k2=v2` (CSV quoting
    keeps a comma in a value: `-V '"msg=a, b"'`), later ones winning."""
    values: dict[str, str] = {}
    for text in given:
        for item in next(csv.reader([text]), []):
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CliError(
                    f"invalid --template-vars {item!r}: expected KEY=VALUE",
                    "e.g. -V name=world",
                )
            values[key] = value
    return values


def env_vars(pattern: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment variables whose names match `pattern` (`*`: all)."""
    if not pattern:
        return {}
    try:
        matcher = re.compile(".*" if pattern == "*" else pattern)
    except re.error as exc:
        raise CliError(
            f"invalid --template-envs {pattern!r}: {exc}",
            "give a regular expression, e.g. -E '^JOB_'",
        ) from None
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if matcher.search(k)}


def template_values(given: Iterable[str], env_pattern: str) -> dict[str, str]:
    """What a template may use: matching env vars, overridden by `-V`."""
    return {**env_vars(env_pattern), **parse_vars(given)}


__all__ = ["TemplateError", "env_vars", "parse_vars", "render", "template_values"]
