"""The `inline` input source: a `data:` URL in the spec, written to a file.

Params: `URL`, a data URL (base64 or percent-encoded). The file is named
after the target's last segment and shown read-only at the target.
"""

from __future__ import annotations

from pathlib import Path

import trio

from ..dataplane import PluginContext
from ..models.data_url import decode_data_url
from ..models.job import InputSource
from .base import InputSourcePlugin, ParamError, StagedInput, lower_params
from .exceptions import StorageError


def check_params(params: dict[str, object]) -> ParamError | None:
    url = lower_params(params).get("url")
    if not isinstance(url, str) or not url:
        return ParamError("URL", "an inline source needs a data: URL")
    try:
        decode_data_url(url)
    except ValueError as exc:
        return ParamError("URL", str(exc))
    return None


class InlineSource:
    """Writes the spec's bytes to a file."""

    async def check(self) -> str | None:
        return None

    def refusal(self, source: InputSource) -> str | None:
        problem = check_params(source.Source.Params)
        return None if problem is None else problem.message

    async def stage(self, source: InputSource, dest: Path) -> StagedInput:
        url = lower_params(source.Source.Params).get("url")
        if not isinstance(url, str):
            raise StorageError(f"input {source.Target}: inline source has no URL")
        try:
            data = decode_data_url(url)
        except ValueError as exc:
            raise StorageError(f"input {source.Target}: {exc}") from None
        path = dest / (Path(source.Target).name or "input")

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        await trio.to_thread.run_sync(write)
        return StagedInput(host_path=path, target=source.Target, read_only=True)


def build(ctx: PluginContext) -> InputSourcePlugin:
    return InlineSource()
