"""The blocking half of the WASM executor: compile, link and run a plan.

`run_plan` runs in a worker thread. It is stopped from outside by its
`Interrupt` (see `wasm_poll`), which bumps its engine's epoch: the store it
is given has an epoch deadline of one tick, set before the thread starts,
so the module traps at its next loop or call, and a module asleep in
`poll_oneoff` wakes up and stops. Each run has an engine of its own for
that reason; compiled code is shared through `ModuleCache`, which keeps
serialized modules by content hash (deserializing into a fresh engine
costs ~0.1 ms where compiling costs milliseconds).

Memory: each module may have one linear memory (multi-memory is off),
capped at the plan's `memory_limit`; the entry module and each of its
`ImportModules` are capped separately.

wasmtime errors are translated here: a trap raises `ExecutorError("wasm
trap: ...")`, a module that fails to load, link or instantiate raises
`ExecutorError("wasm: ...")`; `proc_exit(n)` is a normal exit with code n.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import wasmtime

from .exceptions import ExecutorError
from .wasm_plan import WasmPlan
from .wasm_poll import Interrupt, Interrupted, define_poll_oneoff

_TABLE_ELEMENTS = 1_000_000


def new_engine() -> wasmtime.Engine:
    """An engine whose stores can be interrupted through its epoch."""
    config = wasmtime.Config()
    config.epoch_interruption = True
    config.wasm_multi_memory = False
    return wasmtime.Engine(config)


def new_store(engine: wasmtime.Engine) -> wasmtime.Store:
    """A store that traps as soon as `engine`'s epoch moves on."""
    store = wasmtime.Store(engine)
    store.set_epoch_deadline(1)
    return store


class ModuleCache:
    """Compiled modules by content hash; an LRU of `size` serialized modules.

    Every engine made by `new_engine` has the same settings, so a module
    compiled with one deserializes into any other. Thread-safe.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def load(self, engine: wasmtime.Engine, wasm: bytes) -> wasmtime.Module:
        key = hashlib.sha256(wasm).hexdigest()
        with self._lock:
            blob = self._items.get(key)
            if blob is not None:
                self._items.move_to_end(key)
        if blob is not None:
            return wasmtime.Module.deserialize(engine, blob)
        module = wasmtime.Module(engine, wasm)
        if self._size > 0:
            self._keep(key, bytes(module.serialize()))
        return module

    def _keep(self, key: str, blob: bytes) -> None:
        with self._lock:
            self._items[key] = blob
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def run_plan(
    plan: WasmPlan,
    store: wasmtime.Store,
    cache: ModuleCache,
    interrupt: Interrupt,
) -> int | None:
    """Run `plan` to its end: the exit code, or None if interrupted."""
    try:
        _configure(plan, store)
        func = _instantiate(plan, store, cache, interrupt)
        func(store)
    except Interrupted:
        return None
    except wasmtime.ExitTrap as exc:
        return exc.code
    except wasmtime.Trap as exc:
        if exc.trap_code == wasmtime.TrapCode.INTERRUPT:
            return None
        raise ExecutorError(f"wasm trap: {summary(exc.message)}") from exc
    except wasmtime.WasmtimeError as exc:
        raise ExecutorError(f"wasm: {summary(str(exc))}") from exc
    return 0


def summary(message: str) -> str:
    """wasmtime's multi-line error as one line: what failed, then its causes.

    "error while executing at wasm backtrace: ... Caused by: wasm trap: X"
    becomes "X"; "failed to parse ... Caused by: bad byte" becomes
    "failed to parse ...: bad byte".
    """
    head, _, causes = message.partition("Caused by:")
    first = head.strip().splitlines()[0] if head.strip() else ""
    parts = [] if first.startswith("error while executing") else [first]
    parts += [line.strip() for line in causes.splitlines() if line.strip()]
    text = ": ".join(p for p in parts if p)
    return text.removeprefix("wasm trap: ") or message.strip()


def _configure(plan: WasmPlan, store: wasmtime.Store) -> None:
    wasi = wasmtime.WasiConfig()
    wasi.argv = plan.argv
    wasi.env = list(plan.env.items())
    wasi.stdout_file = str(plan.stdout)
    wasi.stderr_file = str(plan.stderr)
    for preopen in plan.preopens:
        wasi.preopen_dir(str(preopen.host), preopen.guest, preopen.writable)
    store.set_wasi(wasi)
    memory = plan.memory_limit if plan.memory_limit > 0 else -1
    store.set_limits(memory_size=memory, table_elements=_TABLE_ELEMENTS)


def _instantiate(
    plan: WasmPlan,
    store: wasmtime.Store,
    cache: ModuleCache,
    interrupt: Interrupt,
) -> wasmtime.Func:
    engine = store.engine
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    define_poll_oneoff(linker, interrupt)
    for name, path in plan.imports:
        linker.define_module(store, name, cache.load(engine, _read(path)))
    module = cache.load(engine, _read(plan.entry))
    instance = linker.instantiate(store, module)
    func = instance.exports(store).get(plan.entrypoint)
    if not isinstance(func, wasmtime.Func):
        raise ExecutorError(
            f"wasm module {plan.argv[0]} exports no function {plan.entrypoint!r}"
        )
    if func.type(store).params:
        raise ExecutorError(
            f"wasm entrypoint {plan.entrypoint!r} must take no parameters"
        )
    return func


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ExecutorError(f"cannot read wasm module {path}: {exc.strerror}") from exc
