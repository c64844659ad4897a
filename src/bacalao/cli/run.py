"""`bacalao docker run`, `bacalao wasm run` and the legacy `bacalao run`:
build a job from flags, then run it (see `progress`)."""

from __future__ import annotations

from functools import partial
from typing import Any

import click

from .context import api_options, client_for
from .errors import CliError
from .flags import GoFlagsCommand, download_flags, job_flags, runtime_flags, task_flags

WASM_DIR = "/app"
IMPORTS_DIR = "/app/imports"


def _task_args(args: tuple[str, ...]) -> list[str]:
    """The task's arguments; a leading `--` only separates them from the flags."""
    return list(args[1:] if args[:1] == ("--",) else args)


def _run(
    ctx: click.Context,
    engine: dict[str, Any],
    options: dict[str, Any],
    inputs: list[dict[str, Any]] | None = None,
) -> None:
    from .jobspec import JobFlags, job_spec, job_yaml, validated
    from .progress import RunOptions, submit_and_wait

    spec = job_spec(engine, JobFlags.from_options(options), inputs)
    if options["dry_run"]:
        click.echo(job_yaml(validated(spec)))
        return
    submit_and_wait(
        client_for(ctx),
        spec,
        RunOptions.from_options(options),
        prog=ctx.find_root().info_name or "bacalao",
        explain=partial(validated, spec),
    )


def _docker_options(command: Any) -> Any:
    for option in (
        api_options,
        click.option(
            "--entrypoint", multiple=True, help="Override the image's entrypoint."
        ),
        click.option(
            "-w", "--workdir", default="", help="Working directory in the container."
        ),
        download_flags,
        runtime_flags,
        task_flags,
        job_flags,
    ):
        command = option(command)
    return command


DOCKER_EXAMPLES = """\b
Examples:
  bacalao docker run busybox -- echo hello
  bacalao docker run --cpu 500m --memory 256Mb -e NAME=world busybox \\
      -- sh -c 'echo hello $NAME'
  bacalao docker run -i s3://bucket/data/:/data -o out:/outputs -p local --download \\
      busybox -- cp -r /data /outputs
  bacalao docker run --wait=false --id-only ubuntu:24.04 -- date
  bacalao docker run --dry-run busybox -- echo hi > job.yaml"""


@click.group()
def docker() -> None:
    """Run jobs in Docker containers."""


@docker.command("run", cls=GoFlagsCommand, epilog=DOCKER_EXAMPLES)
@_docker_options
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


@click.command(
    "run",
    cls=GoFlagsCommand,
    epilog="""\b
Examples:
  bacalao run busybox "echo hello"
  bacalao run --id-only ubuntu:24.04 "date -u"
  bacalao run busybox -- ls -la /""",
)
@_docker_options
@click.argument("image")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def legacy_run(
    ctx: click.Context,
    /,
    image: str,
    args: tuple[str, ...],
    workdir: str,
    entrypoint: tuple[str, ...],
    **options: Any,
) -> None:
    """Legacy form of `docker run`: IMAGE "CMD" (CMD split as a shell would)."""
    import shlex

    from .jobspec import docker_engine

    words = _task_args(args)
    if len(words) == 1:
        words = shlex.split(words[0])
    _run(ctx, docker_engine(image, words, entrypoint, workdir), options)


@click.group()
def wasm() -> None:
    """Run WebAssembly (WASI) modules as jobs."""


@wasm.command(
    "run",
    cls=GoFlagsCommand,
    epilog="""\b
Examples:
  bacalao wasm run hello.wasm
  bacalao wasm run --entry-point main -e GREETING=hi tool.wasm -- --verbose in.txt
  bacalao wasm run -I lib.wasm -U https://example.com/m.wasm app.wasm
  bacalao wasm run https://example.com/app.wasm
  bacalao wasm run QmXyz... -I bafkrei...       # modules added with `ipfs add`
  bacalao wasm run -i https://example.com/app.wasm:/app /app/app.wasm""",
)
@job_flags
@task_flags
@runtime_flags
@download_flags
@click.option(
    "--entry-point", default="_start", show_default=True, help="Function to call."
)
@click.option(
    "-I",
    "--import-module-volumes",
    "import_volumes",
    multiple=True,
    metavar="MODULE",
    help="A module to link (local file, CID, storage URI or --input target).",
)
@click.option(
    "-U",
    "--import-module-urls",
    "import_urls",
    multiple=True,
    metavar="URL",
    help="A module to link, downloaded from URL.",
)
@api_options
@click.argument("module")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def wasm_run(
    ctx: click.Context,
    /,
    module: str,
    args: tuple[str, ...],
    entry_point: str,
    import_volumes: tuple[str, ...],
    import_urls: tuple[str, ...],
    **options: Any,
) -> None:
    """Run the WASM MODULE with ARGS as a job, then print its output.

    MODULE is a local file (sent inline, landing at /app/<name>), a CID
    (fetched over IPFS), a URL or storage URI, or the target of an --input.
    ARGS are its argv.
    """
    from .inputs import module_source
    from .jobspec import JobFlags, flag_inputs, wasm_engine

    for url in import_urls:
        if not url.startswith(("http://", "https://")):
            raise CliError(
                f"invalid --import-module-urls {url!r}: not an http(s) URL",
                "give local modules with -I/--import-module-volumes",
            )
    inputs = flag_inputs(JobFlags.from_options(options))
    target, source = module_source(module, WASM_DIR, inputs)
    added = [source] if source else []
    imports = []
    for given in (*import_volumes, *import_urls):
        import_target, import_source = module_source(given, IMPORTS_DIR, inputs + added)
        imports.append(import_target)
        added += [import_source] if import_source else []
    engine = wasm_engine(target, _task_args(args), entry_point, imports)
    _run(ctx, engine, options, inputs + added)


__all__ = ["docker", "legacy_run", "wasm"]
