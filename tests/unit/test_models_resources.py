"""Resource strings as users write them, and the numbers nodes count."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bacalao.models.resources import (
    Resources,
    ResourcesConfig,
    format_bytes,
    parse_bytes,
    parse_cpu,
)

GiB = 1024**3


@pytest.mark.parametrize(
    ("text", "cores"),
    [
        ("500m", 0.5),
        ("0.5", 0.5),
        ("2", 2.0),
        ("1500m", 1.5),
        ("100m", 0.1),
        (" 1 ", 1.0),
        ("0", 0.0),
    ],
)
def test_cpu_amounts(text: str, cores: float) -> None:
    assert parse_cpu(text) == pytest.approx(cores)


@pytest.mark.parametrize("text", ["", "m", "lots", "-1", "1.2.3", "1e3", "2 cores"])
def test_bad_cpu_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a CPU amount"):
        parse_cpu(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512Mb", 512 * 1000**2),
        ("512MB", 512 * 1000**2),
        ("1GiB", GiB),
        ("1Gi", GiB),
        ("1.5Gb", 1_500_000_000),
        ("2GB", 2 * 1000**3),
        ("1000", 1000),
        ("10kb", 10_000),
        ("4KiB", 4096),
        ("3 GiB", 3 * GiB),
        ("1Tb", 1000**4),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_bytes(text) == size


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Mb",
        "-1Mb",
        "1.5.5Gb",
        "5 apples",
        "0x10",
        pytest.param("1" * 400, id="400-digits"),
    ],
)
def test_bad_sizes_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_bytes(text)


@given(
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from(
        [("b", 1), ("kb", 1000), ("MB", 1000**2), ("Gb", 1000**3), ("MiB", 1024**2)]
    ),
)
def test_whole_sizes_in_any_unit(n: int, unit: tuple[str, int]) -> None:
    suffix, factor = unit
    assert parse_bytes(f"{n}{suffix}") == n * factor


def test_config_accepts_numbers_as_in_yaml() -> None:
    config = ResourcesConfig.model_validate({"cpu": 2, "memory": 1000, "gpu": 1})
    assert (config.CPU, config.Memory, config.GPU) == ("2", "1000", "1")


@pytest.mark.parametrize(
    ("field", "value"),
    [("CPU", "fast"), ("Memory", "big"), ("Disk", "-1Gb"), ("GPU", "two")],
)
def test_config_refuses_bad_amounts_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        ResourcesConfig.model_validate({field: value})
    assert exc.value.errors()[0]["loc"] == (field,)


def test_parsed_uses_defaults_for_missing_amounts() -> None:
    defaults = Resources(CPU=0.5, Memory=512 * 1000**2, Disk=1, GPU=0)
    parsed = ResourcesConfig(CPU="2").parsed(defaults)
    assert parsed == Resources(CPU=2.0, Memory=512 * 1000**2, Disk=1, GPU=0)
    assert ResourcesConfig(Memory="1GiB", GPU="1").parsed() == Resources(
        Memory=GiB, GPU=1
    )


def test_arithmetic() -> None:
    a = Resources(CPU=1.5, Memory=GiB, Disk=10, GPU=1)
    b = Resources(CPU=0.5, Memory=GiB, Disk=20, GPU=0)
    assert a + b == Resources(CPU=2.0, Memory=2 * GiB, Disk=30, GPU=1)
    assert a - b == Resources(CPU=1.0, Memory=0, Disk=0, GPU=1)  # never negative


def test_fits_in_tolerates_float_rounding() -> None:
    total = Resources(CPU=0.3, Memory=10)
    asked = Resources(CPU=0.1) + Resources(CPU=0.2)  # 0.30000000000000004
    assert asked.fits_in(total)
    assert not Resources(CPU=0.31).fits_in(total)
    assert not Resources(Memory=11).fits_in(total)


def test_shortfall_names_each_missing_resource() -> None:
    free = Resources(CPU=1, Memory=GiB, Disk=GiB, GPU=0)
    assert Resources(CPU=1, Memory=GiB).shortfall(free) == []
    short = Resources(CPU=2, Memory=2 * GiB, Disk=GiB, GPU=1).shortfall(free)
    assert [s.split(" ")[0] for s in short] == ["cpu", "memory", "gpu"]
    assert short[0] == "cpu (asks 2, free 1)"
    assert short[1] == "memory (asks 2.0 GiB, free 1.0 GiB)"


def test_format_bytes() -> None:
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(3 * GiB) == "3.0 GiB"


def test_negative_parsed_amounts_are_refused() -> None:
    with pytest.raises(ValidationError):
        Resources(CPU=-1)
