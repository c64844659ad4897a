"""Printing results: aligned tables, CSV, JSON, YAML, times and short IDs.

As Bacalhau's CLI: `--output json` prints compact JSON (`--pretty`
indents it), `--output yaml` the same data as YAML, `--output csv` a
table's rows as CSV, and `table` (the default) an aligned table: bold
headers on a terminal (`--no-style` drops them; a pipe never gets them),
long cells cut to fit unless `--wide` asks for every character,
`--hide-header` without its header row. A list command prints a JSON
array of its items (`View.echo_list`), so `... --output json | jq '.[]'`
works. `view_options` adds the flags to a command, which then receives a
`View`.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

import click

FORMATS = ("table", "json", "yaml")
LIST_FORMATS = ("table", "csv", "json", "yaml")
SHORT_ID = 10
NARROW_CELL = 48

F = TypeVar("F", bound=Callable[..., Any])


def output_option(
    formats: Sequence[str] = FORMATS, *, optional: bool = False
) -> Callable[[F], F]:
    """--output, one of `formats` (default: the first; `optional`: None,
    for a command whose default is text of its own)."""
    return click.option(
        "--output",
        type=click.Choice(list(formats)),
        default=None if optional else formats[0],
        show_default=not optional,
        help="How to print the result.",
    )


def pretty_option(command: F) -> F:
    """--pretty: indented JSON."""
    result: F = click.option("--pretty", is_flag=True, help="Indent JSON output.")(
        command
    )
    return result


@dataclass(frozen=True)
class View:
    """How a command prints: format, full cells or not, styled or not."""

    output: str = "table"
    wide: bool = False
    no_style: bool = False
    pretty: bool = False
    hide_header: bool = False

    @property
    def structured(self) -> bool:
        return self.output in ("json", "yaml")

    def id(self, identifier: str) -> str:
        """An ID as this view shows it: whole when wide, short otherwise."""
        return identifier if self.wide else short(identifier)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
        if self.output == "csv":
            return to_csv(headers, rows, header=not self.hide_header)
        return table(
            headers,
            rows,
            wide=self.wide,
            styled=not self.no_style,
            header=not self.hide_header,
        )

    def echo(self, value: Any, as_table: Callable[[], str]) -> None:
        """Print `value` as JSON/YAML, or the text `as_table` makes."""
        if self.structured:
            click.echo(render(value, self.output, pretty=self.pretty))
        else:
            click.echo(as_table())

    def echo_list(
        self,
        items: Sequence[Any],
        headers: Sequence[str],
        rows: Callable[[View], Sequence[Sequence[str]]],
    ) -> None:
        """A list command's items: a JSON/YAML array, or a table/CSV of `rows`
        (CSV cells are whole, as `--wide` would print them)."""
        view = replace(self, wide=True) if self.output == "csv" else self
        self.echo(list(items), lambda: view.table(headers, rows(view)))


def view_options(
    formats: Sequence[str] = FORMATS, *, tabular: bool = False
) -> Callable[[F], F]:
    """--output, --wide, --no-style, --pretty and (`tabular`: a list
    command, which also prints CSV) --hide-header; the command gets them as
    `view: View`."""
    names = ("output", "wide", "no_style", "pretty", "hide_header")
    formats = LIST_FORMATS if tabular and formats == FORMATS else formats

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            view = View(**{name: kwargs.pop(name, False) for name in names})
            return command(*args, view=view, **kwargs)

        wrapped: Any = wrapper
        if tabular:
            wrapped = click.option(
                "--hide-header", is_flag=True, help="Do not print the column headers."
            )(wrapped)
        wrapped = pretty_option(wrapped)
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
    if dump is not None:
        return dump(mode="json", by_alias=True)
    if isinstance(value, list | tuple):
        return [as_data(item) for item in value]
    return value


def to_json(value: Any, *, pretty: bool = True) -> str:
    if not pretty:
        return json.dumps(as_data(value), ensure_ascii=False, separators=(",", ":"))
    return json.dumps(as_data(value), indent=2, ensure_ascii=False)


def to_yaml(value: Any) -> str:
    import yaml

    text: str = yaml.safe_dump(as_data(value), sort_keys=False, allow_unicode=True)
    return text.rstrip("\n")


def render(value: Any, fmt: str, *, pretty: bool = True) -> str:
    """`value` as JSON (compact unless `pretty`) or YAML (callers handle
    `table` themselves)."""
    return to_yaml(value) if fmt == "yaml" else to_json(value, pretty=pretty)


def to_csv(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, header: bool = True
) -> str:
    """Rows as CSV (upper-case headers first unless not `header`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow([h.upper() for h in headers])
    writer.writerows([[str(c) for c in row] for row in rows])
    return buffer.getvalue().rstrip("\n")


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
    header: bool = True,
) -> str:
    """An aligned table: upper-case headers (bold if `styled`; a pipe drops
    the styling; none unless `header`), two spaces between columns, cells
    cut unless `wide`."""
    cells = [[h.upper() for h in headers], *[[_cell(c, wide) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    if styled:
        lines[0] = click.style(lines[0], bold=True)
    return "\n".join(lines if header else lines[1:])


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
    "LIST_FORMATS",
    "View",
    "as_data",
    "clock",
    "key_values",
    "output_option",
    "pretty_option",
    "render",
    "short",
    "table",
    "to_csv",
    "to_json",
    "to_yaml",
    "view_options",
    "when",
]
