"""The `docker` executor: run a task in a container of the local engine.

One execution is one container, labelled with this node and the execution
(see `docker_options`), created from the task's `DockerEngineSpec`, with
inputs bound read-only at their targets and output volumes bound writable.
Its stdout and stderr are followed into the results folder while it runs.

Its network is made by `docker_network` (for `HTTP`, an internal network
and a filtering proxy of its own).

Limits: the image is looked up (and pulled if missing) before the clock
starts, so a pull never counts against `request.timeout`; a task that
outlives the timeout is killed and `ExecutionTimeout` raised; cancelling
`run` kills the container at once. The container (and its network) is
removed after every run: a container that exited on its own (on the
default networks) in the background, after `run` has returned its result,
since removing it takes the engine ~100 ms the job's caller need not wait
for (`aclose` waits for those removals); `cleanup` removes any a crashed
node left behind.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import trio
from pydantic import ValidationError

from ..models.engines import DockerEngineSpec
from ..models.execution import RunCommandResult
from ..models.job import Job
from ..models.resources import format_bytes
from .base import STDERR, STDOUT, ExecutionRequest
from .config import DockerConfig
from .docker_engine import DockerEngine
from .docker_firewall import remove_leftover_rules
from .docker_logs import LogPump
from .docker_network import open_task_network, remove_network
from .docker_options import (
    LABEL_MANAGED,
    LABEL_NODE,
    container_name,
    container_options,
    labels,
    refusal,
)
from .exceptions import ExecutionTimeout, ExecutorError
from .guard import TaskGuard
from .results import finish_results, prepare_results, time_budget

logger = logging.getLogger(__name__)

_DRAIN_SECONDS = 5.0
_REMOVE_SECONDS = 15.0
_SIGKILLED = 137
_OOM_GRACE = 0.5
_OOM_POLL = 0.05


def docker_spec(job: Job) -> DockerEngineSpec:
    """The task's docker parameters; `ExecutorError` naming the bad field."""
    try:
        return DockerEngineSpec.model_validate(job.task.Engine.Params)
    except ValidationError as exc:
        raise ExecutorError(f"invalid docker engine spec: {exc}") from exc


class DockerExecutor:
    """Runs `docker` tasks as containers of the local Docker engine."""

    name = "docker"

    def __init__(
        self,
        config: DockerConfig | None = None,
        *,
        node_id: str = "",
        guard: TaskGuard | None = None,
    ) -> None:
        self._config = config or DockerConfig()
        self._node_id = node_id
        self._engine = DockerEngine(self._config)
        self._guard = guard or TaskGuard()
        self._removing = 0  # containers being removed in the background
        self._removed = trio.Event()

    async def check(self) -> str | None:
        try:
            await self._engine.ping()
        except ExecutorError as exc:
            return str(exc)
        await self._guard.refresh()
        return None

    def refuse(self, job: Job) -> str | None:
        try:
            spec = docker_spec(job)
        except ExecutorError as exc:
            return str(exc)
        return refusal(job, spec, self._config) or self._guard.refusal(job)

    async def run(self, request: ExecutionRequest) -> RunCommandResult:
        spec = docker_spec(request.job)
        reason = refusal(request.job, spec, self._config)
        if reason is not None:
            raise ExecutorError(reason)
        await self._guard.check(request.job)
        try:
            return await self._run(request, spec)
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(_REMOVE_SECONDS):
                await self._guard.refresh()

    async def cleanup(self) -> None:
        labels = [f"{LABEL_MANAGED}=true", f"{LABEL_NODE}={self._node_id}"]
        try:
            leftovers = await self._engine.containers(labels)
            networks = await self._engine.networks(labels)
        except ExecutorError as exc:
            logger.warning("docker cleanup skipped: %s", exc)
            return
        for container in leftovers:
            await self._remove(container)
        for network in networks:
            await remove_network(self._engine, network)
        await remove_leftover_rules(self._node_id)

    async def aclose(self) -> None:
        """Finish the background removals, close the connections to the engine."""
        with trio.move_on_after(_REMOVE_SECONDS):
            while self._removing:
                await self._removed.wait()
        await self._engine.close()

    async def _run(
        self, request: ExecutionRequest, spec: DockerEngineSpec
    ) -> RunCommandResult:
        volumes = await trio.to_thread.run_sync(prepare_results, request)
        await self._ensure_image(spec.Image)
        network = request.task.Network
        async with open_task_network(
            self._engine,
            network.Type,
            network.Domains,
            name=container_name(request),
            labels=labels(request, self._node_id),
            config=self._config,
            node_id=self._node_id,
        ) as task_network:
            options = container_options(
                request, spec, volumes, self._node_id, task_network, self._config
            )
            container = await self._engine.create(options)
            try:
                result = await self._run_container(container, request)
            except BaseException:
                with trio.CancelScope(shield=True):
                    await self._remove(container)
                raise
            if network.Type == "HTTP":  # its network goes once it is gone
                with trio.CancelScope(shield=True):
                    await self._remove(container)
            else:
                self._remove_later(container)
            return result

    def _remove_later(self, container: Any) -> None:
        self._removing += 1
        trio.lowlevel.spawn_system_task(self._remove_in_background, container)

    async def _remove_in_background(self, container: Any) -> None:
        try:
            await self._remove(container)
        except Exception:  # a system task must not raise
            logger.exception("removing container %s failed", container.id)
        finally:
            self._removing -= 1
            self._removed.set()
            self._removed = trio.Event()

    async def _ensure_image(self, image: str) -> None:
        if await self._engine.has_image(image):
            return
        if not self._config.pull:
            raise ExecutorError(
                f"image {image} not found locally and pulling is disabled on this node"
            )
        with trio.move_on_after(self._config.pull_timeout):
            try:
                await self._engine.pull(image)
            except ExecutorError as exc:
                raise ExecutorError(
                    f"image {image} not found locally and could not be pulled: {exc}"
                ) from exc
            return
        raise ExecutorError(
            f"image {image} not found locally and could not be pulled within "
            f"{self._config.pull_timeout:g} s"
        )

    async def _run_container(
        self, container: Any, request: ExecutionRequest
    ) -> RunCommandResult:
        limit = request.limits.log_bytes
        pumps = [
            LogPump(container, name, request.results_dir / name, limit)
            for name in (STDOUT, STDERR)
        ]
        await self._engine.call(container.start)
        failure: ExecutorError | None = None
        async with trio.open_nursery() as nursery:
            for pump in pumps:
                nursery.start_soon(pump.run, self._engine.long_calls)
            try:
                status = await self._wait(container, time_budget(request.timeout))
            except ExecutorError as exc:
                # raised below, not in the nursery; the abandoned pumps end
                # when run() removes the container
                failure = exc
                nursery.cancel_scope.cancel()
            else:
                await _drain(pumps)
        if failure is not None:
            raise failure
        code = int(status.get("StatusCode", -1))
        if code != 0:
            await self._check_oom(container, request, code)
        finish = partial(
            finish_results,
            request.results_dir,
            code,
            request.limits,
            logs_truncated=(pumps[0].truncated, pumps[1].truncated),
        )
        return await trio.to_thread.run_sync(finish)

    async def _wait(self, container: Any, seconds: float) -> dict[str, Any]:
        with trio.move_on_after(seconds):
            status: dict[str, Any] = await self._engine.call(container.wait, long=True)
            return status
        raise ExecutionTimeout(seconds)

    async def _check_oom(
        self, container: Any, request: ExecutionRequest, code: int
    ) -> None:
        """Raise if the kernel killed the task for its memory.

        The engine marks a container OOMKilled a few ms after reporting its
        exit, and under load may miss the kernel's event altogether, so a
        SIGKILL (137) under a memory limit is looked at for up to
        `_OOM_GRACE` seconds and, if still unconfirmed, reported as a
        likely out-of-memory kill.
        """
        limited = code == _SIGKILLED and request.resources.Memory > 0
        limit = format_bytes(request.resources.Memory)
        if await self._oom_killed(container, _OOM_GRACE if limited else 0.0):
            raise ExecutorError(
                f"out of memory: the task was killed for using more than its "
                f"memory limit ({limit})"
            )
        if limited:
            raise ExecutorError(
                f"out of memory (likely): the task was killed by SIGKILL (exit "
                f"137) under its memory limit ({limit}); the engine did not "
                f"confirm an OOM kill"
            )

    async def _oom_killed(self, container: Any, grace: float) -> bool:
        deadline = trio.current_time() + grace
        while True:
            await self._engine.call(container.reload)
            if container.attrs.get("State", {}).get("OOMKilled"):
                return True
            if trio.current_time() >= deadline:
                return False
            await trio.sleep(_OOM_POLL)

    async def _remove(self, container: Any) -> None:
        with trio.move_on_after(_REMOVE_SECONDS):
            try:
                await self._engine.call(container.remove, force=True)
            except ExecutorError as exc:
                if "No such container" not in str(exc):
                    logger.warning("could not remove %s: %s", container.id, exc)
            return
        logger.warning("removing container %s timed out", container.id)


async def _drain(pumps: list[LogPump]) -> None:
    """Let the log streams finish after the container exits, then end them."""
    with trio.move_on_after(_DRAIN_SECONDS):
        for pump in pumps:
            await pump.done.wait()
    for pump in pumps:
        pump.close()
