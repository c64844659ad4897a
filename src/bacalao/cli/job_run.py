"""`bacalao job run FILE|-`: run a job spec written in Bacalhau's format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .context import api_options, client_for
from .errors import CliError
from .flags import GoFlagsCommand, download_flags, runtime_flags


def read_spec(file: str | None) -> tuple[str, str]:
    """The spec's text and a name for it in messages: a file, or stdin."""
    if file in (None, "-"):
        if file is None and sys.stdin.isatty():
            raise CliError(
                "no job spec given", "name a YAML or JSON file, or pipe one in with -"
            )
        return sys.stdin.read(), "stdin"
    path = Path(file)
    try:
        return path.read_text(), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise CliError(
            f"cannot read {path}: {reason}", "check the path of the job spec"
        ) from None


@click.command(
    "run",
    cls=GoFlagsCommand,
    context_settings={"allow_interspersed_args": True},
    epilog="""\b
Examples:
  bacalao job run examples/specs/hello-world.yaml
  bacalao job run --wait=false --id-only job.json
  bacalao job run -V greeting=hola,audience=all examples/specs/templated.yaml
  bacalao job run -E '^JOB_' job.yaml      # $JOB_* as {{.JOB_...}} values
  bacalao job run --no-template job.yaml   # leave {{ }} as it is
  cat job.yaml | bacalao job run -
  bacalao docker run --dry-run busybox -- echo hi | bacalao job run -""",
)
@runtime_flags
@download_flags
@click.option(
    "-V",
    "--template-vars",
    multiple=True,
    metavar="KEY=VALUE",
    help="A value for {{.KEY}} in the spec (repeatable, or comma-separated).",
)
@click.option(
    "-E",
    "--template-envs",
    default="",
    metavar="REGEX",
    help="Environment variables whose names match REGEX are template values "
    "too ('*': all).",
)
@click.option(
    "--no-template",
    is_flag=True,
    help="Read the spec as it is: no {{ }} placeholders are replaced.",
)
@click.option("--hide-warnings", is_flag=True, help="Do not print the node's warnings.")
@click.option(
    "--force",
    is_flag=True,
    help="Submit even if a job of this name exists with the same spec.",
)
@api_options
@click.argument("file", required=False, metavar="FILE|-")
@click.pass_context
def run(ctx: click.Context, /, file: str | None, **options: Any) -> None:
    """Run the job spec in FILE (YAML or JSON; `-` or a pipe: stdin).

    Specs written for Bacalhau run unchanged; keys match case-insensitively.
    The spec is a template first, as Bacalhau's is: {{.name}} takes its
    value from -V name=VALUE or an environment variable picked with -E.
    """
    from .jobspec import job_yaml
    from .progress import RunOptions, submit_and_wait
    from .specfile import load_spec

    text, source = read_spec(file)
    if not options["no_template"]:
        from .template import render, template_values

        values = template_values(options["template_vars"], options["template_envs"])
        text = render(text, values)
    job = load_spec(text, source)
    if options["dry_run"]:
        click.echo(job_yaml(job))
        return
    submit_and_wait(
        client_for(ctx),
        job,
        RunOptions.from_options(options),
        prog=ctx.find_root().info_name or "bacalao",
    )


__all__ = ["read_spec", "run"]
