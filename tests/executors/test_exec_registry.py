"""The executor registry and config, and the docker decisions made without I/O."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest

from bacalao.executors.base import StagedInput
from bacalao.executors.config import DockerConfig, ExecutorsConfig
from bacalao.executors.docker import DockerExecutor
from bacalao.executors.docker_options import (
    container_options,
    full_image_name,
    image_allowed,
)
from bacalao.executors.noop import NoopExecutor
from bacalao.executors.registry import build_executors, engine_names, executor_for
from bacalao.executors.results import output_volumes
from bacalao.executors.wasm import WasmExecutor
from bacalao.models.engines import DockerEngineSpec, UnknownEngine
from bacalao.models.resources import Resources

from .support import MakeRequest, make_job


def test_default_engines():
    executors = build_executors()
    assert sorted(executors) == ["docker", "wasm"]
    assert isinstance(executors["docker"], DockerExecutor)
    assert isinstance(executors["wasm"], WasmExecutor)
    assert engine_names() == ["docker", "noop", "wasm"]


def test_noop_enabled_and_named_engines():
    config = ExecutorsConfig(noop_enabled=True)
    assert sorted(build_executors(None, config)) == ["docker", "noop", "wasm"]
    assert list(build_executors(["Noop"], config)) == ["noop"]
    assert isinstance(build_executors(["noop"])["noop"], NoopExecutor)


def test_unknown_engine():
    with pytest.raises(UnknownEngine, match="no executor for engine 'python'"):
        build_executors(["python"])


def test_executor_for_matches_engine_type_ignoring_case():
    executors = build_executors(["noop"])
    assert executor_for(executors, make_job("NOOP", {})) is executors["noop"]
    assert executor_for(executors, make_job("docker", {"Image": "x"})) is None


def test_config_is_frozen_and_checked():
    config = ExecutorsConfig(output_bytes=10, log_bytes=20)
    assert (config.limits.output_bytes, config.limits.log_bytes) == (10, 20)
    with pytest.raises(pydantic.ValidationError):
        config.output_bytes = 5  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="unknown network type"):
        DockerConfig(networks=("Internet",))


@pytest.mark.parametrize(
    ("network", "refused"),
    [
        ({"Type": "None"}, None),
        ({"Type": "Default"}, None),
        ({"Type": "Full"}, None),
        ({"Type": "Bridge"}, None),
        ({"Type": "Host"}, "not accepted here"),
        ({"Type": "HTTP"}, "needs at least one domain in Network.Domains"),
        ({"Type": "HTTP", "Domains": ["example.com", ".pypi.org"]}, None),
        ({"Type": "HTTP", "Domains": ["a b"]}, "invalid domain 'a b'"),
    ],
)
def test_docker_refuses_networks(network: dict[str, Any], refused: str | None):
    job = make_job("docker", {"Image": "busybox"}, Network=network)
    reason = DockerExecutor().refuse(job)
    assert (reason is None) if refused is None else refused in (reason or "")


def test_node_config_decides_which_networks_are_accepted():
    executor = DockerExecutor(DockerConfig(networks=("None", "Default")))
    job = make_job("docker", {"Image": "busybox"}, Network={"Type": "HTTP"})
    assert executor.refuse(job) == (
        "network type HTTP is not accepted here (accepted: None, Default)"
    )


def test_docker_refuses_images_gpus_and_bad_specs():
    allow = DockerExecutor(DockerConfig(images=("busybox:*", "ghcr.io/org/*")))
    assert allow.refuse(make_job("docker", {"Image": "busybox"})) is None
    assert allow.refuse(make_job("docker", {"Image": "ghcr.io/org/tool:1"})) is None
    assert "allowed images" in (
        allow.refuse(make_job("docker", {"Image": "ubuntu"})) or ""
    )
    gpu_job = make_job("docker", {"Image": "busybox"}, Resources={"GPU": "1"})
    assert "GPU" in (DockerExecutor().refuse(gpu_job) or "")
    assert DockerExecutor(DockerConfig(gpus=1)).refuse(gpu_job) is None
    assert "invalid docker engine spec" in (
        DockerExecutor().refuse(make_job("docker", {})) or ""
    )


def test_image_names():
    assert full_image_name("busybox") == "busybox:latest"
    assert full_image_name("localhost:5000/x") == "localhost:5000/x:latest"
    assert full_image_name("x@sha256:abc") == "x@sha256:abc"
    assert image_allowed("busybox", ("busybox:latest",))
    assert not image_allowed("busybox:1", ("busybox:latest",))
    assert image_allowed("anything", ())


def test_container_options(make_request: MakeRequest, tmp_path: Path):
    params = {
        "Image": "busybox",
        "Entrypoint": ["sh", "-c"],
        "Parameters": ["echo hi"],
        "EnvironmentVariables": ["A=spec"],
        "WorkingDirectory": "/w",
    }
    request = make_request(
        "docker",
        params,
        inputs=[StagedInput(tmp_path, "/inputs")],
        resources=Resources(CPU=0.5, Memory=64 * 1024**2, GPU=1),
        Env={"A": "task", "B": "task"},
        Network={"Type": "Full"},
    )
    spec = DockerEngineSpec.model_validate(params)
    options = container_options(request, spec, output_volumes(request), "node-1")
    assert options["entrypoint"] == ["sh", "-c"]
    assert options["command"] == ["echo hi"]
    assert options["environment"] == ["A=spec", "B=task"]
    assert options["working_dir"] == "/w"
    assert options["network_mode"] == "bridge"
    assert options["nano_cpus"] == 500_000_000
    assert options["mem_limit"] == options["memswap_limit"] == 64 * 1024**2
    assert options["device_requests"][0]["Count"] == 1
    assert options["labels"]["bacalao.node"] == "node-1"
    assert options["labels"]["bacalao.execution-id"] == request.execution_id
    mounts = {m["Target"]: (m["Source"], m["ReadOnly"]) for m in options["mounts"]}
    assert mounts["/inputs"] == (str(tmp_path.resolve()), True)
    assert mounts["/outputs"] == (
        str((request.results_dir / "outputs").resolve()),
        False,
    )


async def test_check_reports_an_unreachable_engine():
    executor = DockerExecutor(DockerConfig(host="unix:///nonexistent/docker.sock"))
    reason = await executor.check()
    assert reason is not None
    assert reason.startswith("docker engine not reachable")
    await executor.cleanup()  # tolerated: nothing to clean without an engine
