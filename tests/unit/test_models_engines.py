"""Engine params: each engine's shape, checked at submission."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bacalao.models.engines import (
    DockerEngineSpec,
    NoopEngineSpec,
    UnknownEngine,
    WasmEngineSpec,
    engine_params,
)
from bacalao.models.job import InputSource, SpecConfig


def _params(engine: str, **params: object) -> object:
    return engine_params(SpecConfig(Type=engine, Params=params))


def test_docker_params_as_bacalhau_writes_them() -> None:
    spec = _params(
        "docker",
        Image="busybox:1.37.0",
        Entrypoint=["/bin/sh"],
        Parameters=["-c", "echo hi"],
        EnvironmentVariables=["A=1"],
        WorkingDirectory="/work",
    )
    assert spec == DockerEngineSpec(
        Image="busybox:1.37.0",
        Entrypoint=["/bin/sh"],
        Parameters=["-c", "echo hi"],
        EnvironmentVariables=["A=1"],
        WorkingDirectory="/work",
    )


def test_engine_type_and_param_keys_ignore_case() -> None:
    spec = engine_params(
        SpecConfig(Type="Docker", Params={"image": "ubuntu", "entrypoint": "echo"})
    )
    assert isinstance(spec, DockerEngineSpec)
    assert (spec.Image, spec.Entrypoint) == ("ubuntu", ["echo"])


def test_docker_single_strings_and_nulls_become_lists() -> None:
    spec = _params("docker", Image="x", Parameters="hi", Entrypoint=None)
    assert isinstance(spec, DockerEngineSpec)
    assert (spec.Parameters, spec.Entrypoint) == (["hi"], [])


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({}, "Image"),
        ({"Image": ""}, "Image"),
        ({"Image": "x", "EnvironmentVariables": ["NOEQUALS"]}, "EnvironmentVariables"),
        ({"Image": "x", "WorkingDirectory": "relative"}, "WorkingDirectory"),
        ({"Image": "x", "Parameters": 5}, "Parameters"),
    ],
)
def test_bad_docker_params_name_the_field(
    params: dict[str, object], where: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        engine_params(SpecConfig(Type="docker", Params=params))
    assert exc.value.errors()[0]["loc"][0] == where


def test_wasm_params() -> None:
    spec = _params(
        "wasm",
        EntryModule="/app/main.wasm",
        Parameters="--flag",
        EnvironmentVariables=["A=1", "B"],
    )
    assert spec == WasmEngineSpec(
        EntryModule="/app/main.wasm",
        Entrypoint="_start",
        Parameters=["--flag"],
        EnvironmentVariables={"A": "1", "B": ""},
    )


def test_wasm_empty_entrypoint_means_start() -> None:
    spec = _params("wasm", EntryModule="/m.wasm", Entrypoint="")
    assert isinstance(spec, WasmEngineSpec)
    assert spec.Entrypoint == "_start"


def test_wasm_legacy_entry_module_object_is_accepted() -> None:
    source = {"Source": {"Type": "inline", "Params": {"URL": "data:,x"}}}
    spec = _params("wasm", EntryModule=source)
    assert isinstance(spec, WasmEngineSpec)
    assert isinstance(spec.EntryModule, InputSource)
    assert spec.EntryModule.Source.Type == "inline"


@pytest.mark.parametrize("params", [{}, {"EntryModule": ""}])
def test_wasm_needs_an_entry_module(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as exc:
        engine_params(SpecConfig(Type="wasm", Params=params))
    assert exc.value.errors()[0]["loc"][0] == "EntryModule"


def test_noop_defaults_and_limits() -> None:
    assert _params("noop") == NoopEngineSpec()
    spec = _params("noop", duration=1.5, exitCode=3, stdout="out", fail="boom")
    assert spec == NoopEngineSpec(Duration=1.5, ExitCode=3, Stdout="out", Fail="boom")
    with pytest.raises(ValidationError) as exc:
        _params("noop", Duration=-1)
    assert exc.value.errors()[0]["loc"] == ("Duration",)


@pytest.mark.parametrize("engine", ["python", "", "dockerr"])
def test_unknown_engine_is_refused_naming_the_known_ones(engine: str) -> None:
    with pytest.raises(UnknownEngine, match="docker, noop, wasm"):
        engine_params(SpecConfig(Type=engine))


def test_unknown_engine_is_a_value_error() -> None:
    """Callers that treat bad input as ValueError keep working."""
    assert issubclass(UnknownEngine, ValueError)
