"""The executor registry: engine type name → executor of this node.

    executors = build_executors(None, ExecutorsConfig(), node_id=node.id)
    executor = executor_for(executors, job)   # by job.task.Engine.Type

Names are the engine types of job specs (`docker`, `wasm`, `noop`),
matched ignoring case as Bacalhau does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..models.engines import UnknownEngine
from ..models.job import Job
from .base import Executor
from .config import DockerConfig, ExecutorsConfig, WasmConfig
from .docker import DockerExecutor
from .guard import TaskGuard
from .noop import NoopExecutor
from .wasm import WasmExecutor

ExecutorFactory = Callable[[ExecutorsConfig, str, TaskGuard], Executor]

_FACTORIES: dict[str, ExecutorFactory] = {
    "docker": lambda config, node_id, guard: DockerExecutor(
        config.docker, node_id=node_id, guard=guard
    ),
    "wasm": lambda config, _node_id, guard: WasmExecutor(config.wasm, guard=guard),
    "noop": lambda _config, _node_id, guard: NoopExecutor(guard=guard),
}


def engine_names() -> list[str]:
    """The engine types this build of bacalao can run."""
    return sorted(_FACTORIES)


def build_executors(
    names: Iterable[str] | None = None,
    config: ExecutorsConfig | None = None,
    *,
    node_id: str = "",
) -> dict[str, Executor]:
    """One executor per engine name (default: `config.default_engines()`).

    Raises `UnknownEngine` for a name bacalao has no executor for.
    """
    config = config or ExecutorsConfig()
    wanted = config.default_engines() if names is None else tuple(names)
    guard = TaskGuard(config.allowed_local_paths, config.disk_path)
    executors: dict[str, Executor] = {}
    for name in wanted:
        key = name.strip().lower()
        factory = _FACTORIES.get(key)
        if factory is None:
            known = ", ".join(engine_names())
            raise UnknownEngine(f"no executor for engine {name!r} (one of {known})")
        executors[key] = factory(config, node_id, guard)
    return executors


def executor_for(executors: dict[str, Executor], job: Job) -> Executor | None:
    """The executor for `job`'s engine type, or None if this node has none."""
    return executors.get(job.task.Engine.Type.strip().lower())


__all__ = [
    "DockerConfig",
    "Executor",
    "ExecutorFactory",
    "ExecutorsConfig",
    "WasmConfig",
    "build_executors",
    "engine_names",
    "executor_for",
]
