"""`bacalao swarm-key generate`: a new private-network key (swarm.key file).

Nodes started with `--swarm-key FILE` only talk to nodes holding the same
file. It uses only `bacalao.p2p.swarm_key` (standard library, no libp2p).
"""

from __future__ import annotations

from pathlib import Path

import click

from .errors import CliError


@click.group("swarm-key")
def swarm_key() -> None:
    """Private-network keys: one file shared by every node of a network."""


@swarm_key.command(
    "generate",
    epilog="""\b
Examples:
  bacalao swarm-key generate --output swarm.key
  bacalao serve --swarm-key swarm.key     # on every node of the network
  bacalao swarm-key generate > swarm.key  # the same, through stdout""",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the key to this new file (mode 0600) instead of stdout.",
)
def generate(output: Path | None) -> None:
    """Make a new random swarm key (go-libp2p/Kubo swarm.key format)."""
    from ..p2p.swarm_key import new_swarm_key, write_swarm_key

    text = new_swarm_key()
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_swarm_key(output, text)
    except FileExistsError:
        raise CliError(
            f"{output} already exists",
            "a network's key is never replaced in place: delete it first "
            "or choose another --output",
        ) from None
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(
        f"Wrote a new swarm key to {output}; start every node of the network "
        f"with --swarm-key {output} (keep it secret: it admits nodes)",
        err=True,
    )


__all__ = ["swarm_key"]
