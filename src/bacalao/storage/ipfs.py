"""The `ipfs` input source: a CID, fetched over bitswap before the task starts.

Params as Bacalhau's: `CID` (v0 `Qm…` or v1). The whole DAG is fetched
into the node's blockstore (from the nodes that hold it, connected peers
and the operator's `--ipfs-peer`s, several at once) and pinned, then
written to the input's folder and shown read-only at the target: a file
at `/inputs/<cid>` by default, or the directory tree. A CID nobody
provides fails the execution once no block arrived for the node's
`ipfs_fetch_timeout`, naming the CID.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..dataplane import PluginContext
from ..ipfs.cid import CID, InvalidCID
from ..ipfs.exceptions import IpfsError
from ..ipfs.peer import IpfsPeer
from ..models.job import InputSource
from .base import InputSourcePlugin, ParamError, StagedInput, lower_params
from .exceptions import StorageError


def check_params(params: dict[str, Any]) -> ParamError | None:
    cid = lower_params(params).get("cid")
    if not isinstance(cid, str) or not cid.strip():
        return ParamError("CID", "an ipfs source needs a CID")
    try:
        CID.parse(cid)
    except InvalidCID as exc:
        return ParamError("CID", str(exc))
    return None


class IpfsSource:
    """Stages CIDs from the node's own IPFS peer."""

    def __init__(self, peer: IpfsPeer | None) -> None:
        self._peer = peer

    async def check(self) -> str | None:
        return None if self._peer is not None else "this node runs no IPFS peer"

    def refusal(self, source: InputSource) -> str | None:
        problem = check_params(source.Source.Params)
        return None if problem is None else f"input {source.Target}: {problem.message}"

    async def stage(self, source: InputSource, dest: Path) -> StagedInput:
        problem = check_params(source.Source.Params)
        if problem is not None or self._peer is None:
            why = problem.message if problem else "this node runs no IPFS peer"
            raise StorageError(f"input {source.Target}: {why}")
        cid = CID.parse(str(lower_params(source.Source.Params)["cid"]))
        try:
            await self._peer.fetch(cid)
            await self._peer.export(cid, dest / str(cid))
        except IpfsError as exc:
            raise StorageError(f"input ipfs://{cid}: {exc}") from None
        return StagedInput(host_path=dest / str(cid), target=source.Target)


def build(ctx: PluginContext) -> InputSourcePlugin:
    return IpfsSource(ctx.ipfs)
