"""The `local` input source (alias `localDirectory`): a path on the compute node.

Params as Bacalhau's: `SourcePath` (an absolute path on the node),
`ReadWrite` (bool, or the text "true"), `CreateAs` (`dir`, `file` or
`noCreate`, the default: what to create when the path is missing, which
needs `ReadWrite`).

The operator says which paths jobs may use with `allowed_local_paths`:
glob patterns (`*` and `?` inside one path segment, `**` across segments;
a trailing `/**` also matches the folder itself) with an optional suffix
`:rw` (jobs may ask for write access) or `:ro` (the default). A node with
an empty list does not offer the source at all.

Two checks, the same rules: `refusal` at bid time looks only at the
spelling of the path (no I/O on the event loop); `stage_local`, in a
worker thread, resolves symlinks and `..` first, so a link inside an
allowed folder cannot lead outside it. The input is bound where it is,
never copied: read-only unless `ReadWrite` was asked for and allowed.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import trio

from ..dataplane import PluginContext
from ..models.job import InputSource
from .base import InputSourcePlugin, ParamError, StagedInput
from .exceptions import StorageError

TYPES = ("local", "localDirectory")
_CREATE_AS = {"dir": "dir", "file": "file", "nocreate": "noCreate", "": "noCreate"}


@dataclass(frozen=True)
class AllowedPath:
    """One entry of the operator's allow-list."""

    pattern: str
    read_write: bool

    def matches(self, path: str) -> bool:
        return _glob(self.pattern).fullmatch(path) is not None


@dataclass(frozen=True)
class LocalSource:
    """The params of a `local` input source."""

    path: str
    read_write: bool
    create_as: str


def parse_allowed(entries: Iterable[str]) -> tuple[AllowedPath, ...]:
    """`/data/**:rw` → AllowedPath('/data/**', True); `:ro` or no suffix → read-only."""
    allowed = []
    for entry in entries:
        text = entry.strip()
        read_write = text.endswith(":rw")
        if text.endswith((":rw", ":ro")):
            text = text[:-3]
        if text:
            allowed.append(AllowedPath(posixpath.normpath(text), read_write))
    return tuple(allowed)


def is_local(source: InputSource) -> bool:
    return source.Source.Type.strip().lower() in ("local", "localdirectory")


def parse_source(source: InputSource) -> LocalSource:
    """The params of a local source; `StorageError` naming the bad one."""
    params = {k.lower(): v for k, v in source.Source.Params.items()}
    path = params.get("sourcepath")
    if not isinstance(path, str) or not path.startswith("/"):
        raise StorageError(
            f"input {source.Target}: a local source needs SourcePath, an absolute "
            f"path on the compute node (got {path!r})"
        )
    read_write = params.get("readwrite", False)
    create_as = _CREATE_AS.get(str(params.get("createas") or "").lower())
    if create_as is None:
        raise StorageError(
            f"input {source.Target}: CreateAs must be dir, file or noCreate "
            f"(got {params.get('createas')!r})"
        )
    return LocalSource(
        path=posixpath.normpath(path),
        read_write=read_write is True or str(read_write).lower() == "true",
        create_as=create_as,
    )


def refusal(source: InputSource, allowed: tuple[AllowedPath, ...]) -> str | None:
    """Why this node will not stage `source` (spelling only, no I/O), or None."""
    try:
        local = parse_source(source)
    except StorageError as exc:
        return str(exc)
    return _permission_refusal(local, allowed)


def stage_local(source: InputSource, allowed: tuple[AllowedPath, ...]) -> StagedInput:
    """Check `source` against `allowed` on its real path, create it if asked.

    Blocking: call it in a worker thread.
    """
    local = parse_source(source)
    reason = _permission_refusal(local, allowed)
    if reason is None:
        real = replace(local, path=os.path.realpath(local.path))
        reason = _permission_refusal(real, allowed, resolved_from=local.path)
    if reason is not None:
        raise StorageError(f"input {source.Target}: {reason}")
    path = Path(os.path.realpath(local.path))
    if not path.exists():
        _create(local, path, source.Target)
    return StagedInput(
        host_path=path, target=source.Target, read_only=not local.read_write
    )


def check_params(params: dict[str, object]) -> ParamError | None:
    """Whether `params` describe a local source at all (no allow-list)."""
    source = InputSource.model_validate(
        {"Source": {"Type": "local", "Params": params}, "Target": "/"}
    )
    try:
        parse_source(source)
    except StorageError as exc:
        param = "CreateAs" if "CreateAs" in str(exc) else "SourcePath"
        return ParamError(param, str(exc).split(": ", 1)[-1])
    return None


class LocalPathSource:
    """Binds allow-listed paths of this node; offered only with an allow-list."""

    def __init__(self, allowed: tuple[AllowedPath, ...]) -> None:
        self._allowed = allowed

    async def check(self) -> str | None:
        if not self._allowed:
            return "no local paths are allow-listed (allowed_local_paths)"
        return None

    def refusal(self, source: InputSource) -> str | None:
        return refusal(source, self._allowed)

    async def stage(self, source: InputSource, dest: Path) -> StagedInput:
        return await trio.to_thread.run_sync(stage_local, source, self._allowed)


def build(ctx: PluginContext) -> InputSourcePlugin:
    return LocalPathSource(parse_allowed(ctx.config.allowed_local_paths))


def _permission_refusal(
    local: LocalSource, allowed: tuple[AllowedPath, ...], resolved_from: str = ""
) -> str | None:
    shown = f"{resolved_from} (which is {local.path})" if resolved_from else local.path
    matching = [a for a in allowed if a.matches(local.path)]
    if not matching:
        return (
            f"local path {shown} is not allow-listed on this node "
            f"(the operator lists them in allowed_local_paths)"
        )
    if local.read_write and not any(a.read_write for a in matching):
        return f"local path {shown} is allow-listed read-only; ReadWrite was asked for"
    return None


def _create(local: LocalSource, path: Path, target: str) -> None:
    if not local.read_write or local.create_as == "noCreate":
        raise StorageError(
            f"input {target}: local path {local.path} does not exist (to have it "
            f"created, set ReadWrite: true and CreateAs: dir or file)"
        )
    try:
        if local.create_as == "dir":
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"input {target}: cannot create {local.path}: {exc.strerror}"
        ) from exc


def _glob(pattern: str) -> re.Pattern[str]:
    """A regex for a path glob: `**` any segments, `*` and `?` within one."""
    if pattern.endswith("/**"):
        return re.compile(_glob(pattern[:-3]).pattern + r"(?:/.*)?")
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    wildcards = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(p, re.escape(p)) for p in parts))
