"""examples/executors/docker-*.yaml, run on a swarm: what their user sees.

Also what a user of docker jobs sees beyond the examples: logs while the
job runs, a stop that kills the container at once, a network mode the
swarm does not offer, nothing left behind.
"""

from __future__ import annotations

import time
from typing import Any

import docker
import pytest
import trio

from bacalao.executors.docker_options import LABEL_JOB

from .conftest import execution_of, failure_of, spec, state_of

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_engine")]

ENGINES = {"engines": ["docker"]}


def containers_of(job_id: str) -> list[Any]:
    client = docker.from_env()
    try:
        found: list[Any] = client.containers.list(
            all=True, sparse=True, filters={"label": f"{LABEL_JOB}={job_id}"}
        )
    finally:
        client.close()
    return found


async def test_input_and_output_volume(swarm):
    async with swarm(**ENGINES) as user:
        done = await user.run(spec("docker-input-output"))
        files = await user.results(done)
    output = execution_of(done).RunOutput
    assert state_of(done) == ("Completed", "")
    assert (output.Stdout, output.STDERR) == (
        "sorted 3 words\n",
        "the input is read-only\n",
    )
    assert files["outputs/sorted.txt"] == b"apple\nfig\npear\n"
    assert (files["stdout"], files["exitCode"]) == (b"sorted 3 words\n", b"0")


async def test_env_and_args(swarm):
    async with swarm(**ENGINES) as user:
        done = await user.run(spec("docker-env-args"))
    assert execution_of(done).RunOutput.Stdout == (
        "hello from bacalao\narg: one\narg: two words\n"
    )


async def test_timeout(swarm):
    async with swarm(**ENGINES) as user:
        started = time.monotonic()
        done = await user.run(spec("docker-timeout"))
        took = time.monotonic() - started
        logs = await user.logs(done.Job.ID)
    assert failure_of(done) == "timed out after 1 s"
    assert logs == ["going to sleep\n"]  # what it printed before it was killed
    assert took < 5
    assert await trio.to_thread.run_sync(containers_of, done.Job.ID) == []


async def test_infinite_loop_times_out(swarm):
    async with swarm(**ENGINES) as user:
        done = await user.run(spec("docker-infinite-loop"))
    assert failure_of(done) == "timed out after 1 s"
    assert await trio.to_thread.run_sync(containers_of, done.Job.ID) == []


async def test_memory_limit(swarm):
    async with swarm(**ENGINES) as user:
        done = await user.run(spec("docker-memory-limit"))
    reason = failure_of(done)
    assert reason.startswith("out of memory")
    assert "memory limit (16.0 MiB)" in reason


async def test_logs_follow_a_running_job_and_stop_kills_it_at_once(swarm):
    job = spec("docker-timeout")
    job["Tasks"][0]["Timeouts"] = {"ExecutionTimeout": 60}
    async with swarm(**ENGINES) as user:
        submitted = await trio.to_thread.run_sync(user.client.submit, job)
        job_id = submitted.JobID
        await user.wait(job_id, states=("Running",))
        with trio.fail_after(10):
            first = await trio.to_thread.run_sync(
                lambda: next(iter(user.client.logs(job_id, follow=True))).Line
            )
        assert first == "going to sleep\n"
        assert len(await trio.to_thread.run_sync(containers_of, job_id)) == 1
        stopped_at = time.monotonic()
        await trio.to_thread.run_sync(user.client.stop, job_id, "enough")
        done = await user.wait(job_id, timeout=10)
        assert state_of(done)[0] == "Stopped"
        with trio.fail_after(5):
            while await trio.to_thread.run_sync(containers_of, job_id):
                await trio.sleep(0.05)
        assert time.monotonic() - stopped_at < 1  # ~0.2 s here


async def test_a_network_the_swarm_does_not_offer_is_refused(swarm):
    job = spec("docker-env-args")
    job["Tasks"][0]["Network"] = {"Type": "HTTP", "Domains": ["example.com"]}
    async with swarm(**ENGINES) as user:  # nodes accept None/Default only
        state, message = await user.refused(job)
    assert state in ("Queued", "Failed")
    assert message.startswith("no node can run this job (2 nodes considered: 2 ")
    assert "network 'HTTP'" in message or "network type HTTP" in message


async def test_http_network_reaches_its_domains_only(swarm, web_server: str):
    job = spec("docker-http-domains")
    task = job["Tasks"][0]
    script = task["Engine"]["Params"]["Parameters"][2]  # example.com: a local server
    task["Engine"]["Params"]["Parameters"][2] = script.replace(
        "http://example.com/", f"http://{web_server}/hello.txt"
    )
    task["Network"]["Domains"] = [web_server]
    http = {"docker_network_modes": ["None", "HTTP"], "http_private_addresses": True}
    async with swarm(**ENGINES, **http) as user:
        done = await user.run(job)
    output = execution_of(done).RunOutput
    assert output.Stdout == "hello from outside\nexample.org: refused\n"
    assert "403 Forbidden (example.org is not in the job's Network.Domains)" in (
        output.STDERR
    )
