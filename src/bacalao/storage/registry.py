"""The input-source registry: type name in job specs → plugin module.

    names()            every source type this build of bacalao can stage
    cli_forms()        how `-i` spells them, for the CLI's help
    load("s3")         the plugin module (imported on first use)

Adding a kind is one module (see `base`) and one line in `KINDS`. This
module imports only the standard library: the CLI reads it for `--help`,
the API for validation, the node for what it offers and bids on.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Kind:
    """One source type: its spec name, its module, how `-i` spells it."""

    name: str
    module: str
    cli_form: str = ""


KINDS: tuple[Kind, ...] = (
    Kind("inline", "inline"),
    Kind("local", "local", "file:///PATH"),
    Kind("localDirectory", "local"),
    Kind("urlDownload", "url", "http(s)://URL"),
    Kind("s3", "s3", "s3://BUCKET/KEY"),
    Kind("ipfs", "ipfs", "ipfs://CID"),
)
_BY_NAME = {kind.name: kind for kind in KINDS}


def names() -> tuple[str, ...]:
    """Every source type name, as job specs spell it."""
    return tuple(kind.name for kind in KINDS)


def cli_forms() -> tuple[str, ...]:
    """The URI forms `-i` takes, e.g. `s3://BUCKET/KEY`."""
    return tuple(kind.cli_form for kind in KINDS if kind.cli_form)


def kind(name: str) -> Kind | None:
    return _BY_NAME.get(name)


def load(name: str) -> ModuleType:
    """The plugin module of source type `name` (KeyError if unknown)."""
    return importlib.import_module(f"{__package__}.{_BY_NAME[name].module}")
