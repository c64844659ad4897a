"""The `bacalao` command: a thin client of a node's HTTP API, plus `serve`.

Only click is imported up front; each command imports the client, the
models or the node when it runs, so `bacalao --help` and
`bacalao version --client` start in a few tens of milliseconds.

Every failure ends as one `Error: ...` line on stderr and a non-zero exit
(2 for a usage mistake, 1 otherwise, 130 on Ctrl+C) — never a traceback,
unless BACALAO_DEBUG=1 asks for one.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .agent import agent, node_id
from .config_cmd import config
from .context import DEFAULT_HOST, DEFAULT_PORT, Target
from .errors import as_cli_error, debugging
from .ipfs import ipfs
from .jobs import job
from .legacy import legacy_describe, legacy_get, legacy_list
from .nodes import node
from .run import docker, legacy_run, wasm
from .serve import devstack, serve
from .swarm_key import swarm_key
from .version import version


class BacalaoGroup(click.Group):
    """The root group: turns every failure into one line and an exit status."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "bacalao"
            click.echo(
                f"Error: {exc.format_message()} (see '{where} --help')", err=True
            )
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(141)
        except Exception as exc:
            if debugging():
                raise
            as_cli_error(exc).show()
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(
    cls=BacalaoGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="""\b
Examples:
  bacalao devstack                          # three local nodes on ports 1234-1236
  bacalao docker run busybox -- echo hello  # run a job and print its output
  bacalao job run examples/specs/hello-world.yaml
  bacalao job list
  bacalao --api-port 21000 node list""",
)
@click.option(
    "--api-host",
    envvar=["BACALAO_API_HOST", "BACALHAU_API_HOST"],
    default=DEFAULT_HOST,
    show_default=True,
    help="Host of the node's API, or its URL (https://host:port) "
    "[env: BACALAO_API_HOST, else BACALHAU_API_HOST].",
)
@click.option(
    "--api-port",
    envvar=["BACALAO_API_PORT", "BACALHAU_API_PORT"],
    type=click.IntRange(1, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port of the node's API [env: BACALAO_API_PORT, else BACALHAU_API_PORT].",
)
@click.option(
    "--api-token",
    envvar="BACALAO_API_TOKEN",
    default=None,
    metavar="TOKEN",
    help="Token the node's API wants (sent as a bearer token) "
    "[env: BACALAO_API_TOKEN].",
)
@click.option(
    "--tls",
    is_flag=True,
    envvar="BACALAO_TLS",
    help="Talk https to the node (as an https:// --api-host does) [env: BACALAO_TLS].",
)
@click.option(
    "--cacert",
    envvar="BACALAO_CACERT",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Trust the node's certificate if this PEM file (e.g. its self-signed "
    "certificate) vouches for it [env: BACALAO_CACERT].",
)
@click.option(
    "--insecure",
    is_flag=True,
    envvar="BACALAO_INSECURE",
    help="Do not check the node's certificate (https only; for testing).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    api_host: str,
    api_port: int,
    api_token: str | None,
    tls: bool,
    cacert: str | None,
    insecure: bool,
) -> None:
    """bacalao: run compute jobs on a peer-to-peer network (Bacalhau's API)."""
    source = ctx.get_parameter_source
    explicit = any(
        source(name) == click.core.ParameterSource.COMMANDLINE
        for name in ("api_host", "api_port")
    )
    target = Target(
        port=api_port,
        explicit=explicit,
        token=api_token or None,
        tls=tls,
        cacert=cacert,
        insecure=insecure,
    )
    target.set_host(api_host)
    ctx.obj = target


for command in (
    docker,
    wasm,
    job,
    node,
    agent,
    config,
    serve,
    devstack,
    swarm_key,
    ipfs,
    version,
):
    cli.add_command(command)
cli.add_command(node_id, "id")
for name, legacy in (
    ("run", legacy_run),
    ("list", legacy_list),
    ("describe", legacy_describe),
    ("get", legacy_get),
):
    cli.add_command(legacy, name)


def main(argv: list[str] | None = None) -> None:
    """The console script `bacalao`."""
    cli.main(args=argv, prog_name="bacalao")


__all__ = ["cli", "main"]
