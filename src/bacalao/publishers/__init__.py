"""Publishers: where a finished execution's results folder is published.

`local` leaves the folder on this node and returns a `urlDownload` spec
pointing at this node's HTTP API, which serves it as a tar.gz (as
Bacalhau's local publisher does). `noop` publishes nothing. An empty
publisher type means the same as noop: results stay on the node and the
task's output is still returned in the execution's RunOutput.
"""

from __future__ import annotations

from pathlib import Path

from ..models.job import SpecConfig

SUPPORTED = ("local", "noop")


def publish(
    kind: str, execution_id: str, results_dir: Path, api_base: str
) -> SpecConfig:
    """The published-result spec of `results_dir` for publisher `kind`."""
    if kind == "local":
        return SpecConfig(
            Type="urlDownload",
            Params={"URL": f"{api_base}/api/v1/local/results/{execution_id}.tar.gz"},
        )
    return SpecConfig()
