"""Flags shared by `docker run` and `wasm run`, named as Bacalhau's CLI names them.

`GoFlagsCommand` reads flags as Go's pflag (so `bacalhau`) does: anywhere
among the arguments until a bare `--` (`docker run busybox echo hi
--dry-run` is a dry run; an unknown flag before `--` is an error naming it,
and everything after `--` is the task's, dashes and all); `--flag=true|false`
for boolean flags (`--wait=false`); `-p=VALUE` as `-p VALUE` for every
short flag.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from ..publishers import registry as publishers
from ..storage import registry as sources

F = TypeVar("F", bound=Callable[..., Any])

NETWORKS = ("Default", "None", "Host", "Full", "HTTP", "Bridge")
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _apply(options: Sequence[Callable[[F], F]], command: F) -> F:
    for option in reversed(options):
        command = option(command)
    return command


def job_flags(command: F) -> F:
    """--name --namespace --priority --count --target --constraints -l/--labels."""
    return _apply(
        [
            click.option("--name", default="", help="Job name (default: its ID)."),
            click.option("--namespace", default="default", show_default=True),
            click.option("--priority", type=int, default=0, show_default=True),
            click.option(
                "--count",
                type=click.IntRange(min=0),
                default=None,
                help="How many nodes run the job [default: 1].",
            ),
            click.option(
                "--concurrency",
                type=click.IntRange(min=0),
                default=None,
                help="Deprecated: use --count.",
            ),
            click.option(
                "--target",
                type=click.Choice(["any", "all"]),
                default="any",
                show_default=True,
                help="any: run on --count nodes; all: on every matching node.",
            ),
            click.option(
                "--constraints",
                default="",
                metavar="SELECTOR",
                help="Node label selector, e.g. 'region=eu,gpu in (a100)'.",
            ),
            click.option(
                "-s",
                "--selector",
                default="",
                metavar="SELECTOR",
                help="Deprecated: use --constraints.",
            ),
            click.option(
                "-l",
                "--labels",
                multiple=True,
                metavar="K=V",
                help="Job label (repeatable, or comma-separated).",
            ),
        ],
        command,
    )


def task_flags(command: F) -> F:
    """Environment, outputs, publisher, resources, network and timeouts."""
    return _apply(
        [
            click.option("--task-name", default="main", show_default=True),
            click.option(
                "-e",
                "--env",
                multiple=True,
                metavar="K=V",
                help="Task env var (repeatable).",
            ),
            click.option(
                "-i",
                "--input",
                "inputs",
                multiple=True,
                metavar="SOURCE",
                help="Input data (repeatable): URI[:TARGET] or src=URI,dst=TARGET "
                "(opt=KEY=VALUE for options); URI is "
                + ", ".join(sources.cli_forms())
                + " (PATH: on the node).",
            ),
            click.option(
                "-o",
                "--output",
                "outputs",
                multiple=True,
                metavar="NAME:PATH",
                help="Publish the task's folder PATH as result NAME (repeatable).",
            ),
            click.option(
                "-p",
                "--publisher",
                default="",
                metavar="TYPE",
                help="Where results go: "
                + ", ".join(publishers.cli_forms())
                + " (opt=region=R,opt=endpoint=URL,opt=compress=true).",
            ),
            click.option("--cpu", default="", help="CPU to reserve, e.g. 500m or 2."),
            click.option(
                "--memory", default="", help="Memory to reserve, e.g. 512Mb or 1Gb."
            ),
            click.option("--disk", default="", help="Disk to reserve, e.g. 10Gb."),
            click.option("--gpu", default="", help="GPUs to reserve, e.g. 1."),
            click.option(
                "--network",
                type=click.Choice(NETWORKS, case_sensitive=False),
                default="Default",
                show_default=True,
                help="Network access of the task.",
            ),
            click.option(
                "--domain",
                "domains",
                multiple=True,
                help="Domain the task may reach with --network HTTP (repeatable).",
            ),
            click.option(
                "--timeout",
                type=click.IntRange(min=0),
                default=0,
                help="Seconds the job may take in all (0: the node's default).",
            ),
            click.option(
                "--queue-timeout",
                type=click.IntRange(min=0),
                default=0,
                help="Seconds the job may wait for a node (0: the node's default).",
            ),
        ],
        command,
    )


def runtime_flags(command: F) -> F:
    """--wait --wait-timeout-secs --id-only --follow --node-details --dry-run."""
    return _apply(
        [
            click.option(
                "--wait/--no-wait",
                default=True,
                show_default=True,
                help="Wait for the job to finish (--wait=false also works).",
            ),
            click.option(
                "--wait-timeout-secs",
                type=click.IntRange(min=1),
                default=600,
                show_default=True,
                help="Give up waiting after this many seconds.",
            ),
            click.option("--id-only", is_flag=True, help="Print only the job ID."),
            click.option(
                "-f",
                "--follow",
                is_flag=True,
                help="Stream the task's output while it runs.",
            ),
            click.option(
                "--node-details",
                is_flag=True,
                help="At the end, print each node's execution and results.",
            ),
            click.option(
                "--dry-run",
                is_flag=True,
                help="Print the job spec as YAML; do not submit.",
            ),
        ],
        command,
    )


def download_flags(command: F) -> F:
    """--download --output-dir."""
    return _apply(
        [
            click.option(
                "--download",
                is_flag=True,
                help="Download the results once the job completes.",
            ),
            click.option(
                "--output-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help="Where --download puts them (default: ./job-<short ID>).",
            ),
        ],
        command,
    )


def parse_go_bool(name: str, value: str, ctx: click.Context | None = None) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    message = f"invalid value {value!r} for {name}: expected true or false"
    raise click.UsageError(message, ctx=ctx)


def rewrite_go_flags(
    command: click.Command,
    args: list[str],
    ctx: click.Context | None = None,
    *,
    interspersed: bool = True,
) -> list[str]:
    """`--flag=false` -> `--no-flag` (or nothing) and `-x=VALUE` -> `-x VALUE`,
    up to `--` (or, not `interspersed`, up to the first positional)."""
    flags: dict[str, tuple[str, str | None]] = {}
    takes_value: set[str] = set()
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        if param.is_flag:
            off = param.secondary_opts[0] if param.secondary_opts else None
            flags.update({name: (param.opts[0], off) for name in param.opts})
        else:
            takes_value.update(param.opts)
    out: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--" or (not interspersed and (arg == "-" or arg[:1] != "-")):
            return out + args[index:]
        name, sep, value = arg.partition("=")
        if sep and name in flags:
            on, off = flags[name]
            chosen = on if parse_go_bool(name, value, ctx) else off
            out.extend([chosen] if chosen else [])
        elif sep and name in takes_value and not name.startswith("--"):
            out.extend([name, value])  # pflag's `-p=local`
        else:
            out.append(arg)
            if arg in takes_value:
                out.extend(args[index + 1 : index + 2])
                index += 1
        index += 1
    return out


class GoFlagsCommand(click.Command):
    """A command that reads its flags as pflag does (see the module's doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", {})
        kwargs["context_settings"].setdefault("allow_interspersed_args", True)
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        interspersed = bool(self.context_settings.get("allow_interspersed_args"))
        rewritten = rewrite_go_flags(self, list(args), ctx, interspersed=interspersed)
        try:
            return super().parse_args(ctx, rewritten)
        except click.NoSuchOption as exc:
            close = sorted(exc.possibilities or ())
            message = f"unknown flag {exc.option_name!r}"
            message += f" (did you mean {close[0]}?)" if close else ""
            if interspersed:
                message += "; arguments of the task that start with - go after `--`"
            raise click.NoSuchOption(exc.option_name, message, ctx=ctx) from None


__all__ = [
    "NETWORKS",
    "GoFlagsCommand",
    "download_flags",
    "job_flags",
    "parse_go_bool",
    "rewrite_go_flags",
    "runtime_flags",
    "task_flags",
]
