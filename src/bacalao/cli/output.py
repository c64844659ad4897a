"""Printing results: aligned tables, pretty JSON, YAML, times and short IDs.

`--output json` prints the API's JSON (pretty), `--output yaml` the same
data as YAML, and `table` (the default) an aligned table: bold headers on a
terminal (`--no-style` drops them; a pipe never gets them), long cells cut
to fit unless `--wide` asks for every character. `view_options` adds the
three flags to a command, which then receives a `View`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import click

FORMATS = ("table", "json", "yaml")
SHORT_ID = 10
NARROW_CELL = 48

F = TypeVar("F", bound=Callable[..., Any])


def output_option(formats: Sequence[str] = FORMATS) -> Callable[[F], F]:
    return click.option(
        "--output",
        type=click.Choice(list(formats)),
        default=formats[0],
        show_default=True,
        help="How to print the result.",
    )


@dataclass(frozen=True)
class View:
    """How a command prints: format, full cells or not, styled or not."""

    output: str = "table"
    wide: bool = False
    no_style: bool = False

    @property
    def structured(self) -> bool:
        return self.output != "table"

    def id(self, identifier: str) -> str:
        """An ID as this view shows it: whole when wide, short otherwise."""
        return identifier if self.wide else short(identifier)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
        return table(headers, rows, wide=self.wide, styled=not self.no_style)

    def echo(self, value: Any, as_table: Callable[[], str]) -> None:
        """Print `value` as JSON/YAML, or the text `as_table` makes."""
        click.echo(render(value, self.output) if self.structured else as_table())


def view_options(formats: Sequence[str] = FORMATS) -> Callable[[F], F]:
    """--output, --wide, --no-style; the command gets them as `view: View`."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            view = View(
                kwargs.pop("output"), kwargs.pop("wide"), kwargs.pop("no_style")
            )
            return command(*args, view=view, **kwargs)

        wrapped: Any = wrapper
        wrapped = click.option(
            "--no-style", is_flag=True, help="Plain table text, no bold headers."
        )(wrapped)
        wrapped = click.option(
            "--wide", is_flag=True, help="Whole IDs and cells, nothing cut."
        )(wrapped)
        result: F = output_option(formats)(wrapped)
        return result

    return decorate


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


def _cell(value: object, wide: bool) -> str:
    text = " ".join(str(value).split()) if not wide else str(value)
    if wide or len(text) <= NARROW_CELL:
        return text
    return text[: NARROW_CELL - 1] + "…"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    wide: bool = False,
    styled: bool = False,
) -> str:
    """An aligned table: upper-case headers (bold if `styled`; a pipe drops
    the styling), two spaces between columns, cells cut unless `wide`."""
    cells = [[h.upper() for h in headers], *[[_cell(c, wide) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    if styled:
        lines[0] = click.style(lines[0], bold=True)
    return "\n".join(lines)


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
    "View",
    "as_data",
    "clock",
    "key_values",
    "output_option",
    "render",
    "short",
    "table",
    "to_json",
    "to_yaml",
    "view_options",
    "when",
]
