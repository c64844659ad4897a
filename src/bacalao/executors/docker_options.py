"""What a task asks of Docker, worked out without talking to Docker.

`container_options` turns an `ExecutionRequest` (and the `TaskNetwork` made
for it) into the keyword arguments of `docker.DockerClient.containers.create`;
`image_allowed` and `refusal` are the decisions the executor's `refuse` is
made of.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

from docker.types import DeviceRequest, Mount
from docker.utils import parse_repository_tag

from ..models.engines import DockerEngineSpec
from ..models.job import Job
from ..models.resources import Resources
from .base import ExecutionRequest
from .config import DockerConfig
from .docker_network import TaskNetwork, network_mode
from .http_policy import domain_problem
from .results import OutputVolume

LABEL_MANAGED = "bacalao.managed"
LABEL_NODE = "bacalao.node"
LABEL_EXECUTION = "bacalao.execution-id"
LABEL_JOB = "bacalao.job-id"

_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")


def full_image_name(image: str) -> str:
    """`image` with its tag made explicit (`busybox` → `busybox:latest`)."""
    repository, tag = parse_repository_tag(image)
    if tag is None:
        return f"{repository}:latest"
    separator = "@" if tag.startswith("sha256:") else ":"
    return f"{repository}{separator}{tag}"


def image_allowed(image: str, patterns: tuple[str, ...]) -> bool:
    """Whether `image` matches one of `patterns` (an empty list allows all)."""
    if not patterns:
        return True
    names = {image, full_image_name(image)}
    return any(fnmatchcase(n, p) for n in names for p in patterns)


def refusal(job: Job, spec: DockerEngineSpec, config: DockerConfig) -> str | None:
    """Why a node with `config` will not run `job` (None: it will)."""
    reason = network_refusal(job, config)
    if reason is not None:
        return reason
    if not image_allowed(spec.Image, config.images):
        return f"image {spec.Image} is not in this node's allowed images"
    gpus = job.task.Resources.parsed().GPU
    if gpus > config.gpus:
        return f"task asks for {gpus} GPU(s), this node offers {config.gpus}"
    return None


def network_refusal(job: Job, config: DockerConfig) -> str | None:
    """Why this node will not give `job` the network it asks for (None: it will)."""
    network = job.task.Network
    if network_mode(network.Type) is None:
        return f"network type {network.Type} is not supported by the docker executor"
    if network.Type not in config.networks:
        accepted = ", ".join(config.networks) or "none"
        return (
            f"network type {network.Type} is not accepted here (accepted: {accepted})"
        )
    if network.Type == "HTTP" and not network.Domains:
        return "network type HTTP needs at least one domain in Network.Domains"
    problems = [p for p in map(domain_problem, network.Domains) if p]
    return problems[0] if problems else None


def labels(request: ExecutionRequest, node_id: str) -> dict[str, str]:
    """The labels every container of this node carries."""
    return {
        LABEL_MANAGED: "true",
        LABEL_NODE: node_id,
        LABEL_EXECUTION: request.execution_id,
        LABEL_JOB: request.job.ID,
    }


def container_name(request: ExecutionRequest) -> str:
    """A readable, unique container name for the execution."""
    return "bacalao-" + _NAME_UNSAFE.sub("_", request.execution_id)


def environment(
    request: ExecutionRequest, spec: DockerEngineSpec, network: TaskNetwork
) -> list[str]:
    """Task.Env, the engine's EnvironmentVariables, then the network's (last wins)."""
    merged = dict(request.task.Env)
    for item in spec.EnvironmentVariables:
        key, _, value = item.partition("=")
        merged[key] = value
    merged.update(network.env)
    return [f"{key}={value}" for key, value in merged.items()]


def mounts(request: ExecutionRequest, volumes: list[OutputVolume]) -> list[Mount]:
    """Inputs bound at their targets (read-only unless staged writable), outputs rw."""
    bound = [
        Mount(i.target, str(i.host_path.absolute()), type="bind", read_only=i.read_only)
        for i in request.inputs
    ]
    bound += [
        Mount(v.target, str(v.host_path.absolute()), type="bind", read_only=False)
        for v in volumes
    ]
    return bound


def resource_options(resources: Resources) -> dict[str, Any]:
    """CPU, memory (swap off, so the limit is real) and GPU options."""
    options: dict[str, Any] = {}
    if resources.CPU > 0:
        options["nano_cpus"] = int(resources.CPU * 1e9)
    if resources.Memory > 0:
        options["mem_limit"] = resources.Memory
        options["memswap_limit"] = resources.Memory
    if resources.GPU > 0:
        options["device_requests"] = [
            DeviceRequest(count=resources.GPU, capabilities=[["gpu"]])
        ]
    return options


def container_options(
    request: ExecutionRequest,
    spec: DockerEngineSpec,
    volumes: list[OutputVolume],
    node_id: str,
    network: TaskNetwork | None = None,
    config: DockerConfig | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `containers.create` (image first, as `image`)."""
    network = network or TaskNetwork(network_mode(request.task.Network.Type) or "none")
    config = config or DockerConfig()
    options: dict[str, Any] = {
        "image": spec.Image,
        "command": spec.Parameters or None,
        "entrypoint": spec.Entrypoint or None,
        "environment": environment(request, spec, network),
        "working_dir": spec.WorkingDirectory or None,
        "labels": labels(request, node_id),
        "name": container_name(request),
        "network_mode": network.mode,
        "mounts": mounts(request, volumes),
    }
    options.update(resource_options(request.resources))
    options.update(sandbox_options(config))
    return options


def sandbox_options(config: DockerConfig) -> dict[str, Any]:
    """What a task may not do: fork without bound, gain privileges, or use
    capabilities beyond the operator's list."""
    options: dict[str, Any] = {
        "cap_drop": ["ALL"],
        "cap_add": list(config.capabilities),
    }
    if config.pids_limit:
        options["pids_limit"] = config.pids_limit
    if config.no_new_privileges:
        options["security_opt"] = ["no-new-privileges"]
    return options
