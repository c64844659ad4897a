"""What a WASM task needs, worked out before any WebAssembly runs.

`WasmPlan` names the module files, argv, environment, preopened folders,
output files and memory limit of one run. Modules are found among the
task's staged inputs:

- `EntryModule` (a target path, or an `InputSource` whose `Target` counts)
  is the input with that target, or a file inside a directory input whose
  target is a prefix of it;
- each of `ImportModules` is found the same way and linked under its file
  stem: `/inputs/lib/math.wasm` satisfies imports from module `math`.

WASI preopens are folders, so an input that is a single file is shown
through a staging folder (hard links, or copies across file systems)
preopened at the file's parent target. Inputs are read-only (unless
staged writable), output volumes writable.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..models.engines import WasmEngineSpec
from ..models.job import InputSource
from .base import STDERR, STDOUT, ExecutionRequest, StagedInput
from .exceptions import ExecutorError
from .results import OutputVolume


@dataclass(frozen=True)
class Preopen:
    """A host folder shown to the module at `guest`."""

    host: Path
    guest: str
    writable: bool


@dataclass(frozen=True)
class WasmPlan:
    """Everything the WASM runtime needs for one run."""

    entry: Path
    entrypoint: str
    argv: list[str]
    env: dict[str, str]
    stdout: Path
    stderr: Path
    imports: list[tuple[str, Path]] = field(default_factory=list)
    preopens: list[Preopen] = field(default_factory=list)
    memory_limit: int = 0


def target_of(module: str | InputSource) -> str:
    """The guest path a module reference points at (relative means from /,
    as in Bacalhau's own `EntryModule: wasm.main` examples)."""
    path = module.Target if isinstance(module, InputSource) else module
    return posixpath.join("/", path)


def find_input(
    target: str, inputs: list[StagedInput]
) -> tuple[StagedInput, str] | None:
    """The input holding `target` and the path inside it ('' for itself)."""
    wanted = posixpath.normpath(target)
    best: tuple[StagedInput, str] | None = None
    for staged in inputs:
        root = posixpath.normpath(staged.target)
        if wanted == root:
            return staged, ""
        if wanted.startswith(root.rstrip("/") + "/"):
            inner = wanted[len(root.rstrip("/")) + 1 :]
            if best is None or len(inner) < len(best[1]):
                best = (staged, inner)
    return best


def module_path(module: str | InputSource, inputs: list[StagedInput]) -> Path:
    """The host file of a module reference; ExecutorError if not an input."""
    target = target_of(module)
    found = find_input(target, inputs)
    if found is None:
        targets = ", ".join(i.target for i in inputs) or "none"
        raise ExecutorError(
            f"wasm module {target!r} is not among the task's inputs "
            f"(input targets: {targets})"
        )
    staged, inner = found
    return staged.host_path / inner if inner else staged.host_path


def environment(request: ExecutionRequest, spec: WasmEngineSpec) -> dict[str, str]:
    """Task.Env then the engine's EnvironmentVariables (the latter win)."""
    return {**request.task.Env, **spec.EnvironmentVariables}


def make_plan(
    request: ExecutionRequest,
    spec: WasmEngineSpec,
    preopens: list[Preopen],
) -> WasmPlan:
    """The plan of one run (no I/O)."""
    target = target_of(spec.EntryModule)
    imports = [
        (PurePosixPath(target_of(m)).stem, module_path(m, request.inputs))
        for m in spec.ImportModules
    ]
    return WasmPlan(
        entry=module_path(spec.EntryModule, request.inputs),
        entrypoint=spec.Entrypoint,
        argv=[PurePosixPath(target).name, *spec.Parameters],
        env=environment(request, spec),
        stdout=request.results_dir / STDOUT,
        stderr=request.results_dir / STDERR,
        imports=imports,
        preopens=preopens,
        memory_limit=request.resources.Memory,
    )


def stage_preopens(
    inputs: list[StagedInput], volumes: list[OutputVolume], staging: Path
) -> list[Preopen]:
    """Preopens for inputs (file inputs linked into `staging`) and outputs."""
    preopens = []
    folders: dict[str, Path] = {}
    for staged in inputs:
        if staged.host_path.is_dir():
            preopens.append(
                Preopen(staged.host_path, staged.target, not staged.read_only)
            )
            continue
        guest_dir = posixpath.dirname(posixpath.normpath(staged.target)) or "/"
        if guest_dir not in folders:
            folders[guest_dir] = staging / str(len(folders))
            folders[guest_dir].mkdir(parents=True)
            preopens.append(
                Preopen(folders[guest_dir], guest_dir, not staged.read_only)
            )
        name = posixpath.basename(staged.target)
        _link_or_copy(staged.host_path, folders[guest_dir] / name)
    preopens += [Preopen(v.host_path, v.target, True) for v in volumes]
    return preopens


def _link_or_copy(source: Path, destination: Path) -> None:
    if not source.exists():
        raise ExecutorError(f"input {source} does not exist on this node")
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)
