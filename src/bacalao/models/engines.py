"""Typed engine parameters: what `Task.Engine.Params` holds per engine type.

The job model keeps `Params` as a free mapping (as Bacalhau does); these
models give it a shape per engine, and `engine_params` validates a task's
params at submission so a bad spec is refused with the field named.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, field_validator

from .base import WireModel
from .image_ref import check_image_reference
from .job import InputSource, SpecConfig


def _text_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return value


class DockerEngineSpec(WireModel):
    """Parameters of the `docker` engine."""

    Image: str = Field(min_length=1)
    Entrypoint: list[str] = Field(default_factory=list)
    Parameters: list[str] = Field(default_factory=list)
    EnvironmentVariables: list[str] = Field(default_factory=list)
    WorkingDirectory: str = ""

    _lists = field_validator(
        "Entrypoint", "Parameters", "EnvironmentVariables", mode="before"
    )(_text_list)

    @field_validator("Image")
    @classmethod
    def _reference(cls, value: str) -> str:
        return check_image_reference(value.strip())

    @field_validator("EnvironmentVariables")
    @classmethod
    def _key_value(cls, value: list[str]) -> list[str]:
        for item in value:
            if "=" not in item:
                raise ValueError(f"{item!r} is not KEY=VALUE")
        return value

    @field_validator("WorkingDirectory")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if value and not value.startswith("/"):
            raise ValueError(f"{value!r} must be an absolute path")
        return value


class WasmEngineSpec(WireModel):
    """Parameters of the `wasm` engine.

    `EntryModule` is the target path of the input source that holds the
    module (Bacalhau v1.5+); an inline `InputSource` object (older specs) is
    accepted too and turned into an input by `inline_entry_module`.
    """

    EntryModule: str | InputSource
    Entrypoint: str = "_start"
    Parameters: list[str] = Field(default_factory=list)
    EnvironmentVariables: dict[str, str] = Field(default_factory=dict)
    ImportModules: list[str | InputSource] = Field(default_factory=list)

    _lists = field_validator("Parameters", "ImportModules", mode="before")(_text_list)

    @field_validator("Entrypoint", mode="before")
    @classmethod
    def _default_entry(cls, value: Any) -> Any:
        return value or "_start"

    @field_validator("EnvironmentVariables", mode="before")
    @classmethod
    def _env(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, list):
            pairs = [str(v).split("=", 1) for v in value]
            return {p[0]: p[1] if len(p) > 1 else "" for p in pairs}
        return value

    @field_validator("EntryModule")
    @classmethod
    def _entry_given(cls, value: str | InputSource) -> str | InputSource:
        if isinstance(value, str) and not value:
            raise ValueError("must name the input target holding the WASM module")
        return value


class NoopEngineSpec(WireModel):
    """Parameters of the `noop` engine: pretend to run, as told."""

    Duration: float = Field(0.0, ge=0, description="seconds to pretend to run")
    ExitCode: int = 0
    Stdout: str = ""
    Stderr: str = ""
    Fail: str = Field("", description="fail the execution with this message")


ENGINE_SPECS: dict[str, type[WireModel]] = {
    "docker": DockerEngineSpec,
    "wasm": WasmEngineSpec,
    "noop": NoopEngineSpec,
}


class UnknownEngine(ValueError):
    """Raised for an engine type bacalao does not know."""


def engine_params(engine: SpecConfig) -> WireModel:
    """The typed params of `engine`; `UnknownEngine` or `ValidationError`."""
    spec = ENGINE_SPECS.get(engine.Type.lower())
    if spec is None:
        known = ", ".join(sorted(ENGINE_SPECS))
        raise UnknownEngine(f"unknown engine type {engine.Type!r} (one of {known})")
    return spec.model_validate(engine.Params)


__all__ = [
    "ENGINE_SPECS",
    "DockerEngineSpec",
    "NoopEngineSpec",
    "UnknownEngine",
    "ValidationError",
    "WasmEngineSpec",
    "engine_params",
]
