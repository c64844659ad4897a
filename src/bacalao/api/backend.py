"""What the HTTP API needs from a node: the one seam between them.

`Backend` is implemented by the running node (`bacalao.node.NodeBackend`)
and, in API tests, by a fake. Errors are the ones in
`bacalao.orchestrator.exceptions`; the API turns them into Bacalhau's
error JSON with the matching status code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..events import Subscription
from ..models.execution import Execution
from ..models.history import JobHistory
from ..models.job import Job, SpecConfig
from ..models.node import BuildVersionInfo, NodeInfo, NodeState


@dataclass(frozen=True)
class Submitted:
    job_id: str
    evaluation_id: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LogLine:
    """One line of a task's output: stream 1 = stdout, 2 = stderr."""

    stream: int
    line: str


if TYPE_CHECKING:
    from .ipfs import IpfsApi


class Backend(Protocol):
    node_id: str

    def version(self) -> BuildVersionInfo: ...

    def node_info(self) -> NodeInfo: ...

    def debug_info(self) -> dict[str, object]: ...

    async def submit_job(self, job: Job, *, warnings: list[str]) -> Submitted:
        """Validate, store and schedule `job`; `InvalidJob` names the fault."""
        ...

    async def resolve_job_id(self, id_or_prefix: str) -> str:
        """The full ID; `JobNotFound` or `AmbiguousJobID`."""
        ...

    async def get_job(self, job_id: str) -> Job: ...

    async def list_jobs(
        self,
        *,
        namespace: str | None,
        order_by: str,
        reverse: bool,
        where: Callable[[Job], bool] | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Job], bool]:
        """A page of jobs, and whether more follow."""
        ...

    async def job_executions(self, job_id: str) -> list[Execution]: ...

    async def job_history(self, job_id: str) -> list[JobHistory]: ...

    async def stop_job(self, job_id: str, reason: str) -> str:
        """Stop the job; returns the evaluation ID ("" if already stopped)."""
        ...

    def list_nodes(self) -> list[NodeState]: ...

    def subscribe_events(self, job_id: str = "") -> Subscription:
        """Job and node changes from now on (only `job_id`'s, if given: a
        full ID); see `bacalao.events`."""
        ...

    async def update_node(self, node_id: str, action: str) -> None:
        """Approve, reject or delete a node (Bacalhau's node actions)."""
        ...

    def job_logs(
        self, job_id: str, execution_id: str, *, follow: bool, tail: bool
    ) -> AsyncIterator[LogLine]:
        """Output lines of one execution (`execution_id` may be a prefix, or
        empty for the job's latest), fetched from the node that ran it."""
        ...

    async def downloadable(self, spec: SpecConfig, node_id: str = "") -> SpecConfig:
        """A published result as a client can download it without
        credentials (S3: pre-signed URLs; IPFS: this node's `ipfs/get` URL,
        fetching from `node_id`, the node that published it); unchanged if
        nothing to do."""
        ...

    def ipfs(self) -> IpfsApi:
        """This node's IPFS peer; `Unavailable` if it runs none."""
        ...

    def ipfs_providers(self, named: list[str]) -> list[str]:
        """Peer IDs (or multiaddrs) of providers, as multiaddrs where this
        node knows their addresses, so bitswap can dial them."""
        ...

    async def result_folder(self, execution_id: str) -> Path:
        """The results folder of an execution that ran on this node (the
        local publisher serves it as a tar.gz); `NotFound` otherwise."""
        ...
