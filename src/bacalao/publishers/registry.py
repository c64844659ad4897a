"""The publisher registry: type name in job specs → plugin module.

    names()            every publisher type this build of bacalao has
    cli_forms()        how `-p` spells them, for the CLI's help
    load("s3")         the plugin module (imported on first use)

Adding a kind is one module (see `base`) and one line in `KINDS`. This
module imports only the standard library: the CLI reads it for `--help`
and `-p` checks, the API for validation, the node for what it offers.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Kind:
    """One publisher type: its spec name, its module, how `-p` spells it."""

    name: str
    module: str
    cli_form: str


KINDS: tuple[Kind, ...] = (
    Kind("ipfs", "ipfs", "ipfs"),
    Kind("local", "local", "local"),
    Kind("noop", "noop", "noop"),
    Kind("s3", "s3", "s3://BUCKET/KEY"),
    Kind("s3managed", "s3managed", "s3managed"),
)
_BY_NAME = {kind.name: kind for kind in KINDS}


def names() -> tuple[str, ...]:
    """Every publisher type name, as job specs spell it."""
    return tuple(kind.name for kind in KINDS)


def cli_forms() -> tuple[str, ...]:
    return tuple(kind.cli_form for kind in KINDS)


def load(name: str) -> ModuleType:
    """The plugin module of publisher type `name` (KeyError if unknown)."""
    return importlib.import_module(f"{__package__}.{_BY_NAME[name].module}")
