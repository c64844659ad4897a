"""Printing results: aligned tables, pretty JSON, YAML, times and short IDs.

`--output json` prints the API's JSON (pretty), `--output yaml` the same
data as YAML, and `table` (the default) a plain aligned table that reads
well in a terminal and in a pipe alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import click

FORMATS = ("table", "json", "yaml")
SHORT_ID = 10

F = TypeVar("F", bound=Callable[..., Any])


def output_option(formats: Sequence[str] = FORMATS) -> Callable[[F], F]:
    return click.option(
        "--output",
        type=click.Choice(list(formats)),
        default=formats[0],
        show_default=True,
        help="How to print the result.",
    )


def as_data(value: Any) -> Any:
    """Plain JSON data of a model (by its API field names) or of plain data."""
    dump = getattr(value, "model_dump", None)
    return dump(mode="json", by_alias=True) if dump is not None else value


def to_json(value: Any) -> str:
    return json.dumps(as_data(value), indent=2, ensure_ascii=False)


def to_yaml(value: Any) -> str:
    import yaml

    text: str = yaml.safe_dump(as_data(value), sort_keys=False, allow_unicode=True)
    return text.rstrip("\n")


def render(value: Any, fmt: str) -> str:
    """`value` as JSON or YAML (callers handle `table` themselves)."""
    return to_yaml(value) if fmt == "yaml" else to_json(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An aligned table with upper-case headers and two spaces between columns."""
    cells = [[h.upper() for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells
    ]
    return "\n".join(line.rstrip() for line in lines)


def key_values(pairs: Sequence[tuple[str, str]]) -> str:
    width = max((len(k) for k, _ in pairs), default=0)
    return "\n".join(f"{k.ljust(width)} = {v}" for k, v in pairs)


def short(identifier: str) -> str:
    """The prefix people read and type, e.g. `j-5f0e3b2a`."""
    return identifier[:SHORT_ID]


def when(ns: int, *, date: bool = True) -> str:
    """Unix nanoseconds as local time (`-` for zero)."""
    if not ns:
        return "-"
    moment = datetime.fromtimestamp(ns / 1e9)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")


def clock(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S")


__all__ = [
    "FORMATS",
    "as_data",
    "clock",
    "key_values",
    "output_option",
    "render",
    "short",
    "table",
    "to_json",
    "to_yaml",
    "when",
]
