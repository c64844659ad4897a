"""IPFS on in-process swarms: results published by default, inputs by CID,
and data locality (the node that holds a job's input runs it)."""

from __future__ import annotations

import io
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import trio

from bacalao.node import NodeHandle

from .conftest import Devstack, apis


def noop_with_input(cid: str) -> dict[str, Any]:
    source = {"Source": {"Type": "ipfs", "Params": {"CID": cid}}, "Target": "/data"}
    return {
        "Type": "batch",
        "Tasks": [{"Engine": {"Type": "noop"}, "InputSources": [source]}],
    }


async def holders_seen(viewer: NodeHandle, holder: NodeHandle, cid: str) -> None:
    with trio.fail_after(20):
        while True:
            info = viewer.node.nodes.get(holder.node_id)
            if info is not None and cid in info.HeldCIDs:
                return
            await trio.sleep(0.05)


async def test_the_node_holding_the_input_runs_the_job(
    devstack: Devstack, tmp_path: Path
) -> None:
    data = tmp_path / "data.txt"
    data.write_text("where the data is\n")
    async with devstack(3) as nodes:
        holder = nodes[2]
        imported = await holder.node.ipfs.add(data)
        cid = str(imported.cid)
        await holders_seen(nodes[0], holder, cid)
        api = apis(nodes)[0]
        job_id = await api.submit(noop_with_input(cid))
        done = await api.wait_for(job_id)
        assert done["Job"]["State"]["StateType"] == "Completed", done
        [execution] = done["Executions"]["Items"]
        assert execution["NodeID"] == holder.node_id
        why = [
            h["Event"]["Message"]
            for h in done["History"]["Items"]
            if "Requested execution" in h["Event"]["Message"]
        ]
        assert why == [
            f"Requested execution on {holder.node_id[-8:]} "
            f"(it holds the input ipfs://{cid})"
        ]


async def test_results_are_published_to_ipfs_and_fetched_by_another_node(
    devstack: Devstack,
) -> None:
    async with devstack(2) as nodes:
        api, other = apis(nodes)
        job_id = await api.submit(
            {"Type": "batch", "Tasks": [{"Engine": {"Type": "noop"}}]}
        )
        done = await api.wait_for(job_id)
        [execution] = done["Executions"]["Items"]
        result = execution["PublishedResult"]
        assert result["Type"] == "ipfs"
        cid = result["Params"]["CID"]
        url = f"{other.base}/api/v1/ipfs/get/{cid}?name="
        archive = await trio.to_thread.run_sync(
            lambda: urllib.request.urlopen(url, timeout=30).read()
        )
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            assert {"stdout", "stderr", "exitCode"} <= set(tar.getnames())
        pinned = nodes[1].node.ipfs.held()
        assert cid in pinned
