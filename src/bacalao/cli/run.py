"""`bacalao docker run` and `bacalao wasm run`: build a job from flags, run it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .context import api_options, client_for
from .errors import CliError
from .flags import GoFlagsCommand, job_flags, runtime_flags, task_flags

MAX_INLINE_MODULE = 7 * 1024 * 1024  # base64 of it must fit the API's 10 MB body


def _task_args(args: tuple[str, ...]) -> list[str]:
    """The task's arguments; a leading `--` only separates them from the flags."""
    return list(args[1:] if args[:1] == ("--",) else args)


def _run(
    ctx: click.Context, engine: dict[str, Any], options: dict[str, Any], **extra: Any
) -> None:
    from .jobspec import JobFlags, build_job, job_yaml
    from .progress import RunOptions, submit_and_wait

    job = build_job(engine, JobFlags.from_options(options), **extra)
    if options["dry_run"]:
        click.echo(job_yaml(job))
        return
    run = RunOptions(
        wait=options["wait"],
        wait_timeout=options["wait_timeout_secs"],
        id_only=options["id_only"],
    )
    submit_and_wait(
        client_for(ctx), job, run, prog=ctx.find_root().info_name or "bacalao"
    )


@click.group()
def docker() -> None:
    """Run jobs in Docker containers."""


@docker.command(
    "run",
    cls=GoFlagsCommand,
    epilog="""\b
Examples:
  bacalao docker run busybox -- echo hello
  bacalao docker run --cpu 500m --memory 256Mb -e NAME=world busybox \\
      -- sh -c 'echo hello $NAME'
  bacalao docker run --wait=false --id-only ubuntu:24.04 -- date
  bacalao docker run --dry-run busybox -- echo hi > job.yaml""",
)
@job_flags
@task_flags
@runtime_flags
@click.option("-w", "--workdir", default="", help="Working directory in the container.")
@click.option(
    "--entrypoint", multiple=True, help="Override the image's entrypoint (repeatable)."
)
@api_options
@click.argument("image")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def docker_run(
    ctx: click.Context,
    /,
    image: str,
    args: tuple[str, ...],
    workdir: str,
    entrypoint: tuple[str, ...],
    **options: Any,
) -> None:
    """Run IMAGE with ARGS as a job, wait for it and print its output.

    Everything after IMAGE (or after `--`) is the command and its arguments.
    """
    from .jobspec import docker_engine

    engine = docker_engine(image, _task_args(args), entrypoint, workdir)
    _run(ctx, engine, options)


@click.group()
def wasm() -> None:
    """Run WebAssembly (WASI) modules as jobs."""


@wasm.command(
    "run",
    cls=GoFlagsCommand,
    epilog="""\b
Examples:
  bacalao wasm run hello.wasm
  bacalao wasm run --entry-point main -e GREETING=hi tool.wasm -- --verbose input.txt
  bacalao wasm run --memory 64Mb --timeout 30 --id-only app.wasm""",
)
@job_flags
@task_flags
@runtime_flags
@click.option(
    "--entry-point", default="_start", show_default=True, help="Function to call."
)
@api_options
@click.argument("module", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def wasm_run(
    ctx: click.Context,
    /,
    module: Path,
    args: tuple[str, ...],
    entry_point: str,
    **options: Any,
) -> None:
    """Send the local MODULE inline and run it with ARGS, then print its output.

    The module lands at /app/<file name> in the task; ARGS are its argv.
    """
    from .jobspec import wasm_engine, wasm_inputs

    try:
        data = module.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {module}: {exc.strerror or exc}") from None
    if len(data) > MAX_INLINE_MODULE:
        raise CliError(
            f"{module} is {len(data) // 1024 // 1024} MB: too large to send inline "
            f"(at most {MAX_INLINE_MODULE // 1024 // 1024} MB)"
        )
    target, source = wasm_inputs(module.name, data)
    _run(
        ctx,
        wasm_engine(target, _task_args(args), entry_point),
        options,
        inputs=[source],
    )


__all__ = ["docker", "wasm"]
