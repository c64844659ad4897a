"""examples/specs/*.yaml through the CLI, as a user types it: every spec is a
valid job (`job run --dry-run`), and every one runs for real on an
in-process devstack — the WASM ones always (inputs from each source: inline,
a URL, a local folder, IPFS, S3 on moto's loopback server), the Docker ones
where a Docker engine with busybox:1.37.0 is up (else they skip; under
CI=true they fail).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bacalao.models.job import Job
from bacalao.models.states import ExecutionStateType
from tests.cli.support import run_cli, running_devstack
from tests.loopback_http import LoopbackServer

SPECS = Path(__file__).resolve().parents[2] / "examples" / "specs"
ALL = sorted(p.name for p in SPECS.glob("*.yaml"))
TEMPLATE_VARS = {"templated.yaml": ["-V", "greeting=hola", "-V", "audience=world"]}
INPUT = "a line from the input\n"
WASM = {
    "wasm.yaml",
    "templated.yaml",
    "inputs-inline.yaml",
    "inputs-url.yaml",
    "inputs-local.yaml",
    "inputs-ipfs.yaml",
    "inputs-s3.yaml",
}
DOCKER = {"hello-world.yaml", "outputs.yaml", "daemon.yaml", "service.yaml", "ops.yaml"}


def test_every_spec_has_a_real_run_below() -> None:
    assert set(ALL) == WASM | DOCKER


# -- every spec is a valid job ---------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_spec_is_a_valid_job(name: str) -> None:
    result = run_cli(
        "job", "run", "--dry-run", *TEMPLATE_VARS.get(name, []), str(SPECS / name)
    )
    assert result.exit_code == 0, result.output
    job = Job.model_validate(yaml.safe_load(result.stdout))
    assert job.Name
    assert "{{" not in result.stdout


def test_templated_spec_needs_its_values() -> None:
    result = run_cli("job", "run", "--dry-run", str(SPECS / "templated.yaml"))
    assert result.exit_code == 1
    assert "no value for 'audience'" in result.stderr


# -- real runs ---------------------------------------------------------------------


class Stack:
    """A two-node devstack and the CLI aimed at its first node."""

    def __init__(self, ports: list[int], data: Path) -> None:
        self.ports = ports
        self.data = data

    def __call__(self, *args: str, node: int = 0, input: str | None = None) -> Any:
        return run_cli("--api-port", str(self.ports[node]), *args, input=input)

    def run(self, name: str, *args: str, text: str | None = None) -> Any:
        """`bacalao job run [ARGS] SPEC` (or the spec's `text` on stdin)."""
        spec = "-" if text is not None else str(SPECS / name)
        result = self("job", "run", *args, spec, input=text)
        assert result.exit_code == 0, result.output
        return result

    def state(self, job_id: str, node: int = 0) -> str:
        described = self("job", "describe", job_id, "--output", "json", node=node)
        assert described.exit_code == 0, described.output
        state: str = json.loads(described.stdout)["Job"]["State"]["StateType"]
        return state

    def wait_state(self, job_id: str, state: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while (now := self.state(job_id)) != state:
            assert time.monotonic() < deadline, f"{job_id} still {now}, not {state}"
            time.sleep(0.1)

    def executions(self, job_id: str) -> list[dict[str, Any]]:
        listed = self("job", "executions", job_id, "--output", "json")
        assert listed.exit_code == 0, listed.output
        items: list[dict[str, Any]] = json.loads(listed.stdout)
        return items


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("data")
    (data / "input.txt").write_text(INPUT)
    nodes = tmp_path_factory.mktemp("nodes")
    local = {"allowed_local_paths": [f"{data}/**"]}
    with running_devstack(nodes, 2, **local) as handles:
        yield Stack([h.api_port for h in handles], data)


def output_of(result: Any) -> str:
    """The task's stdout as `job run` prints it."""
    _, sep, rest = result.stdout.partition("\nStandard Output:\n")
    assert sep, result.stdout
    return rest.split("\n\nTo get more details", 1)[0]


def test_wasm(stack: Stack) -> None:
    result = stack.run("wasm.yaml")
    assert "Job Completed." in result.stdout
    assert output_of(result) == "hello from wasm"


def test_templated(stack: Stack) -> None:
    result = stack.run("templated.yaml", *TEMPLATE_VARS["templated.yaml"])
    lines = output_of(result).splitlines()
    assert lines[:2] == ["args_env.wasm", "hola"]
    assert "AUDIENCE=world" in lines


def test_inputs_inline(stack: Stack) -> None:
    assert output_of(stack.run("inputs-inline.yaml")) == INPUT.strip()


def test_inputs_url(stack: Stack) -> None:
    with LoopbackServer() as web:
        url = web.route("/data/input.txt", body=INPUT.encode())
        text = (SPECS / "inputs-url.yaml").read_text()
        text = text.replace("https://example.com/data/input.txt", url)
        assert url in text
        result = stack.run("inputs-url.yaml", text=text)
    assert output_of(result) == INPUT.strip()


def test_inputs_local(stack: Stack) -> None:
    text = (SPECS / "inputs-local.yaml").read_text()
    text = text.replace("SourcePath: /srv/data", f"SourcePath: {stack.data}")
    assert output_of(stack.run("inputs-local.yaml", text=text)) == INPUT.strip()


def test_inputs_ipfs_with_the_cid_in_the_spec(stack: Stack, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "input.txt").write_text(INPUT)
    added = stack("ipfs", "add", "-q", str(folder), node=1)
    assert added.exit_code == 0, added.output
    spec = yaml.safe_load((SPECS / "inputs-ipfs.yaml").read_text())
    source = spec["Tasks"][0]["InputSources"][1]["Source"]
    assert source["Params"]["CID"] == added.stdout.strip()
    assert output_of(stack.run("inputs-ipfs.yaml")) == INPUT.strip()


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """moto's S3 server on loopback holding the spec's object, and S3
    credentials in the environment (none of the machine's AWS files)."""
    from moto.server import ThreadedMotoServer

    from tests.data.conftest import Moto

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-creds"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        endpoint = f"http://{host}:{port}"
        client = Moto(endpoint).client()
        client.create_bucket(Bucket="my-bucket")
        client.put_object(Bucket="my-bucket", Key="data/input.txt", Body=INPUT.encode())
        yield endpoint
    finally:
        server.stop()


def test_inputs_s3(moto_endpoint: str, tmp_path: Path) -> None:
    with running_devstack(tmp_path, 1, s3_endpoint=moto_endpoint) as handles:
        port = str(handles[0].api_port)
        spec = str(SPECS / "inputs-s3.yaml")
        result = run_cli("--api-port", port, "job", "run", spec)
    assert result.exit_code == 0, result.output
    assert output_of(result) == INPUT.strip()


# -- Docker ------------------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
def test_hello_world(stack: Stack) -> None:
    result = stack.run("hello-world.yaml")
    assert "Job Completed." in result.stdout
    assert output_of(result) == "hello from bacalao"


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
def test_outputs_land_in_the_results(stack: Stack, tmp_path: Path) -> None:
    job_id = stack.run("outputs.yaml", "--id-only").stdout.strip().splitlines()[-1]
    got = stack("job", "get", job_id, "--output-dir", str(tmp_path))
    assert got.exit_code == 0, got.output
    assert (tmp_path / "outputs" / "squares.txt").read_text() == "1\n4\n9\n16\n"
    assert (tmp_path / "stdout").read_text() == "wrote 4 squares\n"


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
@pytest.mark.parametrize(("name", "count"), [("daemon.yaml", 2), ("service.yaml", 2)])
def test_long_running_jobs_run_until_stopped(
    stack: Stack, name: str, count: int
) -> None:
    job_id = stack.run(name, "--wait=false", "--id-only").stdout.strip()
    stack.wait_state(job_id, "Running")
    deadline = time.monotonic() + 20
    while len(running := [e for e in stack.executions(job_id) if is_running(e)]) < 2:
        assert time.monotonic() < deadline, running
        time.sleep(0.1)
    assert len(running) == count
    if name == "daemon.yaml":  # one on every node
        assert len({e["NodeID"] for e in running}) == 2
    stop = stack("job", "stop", job_id)
    assert stop.exit_code == 0, stop.output
    stack.wait_state(job_id, "Stopped")


def is_running(execution: dict[str, Any]) -> bool:
    state = execution["ComputeState"]["StateType"]
    return state in ("Running", ExecutionStateType.Running.value)


@pytest.mark.docker
@pytest.mark.usefixtures("docker_engine")
def test_ops_runs_once_on_every_node(stack: Stack) -> None:
    job_id = stack.run("ops.yaml", "--id-only").stdout.strip().splitlines()[-1]
    stack.wait_state(job_id, "Completed")
    executions = stack.executions(job_id)
    assert len({e["NodeID"] for e in executions}) == 2
    for execution in executions:
        assert ": " in execution["RunOutput"]["Stdout"]
