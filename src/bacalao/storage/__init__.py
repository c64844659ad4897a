"""Input sources: making a task's inputs available on the compute node.

Each source type is one plugin module (see `base` for the interface and
`registry` for the list); `sources.Sources` is the set a node built, which
bids (`refusal`) and stages (`stage`). Source types:

    inline                     a `data:` URL in the spec, written to a file
    local / localDirectory     a path of this node, bound where it is, if
                               the operator allow-listed it (see `local`)
    urlDownload                an HTTP(S) GET on the compute node (`url`)
    s3                         an object, a prefix or a filtered prefix (`s3`)
    ipfs                       a CID, fetched over bitswap (`ipfs`)

This package imports nothing heavy until a name below is used, so the CLI
can read `registry` for its help text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .exceptions import StorageError
    from .staging import SUPPORTED, refusal, stage_inputs, supported

__all__ = ["SUPPORTED", "StorageError", "refusal", "stage_inputs", "supported"]


def __getattr__(name: str) -> Any:
    if name == "StorageError":
        from .exceptions import StorageError

        return StorageError
    if name in __all__:
        from . import staging

        return getattr(staging, name)
    raise AttributeError(name)
