"""The docker executor against a live engine (busybox from setup-docker.sh)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import trio

from bacalao.executors.base import OutputLimits, StagedInput
from bacalao.executors.config import DockerConfig
from bacalao.executors.docker import DockerExecutor
from bacalao.executors.docker_options import LABEL_EXECUTION, LABEL_MANAGED, LABEL_NODE
from bacalao.executors.exceptions import ExecutionTimeout, ExecutorError
from bacalao.models.resources import Resources

from .support import TEST_IMAGE, MakeRequest, file_says, labelled, wait_until

pytestmark = pytest.mark.docker


def sh(script: str, **params: Any) -> dict[str, Any]:
    return {"Image": TEST_IMAGE, "Parameters": ["sh", "-c", script], **params}


async def test_echo_hello(docker_executor: DockerExecutor, make_request: MakeRequest):
    request = make_request(
        "docker", {"Image": TEST_IMAGE, "Parameters": ["echo", "hello"]}
    )
    with trio.fail_after(15):
        result = await docker_executor.run(request)
    assert (result.Stdout, result.STDERR, result.ExitCode) == ("hello\n", "", 0)
    assert not result.StdoutTruncated
    assert (request.results_dir / "stdout").read_text() == "hello\n"
    assert (request.results_dir / "stderr").read_text() == ""
    assert (request.results_dir / "exitCode").read_text() == "0"
    assert (request.results_dir / "outputs").is_dir()


async def test_the_result_does_not_wait_for_the_containers_removal(
    docker_executor: DockerExecutor, make_request: MakeRequest, docker_client: Any
):
    request = make_request("docker", {"Image": TEST_IMAGE, "Parameters": ["true"]})
    with trio.fail_after(15):
        result = await docker_executor.run(request)
        await docker_executor.aclose()  # waits for the background removal
    assert result.ExitCode == 0
    assert labelled(docker_client, LABEL_EXECUTION, request.execution_id) == []


async def test_non_zero_exit_is_a_result(
    docker_executor: DockerExecutor, make_request: MakeRequest
):
    request = make_request("docker", sh("echo oops >&2; exit 3"))
    with trio.fail_after(15):
        result = await docker_executor.run(request)
    assert (result.ExitCode, result.STDERR) == (3, "oops\n")
    assert (request.results_dir / "exitCode").read_text() == "3"


async def test_env_args_and_workdir(
    docker_executor: DockerExecutor, make_request: MakeRequest
):
    params = sh(
        'echo "$FROM_TASK $FROM_SPEC $SHARED $0"; pwd',
        EnvironmentVariables=["FROM_SPEC=spec", "SHARED=from-spec"],
        WorkingDirectory="/tmp",
    )
    params["Parameters"].append("arg0")
    request = make_request(
        "docker", params, Env={"FROM_TASK": "task", "SHARED": "from-task"}
    )
    with trio.fail_after(15):
        result = await docker_executor.run(request)
    assert result.Stdout == "task spec from-spec arg0\n/tmp\n"


async def test_entrypoint_replaces_the_image_command(
    docker_executor: DockerExecutor, make_request: MakeRequest
):
    params = {"Image": TEST_IMAGE, "Entrypoint": ["echo"], "Parameters": ["a", "b"]}
    with trio.fail_after(15):
        result = await docker_executor.run(make_request("docker", params))
    assert result.Stdout == "a b\n"


async def test_inputs_read_only_and_outputs_written(
    docker_executor: DockerExecutor, make_request: MakeRequest, tmp_path: Path
):
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("input data\n")
    single = tmp_path / "single.txt"
    single.write_text("single file\n")
    script = (
        "cat /inputs/in.txt /config/single.txt;"
        "cp /inputs/in.txt /results/copy.txt;"
        "echo default > /outputs/o.txt;"
        "touch /inputs/new 2>/dev/null && echo writable || echo read-only"
    )
    request = make_request(
        "docker",
        sh(script),
        inputs=[
            StagedInput(data, "/inputs"),
            StagedInput(single, "/config/single.txt"),
        ],
        ResultPaths=[{"Name": "results", "Path": "/results"}],
    )
    with trio.fail_after(15):
        result = await docker_executor.run(request)
    assert result.Stdout == "input data\nsingle file\nread-only\n"
    assert (request.results_dir / "results" / "copy.txt").read_text() == "input data\n"
    assert (request.results_dir / "outputs" / "o.txt").read_text() == "default\n"
    assert not (data / "new").exists()


async def test_timeout_kills_the_container(
    docker_executor: DockerExecutor, make_request: MakeRequest, docker_client: Any
):
    request = make_request("docker", sh("sleep 30"), timeout=0.5)
    started = time.monotonic()
    with trio.fail_after(10), pytest.raises(ExecutionTimeout, match=r"0\.5 s"):
        await docker_executor.run(request)
    assert time.monotonic() - started < 5
    assert labelled(docker_client, LABEL_EXECUTION, request.execution_id) == []


async def test_cancellation_kills_the_container_at_once(
    docker_executor: DockerExecutor, make_request: MakeRequest, docker_client: Any
):
    request = make_request("docker", sh("echo started; sleep 30"))
    stdout = request.results_dir / "stdout"
    with trio.fail_after(15):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(docker_executor.run, request)
            # logs are followed live: "started" shows while the task runs
            await wait_until(file_says(stdout, "started\n"))
            cancelled_at = time.monotonic()
            nursery.cancel_scope.cancel()
    assert time.monotonic() - cancelled_at < 2
    assert labelled(docker_client, LABEL_EXECUTION, request.execution_id) == []


async def test_out_of_memory_is_reported(
    docker_executor: DockerExecutor, make_request: MakeRequest
):
    request = make_request(
        "docker",
        sh('x=a; while true; do x="$x$x"; done'),
        resources=Resources(Memory=16 * 1024**2),
    )
    with trio.fail_after(30), pytest.raises(ExecutorError, match="out of memory"):
        await docker_executor.run(request)


async def test_sigkill_without_memory_limit_is_an_exit_code(
    docker_executor: DockerExecutor, make_request: MakeRequest
):
    # PID 1 ignores SIGKILL from inside its namespace: kill a child shell
    request = make_request("docker", sh("sh -c 'kill -9 $$'; exit $?"))
    with trio.fail_after(15):
        result = await docker_executor.run(request)
    assert result.ExitCode == 137


async def test_output_is_capped(
    docker_executor: DockerExecutor, make_request: MakeRequest
):
    request = make_request(
        "docker",
        sh("yes 0123456789 | head -c 5000; echo small >&2"),
        limits=OutputLimits(output_bytes=10, log_bytes=1000),
    )
    with trio.fail_after(15):
        result = await docker_executor.run(request)
    assert (result.Stdout, result.StdoutTruncated) == ("0123456789", True)
    assert (result.STDERR, result.StderrTruncated) == ("small\n", False)
    assert (request.results_dir / "stdout").stat().st_size == 1000
    assert (request.results_dir / "stdout.truncated").read_text() == (
        "stdout was cut after 1000 bytes: this node keeps at most that much of "
        "each output stream of a task\n"
    )
    assert not (request.results_dir / "stderr.truncated").exists()


async def test_missing_image_says_so(
    docker_executor: DockerExecutor, make_request: MakeRequest
):
    request = make_request("docker", {"Image": "bacalao-test/missing:never"})
    with (
        trio.fail_after(60),
        pytest.raises(
            ExecutorError,
            match="image bacalao-test/missing:never not found locally "
            "and could not be pulled: ",
        ),
    ):
        await docker_executor.run(request)


async def test_missing_image_without_pulling(
    docker_client: Any, make_request: MakeRequest
):
    executor = DockerExecutor(DockerConfig(pull=False), node_id="no-pull")
    request = make_request("docker", {"Image": "bacalao-test/missing:never"})
    with trio.fail_after(15), pytest.raises(ExecutorError, match="pulling is disabled"):
        await executor.run(request)
    await executor.aclose()


async def test_bad_command_is_an_executor_error(
    docker_executor: DockerExecutor, make_request: MakeRequest, docker_client: Any
):
    request = make_request("docker", {"Image": TEST_IMAGE, "Entrypoint": ["/nope"]})
    with trio.fail_after(15), pytest.raises(ExecutorError, match="/nope"):
        await docker_executor.run(request)
    assert labelled(docker_client, LABEL_EXECUTION, request.execution_id) == []


async def test_network_modes(
    docker_executor: DockerExecutor, make_request: MakeRequest
):
    script = "ip -o link | grep -c -v ' lo:'"
    none = make_request("docker", sh(script))
    full = make_request("docker", sh(script), Network={"Type": "Full"})
    with trio.fail_after(15):
        assert (await docker_executor.run(none)).Stdout == "0\n"
        assert (await docker_executor.run(full)).Stdout == "1\n"


async def test_cleanup_removes_only_this_nodes_leftovers(
    docker_executor: DockerExecutor, docker_client: Any
):
    node = docker_executor._node_id
    other_node = node + "-other"
    mine = docker_client.containers.create(
        TEST_IMAGE, "sleep 30", labels={LABEL_MANAGED: "true", LABEL_NODE: node}
    )
    other = docker_client.containers.create(
        TEST_IMAGE, "sleep 30", labels={LABEL_MANAGED: "true", LABEL_NODE: other_node}
    )
    try:
        mine.start()
        with trio.fail_after(15):
            await docker_executor.cleanup()
        assert labelled(docker_client, LABEL_NODE, node) == []
        assert [c.id for c in labelled(docker_client, LABEL_NODE, other_node)] == [
            other.id
        ]
    finally:
        other.remove(force=True)


async def test_check_answers(docker_executor: DockerExecutor):
    with trio.fail_after(10):
        assert await docker_executor.check() is None


def _status_field(text: str, name: str) -> str:
    return next(line.split()[1] for line in text.splitlines() if line.startswith(name))


async def test_tasks_run_sandboxed(
    docker_executor: DockerExecutor, make_request: MakeRequest
):
    """A task cannot gain privileges, keeps only the reduced capability set
    (no raw sockets, no mknod), and has a bound on its processes."""
    script = (
        "cat /proc/self/status; "
        "cat /sys/fs/cgroup/pids.max 2>/dev/null || "
        "cat /sys/fs/cgroup/pids/pids.max"
    )
    request = make_request("docker", sh(script))
    with trio.fail_after(15):
        result = await docker_executor.run(request)
    assert result.ExitCode == 0, result.STDERR
    assert _status_field(result.Stdout, "NoNewPrivs:") == "1"
    effective = int(_status_field(result.Stdout, "CapEff:"), 16)
    cap_net_raw, cap_mknod, cap_sys_admin, cap_chown = 13, 27, 21, 0
    assert not effective & (1 << cap_net_raw | 1 << cap_mknod | 1 << cap_sys_admin)
    assert effective & 1 << cap_chown
    assert result.Stdout.strip().splitlines()[-1] == "1024"


async def test_operator_can_loosen_the_sandbox(
    docker_client: Any, make_request: MakeRequest
):
    config = DockerConfig(
        pids_limit=0, no_new_privileges=False, capabilities=("NET_RAW",)
    )
    executor = DockerExecutor(config, node_id="test-" + uuid.uuid4().hex[:8])
    request = make_request("docker", sh("cat /proc/self/status"))
    try:
        with trio.fail_after(15):
            result = await executor.run(request)
    finally:
        await executor.cleanup()
        await executor.aclose()
    assert _status_field(result.Stdout, "NoNewPrivs:") == "0"
    assert int(_status_field(result.Stdout, "CapEff:"), 16) == 1 << 13
