"""The `wasm` executor: run a WASI (preview 1) module with wasmtime.

The module and the modules it imports are staged inputs (see `wasm_plan`);
it gets argv (`[module file name, *Parameters]`), the environment, its
inputs preopened read-only and its output volumes writable, and no network.
Its stdout and stderr go straight to the results folder (capped after the
run). Memory is limited to the task's memory resource.

The module runs in a worker thread (`wasm_runtime`); a watchdog task in
the caller's nursery fires the run's `Interrupt` when the timeout expires
or the caller is cancelled, which traps the module at its next loop or
call and wakes it from any `poll_oneoff` sleep (see `wasm_poll`), so the
thread ends promptly and never outlives `run`.
"""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path

import trio
from pydantic import ValidationError

from ..models.engines import WasmEngineSpec
from ..models.execution import RunCommandResult
from ..models.job import Job
from .base import STDERR, STDOUT, ExecutionRequest
from .config import WasmConfig
from .exceptions import ExecutionTimeout, ExecutorError
from .guard import TaskGuard
from .output import cap_file
from .results import finish_results, prepare_results, time_budget
from .wasm_plan import WasmPlan, make_plan, stage_preopens, target_of
from .wasm_poll import Interrupt
from .wasm_runtime import ModuleCache, new_engine, new_store, run_plan

_NETWORKLESS = ("Default", "None")


def wasm_spec(job: Job) -> WasmEngineSpec:
    """The task's wasm parameters; `ExecutorError` naming the bad field."""
    try:
        return WasmEngineSpec.model_validate(job.task.Engine.Params)
    except ValidationError as exc:
        raise ExecutorError(f"invalid wasm engine spec: {exc}") from exc


class _Watchdog:
    """Stops a run's module when the timeout expires or the caller cancels."""

    def __init__(self, interrupt: Interrupt) -> None:
        self._interrupt = interrupt
        self.timed_out = False

    async def serve(self, seconds: float) -> None:
        try:
            await trio.sleep(seconds)
            self.timed_out = True
        finally:
            self._interrupt.fire()


class WasmExecutor:
    """Runs `wasm` tasks: WASI modules in wasmtime, one engine per run."""

    name = "wasm"

    def __init__(
        self, config: WasmConfig | None = None, *, guard: TaskGuard | None = None
    ) -> None:
        self._config = config or WasmConfig()
        self._cache = ModuleCache(self._config.module_cache)
        self._limiter: trio.CapacityLimiter | None = None
        self._guard = guard or TaskGuard()

    async def check(self) -> str | None:
        await self._guard.refresh()
        return None

    def refuse(self, job: Job) -> str | None:
        try:
            spec = wasm_spec(job)
        except ExecutorError as exc:
            return str(exc)
        return (
            _task_refusal(job)
            or _modules_refusal(job, spec)
            or self._guard.refusal(job)
        )

    async def run(self, request: ExecutionRequest) -> RunCommandResult:
        spec = wasm_spec(request.job)
        reason = _task_refusal(request.job)
        if reason is not None:
            raise ExecutorError(reason)
        await self._guard.check(request.job)
        staging = await trio.to_thread.run_sync(_staging_dir, request.results_dir)
        try:
            plan = await trio.to_thread.run_sync(_plan, request, spec, staging)
            code = await self._run_plan(plan, time_budget(request.timeout))
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(shutil.rmtree, staging, True)
                await self._guard.refresh()
        finish = partial(_finish, request, code)
        return await trio.to_thread.run_sync(finish)

    async def cleanup(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    @property
    def cached_modules(self) -> int:
        """How many compiled modules the cache holds."""
        return len(self._cache)

    async def _run_plan(self, plan: WasmPlan, seconds: float) -> int:
        engine = new_engine()
        store = new_store(engine)
        interrupt = Interrupt(engine)
        watchdog = _Watchdog(interrupt)
        run = partial(run_plan, plan, store, self._cache, interrupt)
        failure: ExecutorError | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watchdog.serve, seconds)
            try:
                code = await trio.to_thread.run_sync(run, limiter=self._threads())
            except ExecutorError as exc:  # raised below, not in the nursery
                failure = exc
            finally:
                nursery.cancel_scope.cancel()
        if failure is not None:
            raise failure
        if code is None:  # interrupted: by the timeout (cancellation raised above)
            if watchdog.timed_out:
                raise ExecutionTimeout(seconds)
            raise ExecutorError("wasm: the module was interrupted")
        return code

    def _threads(self) -> trio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = trio.CapacityLimiter(self._config.max_threads)
        return self._limiter


def _task_refusal(job: Job) -> str | None:
    task = job.task
    if task.Network.Type not in _NETWORKLESS:
        return f"wasm tasks have no network (task asks for {task.Network.Type})"
    if task.Resources.parsed().GPU > 0:
        return "wasm tasks cannot use GPUs"
    return None


def _modules_refusal(job: Job, spec: WasmEngineSpec) -> str | None:
    """Modules named by target must be (inside) one of the task's inputs.

    Modules given as `InputSource` objects are staged by the compute side.
    """
    targets = [i.Target for i in job.task.InputSources if i.Target]
    for module in [spec.EntryModule, *spec.ImportModules]:
        if isinstance(module, str) and not _under_any(target_of(module), targets):
            return f"wasm module {module!r} is not the target of any input source"
    return None


def _under_any(target: str, roots: list[str]) -> bool:
    return any(target == r or target.startswith(r.rstrip("/") + "/") for r in roots)


def _staging_dir(results_dir: Path) -> Path:
    results_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".wasm-inputs-", dir=results_dir.parent))


def _plan(request: ExecutionRequest, spec: WasmEngineSpec, staging: Path) -> WasmPlan:
    volumes = prepare_results(request)
    preopens = stage_preopens(request.inputs, volumes, staging)
    return make_plan(request, spec, preopens)


def _finish(request: ExecutionRequest, code: int) -> RunCommandResult:
    limit = request.limits.log_bytes
    out_cut = cap_file(request.results_dir / STDOUT, limit)
    err_cut = cap_file(request.results_dir / STDERR, limit)
    return finish_results(
        request.results_dir, code, request.limits, logs_truncated=(out_cut, err_cut)
    )
