"""The input-source plugin interface: how a compute node stages one input.

One module per kind (`inline`, `local`, `url`, `s3`), listed in
`registry`. Each module has

    check_params(params) -> ParamError | None   pure: is the spec well formed?
    build(ctx: PluginContext) -> InputSource    the plugin of this node

and the plugin it builds has a `check()` (can it work here at all: None or
why not), a pure `refusal(source)` for bidding, and `stage(source, dest)`,
which fills the empty folder `dest` (or points elsewhere, as `local` does)
and returns the `StagedInput` an executor mounts. A failed `stage` raises
`StorageError` naming the source and the reason; the caller removes
whatever it left in `dest`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..models.job import InputSource


@dataclass(frozen=True)
class StagedInput:
    """An input made available on this machine, to be shown at `target`."""

    host_path: Path
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class ParamError:
    """A source's params are wrong: which one (e.g. `Bucket`) and why."""

    param: str
    message: str


class InputSourcePlugin(Protocol):
    """One kind of input source, as built for this node."""

    async def check(self) -> str | None:
        """None when this node can stage such sources, else why not."""
        ...

    def refusal(self, source: InputSource) -> str | None:
        """Why this node will not stage `source` (no I/O), or None."""
        ...

    async def stage(self, source: InputSource, dest: Path) -> StagedInput:
        """Make `source` available; `dest` is an empty folder it may fill."""
        ...


def lower_params(params: dict[str, Any]) -> dict[str, Any]:
    """Params keyed by lower-case name (specs spell them either way)."""
    return {k.lower(): v for k, v in params.items()}


def as_bool(value: Any) -> bool:
    """A spec's boolean, given as a bool or as text ("true", "1")."""
    return value is True or str(value).strip().lower() in ("true", "1", "t", "yes")


def tree_bytes(folder: Path) -> int:
    """The bytes of the regular files under `folder` (links not followed;
    0 if it is missing). Blocking: call it in a thread."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
    return total
