"""The `ipfs` publisher, the default: results added to the node's IPFS peer.

The results folder (stdout, stderr, exitCode, one folder per result
path) is added as a UnixFS directory with Kubo's default CIDs (CIDv0) and
pinned, so the node serves it over bitswap to any peer, Kubo included.
The published result is Bacalhau's `{Type: ipfs, Params: {CID: ...}}`;
`bacalao job get` fetches it through the node it asks. No params.
"""

from __future__ import annotations

from ..dataplane import PluginContext
from ..ipfs.exceptions import IpfsError
from ..ipfs.peer import IpfsPeer
from ..models.job import SpecConfig
from .base import ParamError, Publisher, PublishRequest
from .exceptions import PublishError


def check_params(params: dict[str, object]) -> ParamError | None:
    return None


class IpfsPublisher:
    """Adds results to this node's blockstore and pins them."""

    def __init__(self, peer: IpfsPeer | None) -> None:
        self._peer = peer

    async def check(self) -> str | None:
        return None if self._peer is not None else "this node runs no IPFS peer"

    def refusal(self, spec: SpecConfig) -> str | None:
        return None

    async def publish(self, request: PublishRequest) -> SpecConfig:
        if self._peer is None:
            raise PublishError("this node runs no IPFS peer")
        try:
            imported = await self._peer.add(
                request.results_dir, name=request.execution_id, include_hidden=True
            )
        except IpfsError as exc:
            raise PublishError(f"could not add the results to IPFS: {exc}") from None
        return SpecConfig(Type="ipfs", Params={"CID": str(imported.cid)})


def build(ctx: PluginContext) -> Publisher:
    return IpfsPublisher(ctx.ipfs)
