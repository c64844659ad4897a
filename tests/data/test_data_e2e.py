"""End to end: Docker jobs whose inputs come from S3 and URLs and whose
results go to S3, on a real swarm, through the HTTP API and `job get`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import trio

from bacalao.cli.results import download_results
from bacalao.client.api import Client

from ..integration.conftest import Api, Devstack, apis
from ..loopback_http import LoopbackServer
from .conftest import Moto

pytestmark = pytest.mark.docker

INPUTS = {
    "in/a.txt": b"alpha\n",
    "in/sub/b.bin": os.urandom(200_000),
    "elsewhere/c.txt": b"not staged\n",
}
COPY = "cp -r /inputs/. /outputs/ && echo copied"


def docker_job(
    command: str, inputs: list[dict[str, Any]], publisher: dict[str, Any]
) -> dict[str, Any]:
    return {
        "Type": "batch",
        "Count": 1,
        "Tasks": [
            {
                "Name": "main",
                "Engine": {
                    "Type": "docker",
                    "Params": {
                        "Image": "busybox:1.37.0",
                        "Entrypoint": ["sh", "-c", command],
                    },
                },
                "InputSources": inputs,
                "Publisher": publisher,
            }
        ],
    }


def s3_source(bucket: str, key: str, target: str = "/inputs") -> dict[str, Any]:
    return {
        "Source": {"Type": "s3", "Params": {"Bucket": bucket, "Key": key}},
        "Target": target,
    }


def execution(described: dict[str, Any]) -> dict[str, Any]:
    items = described["Executions"]["Items"]
    assert len(items) >= 1, described
    return dict(items[-1])


def on_disk(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file()
    }


async def test_s3_prefix_in_s3_out_and_job_get(
    devstack: Devstack, moto: Moto, s3_env: None, docker_engine: None, tmp_path: Path
):
    source = moto.bucket(INPUTS)
    target = moto.bucket()
    async with devstack(2, s3_endpoint=moto.endpoint) as nodes:
        api = apis(nodes)[0]
        publisher = {
            "Type": "s3",
            "Params": {"Bucket": target, "Key": "runs/{jobID}/{executionID}"},
        }
        job_id = await api.submit(
            docker_job(COPY, [s3_source(source, "in/")], publisher)
        )
        done = await api.wait_for(job_id, timeout=60)
        assert done["Job"]["State"]["StateType"] == "Completed", done
        ran = execution(done)
        prefix = f"runs/{job_id}/{ran['ID']}/"
        assert ran["PublishedResult"]["Params"]["Key"] == prefix
        stored = await trio.to_thread.run_sync(moto.objects, target)
        assert stored[prefix + "outputs/a.txt"] == INPUTS["in/a.txt"]
        assert stored[prefix + "outputs/sub/b.bin"] == INPUTS["in/sub/b.bin"]
        assert stored[prefix + "stdout"] == b"copied\n"
        assert not any("c.txt" in key for key in stored)

        await apis(nodes)[1].wait_for(job_id, timeout=30)  # any node answers
        client = Client("127.0.0.1", nodes[1].api_port)
        out = tmp_path / "got"
        await trio.to_thread.run_sync(download_results, client, job_id, out)
        assert on_disk(out) == {k.removeprefix(prefix): v for k, v in stored.items()}


async def test_compressed_results_and_job_get(
    devstack: Devstack, moto: Moto, s3_env: None, docker_engine: None, tmp_path: Path
):
    bucket = moto.bucket(INPUTS)
    async with devstack(1, s3_endpoint=moto.endpoint) as nodes:
        api = apis(nodes)[0]
        params = {"Bucket": bucket, "Key": "zipped/{jobID}", "Compress": True}
        inputs = [s3_source(bucket, "in/sub/b.bin", "/inputs")]
        job = docker_job(COPY, inputs, {"Type": "s3", "Params": params})
        job_id = await api.submit(job)
        done = await api.wait_for(job_id, timeout=60)
        assert done["Job"]["State"]["StateType"] == "Completed", done
        stored = await trio.to_thread.run_sync(moto.objects, bucket, "zipped/")
        assert list(stored) == [f"zipped/{job_id}.tar.gz"]
        out = tmp_path / "got"
        client = Client("127.0.0.1", nodes[0].api_port)
        await trio.to_thread.run_sync(download_results, client, job_id, out)
        assert (out / "outputs" / "b.bin").read_bytes() == INPUTS["in/sub/b.bin"]
        assert (out / "stdout").read_bytes() == b"copied\n"


async def test_bad_inputs_fail_the_execution_not_the_node(
    devstack: Devstack,
    moto: Moto,
    s3_env: None,
    docker_engine: None,
    web: LoopbackServer,
):
    bucket = moto.bucket(INPUTS)
    web.route("/big", body=b"x" * 10_000)
    async with devstack(1, s3_endpoint=moto.endpoint, url_max_bytes=1000) as nodes:
        api = apis(nodes)[0]
        cases = [
            (
                s3_source(bucket, "in/missing.txt"),
                f"s3://{bucket}/in/missing.txt: no such key",
            ),
            (
                s3_source("no-such-bucket-x", "k"),
                "s3://no-such-bucket-x/k: the bucket does not exist",
            ),
            (_url(web.url("/gone")), "HTTP 404"),
            (_url(web.url("/big")), "more than this node downloads"),
        ]
        for source, reason in cases:
            job_id = await api.submit(docker_job("true", [source], {}))
            done = await api.wait_for(job_id, timeout=60)
            assert done["Job"]["State"]["StateType"] == "Failed", done
            message = execution(done)["ComputeState"]["Message"]
            assert reason in message
            assert "Traceback" not in message
        # the node still runs jobs, and left no inputs behind
        job_id = await api.submit(
            docker_job("cat /inputs/a.txt", [s3_source(bucket, "in/a.txt")], {})
        )
        done = await api.wait_for(job_id, timeout=60)
        assert execution(done)["RunOutput"]["Stdout"] == "alpha\n"
        work = nodes[0].node.config.repo / "work"
        assert not work.exists() or not any(work.iterdir())


def _url(url: str) -> dict[str, Any]:
    return {
        "Source": {"Type": "urlDownload", "Params": {"URL": url}},
        "Target": "/inputs",
    }


async def test_a_url_input_is_staged_read_only(
    devstack: Devstack, no_s3_env: None, docker_engine: None, web: LoopbackServer
):
    url = web.route("/data/words.txt", body=b"one two three\n")
    async with devstack(1) as nodes:
        api = apis(nodes)[0]
        command = (
            "cat /inputs/words.txt; touch /inputs/new 2>/dev/null || echo read-only"
        )
        job_id = await api.submit(docker_job(command, [_url(url)], {}))
        done = await api.wait_for(job_id, timeout=60)
        assert execution(done)["RunOutput"]["Stdout"] == "one two three\nread-only\n"
        info = nodes[0].node.announcer.current_info().ComputeNodeInfo
        assert info is not None
        assert "s3" not in info.StorageSources, "no credentials: no S3"
        assert "urlDownload" in info.StorageSources


async def test_a_spec_without_bucket_is_a_400_naming_the_field(
    devstack: Devstack, s3_env: None
):
    async with devstack(1) as nodes:
        api: Api = apis(nodes)[0]
        job = docker_job("true", [s3_source("", "k")], {})
        status, body = await api.call("PUT", "/api/v1/orchestrator/jobs", {"Job": job})
        assert status == 400
        assert "Job.Tasks.0.InputSources.0.Source.Params.Bucket" in str(body)
        job = docker_job("true", [], {"Type": "s3", "Params": {"Key": "x"}})
        status, body = await api.call("PUT", "/api/v1/orchestrator/jobs", {"Job": job})
        assert status == 400
        assert "Job.Tasks.0.Publisher.Params.Bucket" in str(body)
