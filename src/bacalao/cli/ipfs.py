"""`bacalao ipfs add|get|cat|ls|pin ls|gc`: the node's IPFS peer.

Every node is an IPFS peer on its own libp2p host (bitswap; Kubo's CIDs),
so data added on one node can be fetched on any other, or by Kubo.
These commands talk to the node the CLI targets; `get` and `cat` fetch
from the network what that node does not hold yet.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .context import api_options, client_for
from .errors import CliError


@click.group()
def ipfs() -> None:
    """Add and fetch data by CID through the node's IPFS peer."""


@ipfs.command(
    "add",
    epilog="""\b
Examples:
  bacalao ipfs add data.csv
  bacalao ipfs add ./dataset --cid-version 1
  bacalao docker run -i ipfs://$(bacalao ipfs add -q data.csv) busybox -- ls /inputs""",
)
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--cid-version",
    type=click.IntRange(0, 1),
    default=0,
    show_default=True,
    help="0: Kubo's default CIDs (Qm...); 1: raw leaves, base32 (bafy...).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the CID.")
@api_options
@click.pass_context
def add(ctx: click.Context, path: Path, cid_version: int, quiet: bool) -> None:
    """Add a file or directory to the node and pin it; the CID is the last line."""
    from ..client.ipfs import add as add_path

    answer = add_path(client_for(ctx), path, cid_version=cid_version)
    if not quiet:
        click.echo(f"added {answer['CID']} {path.name} ({answer['Bytes']} bytes sent)")
    click.echo(answer["CID"])


@ipfs.command(
    "get",
    epilog="""\b
Examples:
  bacalao ipfs get QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN
  bacalao ipfs get bafybei... --output ./results""",
)
@click.argument("cid")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the file or folder (default: ./CID).",
)
@click.option(
    "--download-timeout-secs",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Give up after this long without data.",
)
@api_options
@click.pass_context
def get(
    ctx: click.Context, cid: str, output: Path | None, download_timeout_secs: int
) -> None:
    """Fetch a CID (file or directory) through the node into a local path."""
    from ..client.ipfs import get_url
    from .results import fetch

    target = output or Path(cid)
    if target.exists():
        raise CliError(f"{target} exists", "choose another --output")
    client = client_for(ctx)
    client.timeout = download_timeout_secs
    url = get_url(client, cid, name=target.name, timeout=download_timeout_secs)
    live = bool(getattr(sys.stderr, "isatty", lambda: False)())
    fetch(client, url, target.parent if target.parent != Path() else Path.cwd(), live)
    click.echo(f"Saved {cid} to {target}")


@ipfs.command(
    "cat",
    epilog="""\b
Examples:
  bacalao ipfs cat QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN
  bacalao ipfs cat bafkrei... > data.csv""",
)
@click.argument("cid")
@api_options
@click.pass_context
def cat(ctx: click.Context, cid: str) -> None:
    """Print a file's bytes."""
    from ..client.ipfs import cat as cat_file

    out = sys.stdout.buffer
    for chunk in cat_file(client_for(ctx), cid):
        out.write(chunk)
    out.flush()


@ipfs.command(
    "ls",
    epilog="""\b
Examples:
  bacalao ipfs ls QmDirectory...
  bacalao --api-port 21002 ipfs ls QmDirectory...   # fetched from the network""",
)
@click.argument("cid")
@api_options
@click.pass_context
def ls(ctx: click.Context, cid: str) -> None:
    """List a directory: CID, size and name of each entry."""
    from ..client.ipfs import ls as list_dir

    for entry in list_dir(client_for(ctx), cid)["Entries"]:
        name = entry["Name"] + ("/" if entry["Type"] == "directory" else "")
        click.echo(f"{entry['CID']} {entry['Size']:>12} {name}")


@ipfs.group("pin")
def pin() -> None:
    """What the node keeps (everything it added or published)."""


@pin.command(
    "ls",
    epilog="""\b
Examples:
  bacalao ipfs pin ls""",
)
@api_options
@click.pass_context
def pin_ls(ctx: click.Context) -> None:
    """List the pinned CIDs (with the execution or file they came from)."""
    from ..client.ipfs import pins

    for item in pins(client_for(ctx)):
        click.echo(f"{item['CID']} recursive {item['Name']}".rstrip())


@ipfs.command(
    "gc",
    epilog="""\b
Examples:
  bacalao ipfs gc""",
)
@api_options
@click.pass_context
def gc(ctx: click.Context) -> None:
    """Delete every block no pin reaches."""
    from ..client.ipfs import gc as collect

    result = collect(client_for(ctx))
    click.echo(f"removed {result['Blocks']} blocks ({result['Bytes']} bytes)")


__all__ = ["ipfs"]
