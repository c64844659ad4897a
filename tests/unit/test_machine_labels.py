"""GPUs found by nvidia-smi, and the labels a node carries by itself."""

from __future__ import annotations

import os
import platform
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bacalao.machine_labels import (
    Gpu,
    automatic_labels,
    detect_gpus,
    parse_nvidia_smi,
)

TWO_GPUS = "0, Tesla T4, 15360\n1, NVIDIA A100-SXM4-40GB, 40960\n"


def test_nvidia_smi_output_gives_each_gpu_with_its_memory() -> None:
    assert parse_nvidia_smi(TWO_GPUS) == [
        Gpu(0, "Tesla T4", 15360),
        Gpu(1, "NVIDIA A100-SXM4-40GB", 40960),
    ]


@pytest.mark.parametrize("bad", ["0, Tesla T4\n", "x, Tesla T4, 100\n", "0, , 100\n"])
def test_output_not_of_the_queried_form_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="unexpected nvidia-smi line"):
        parse_nvidia_smi(bad)


names = st.text(
    st.characters(whitelist_categories=("L", "N"), whitelist_characters=" -"),
    min_size=1,
).filter(lambda s: s.strip() == s and s)


@given(st.lists(st.tuples(names, st.integers(0, 10**6)), max_size=8))
def test_what_is_printed_is_read_back(gpus: list[tuple[str, int]]) -> None:
    text = "".join(f"{i}, {name}, {mib}\n" for i, (name, mib) in enumerate(gpus))
    parsed = parse_nvidia_smi(text)
    assert [(g.name, g.memory_mib) for g in parsed] == gpus


def test_labels_name_the_system_and_each_gpu_as_bacalhau_does() -> None:
    labels = automatic_labels(parse_nvidia_smi(TWO_GPUS))
    assert labels["os_type"] == platform.system().lower()
    assert labels["os_arch"] in {"amd64", "arm64", platform.machine().lower()}
    assert labels["GPU-0"] == "Tesla-T4"
    assert labels["GPU-0-Memory"] == "15360-MiB"
    assert labels["GPU-1"] == "NVIDIA-A100-SXM4-40GB"


def fake_nvidia_smi(folder: Path, script: str) -> None:
    program = folder / "nvidia-smi"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(program.stat().st_mode | stat.S_IEXEC)


def test_gpus_are_detected_through_nvidia_smi_on_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No GPU exists on the test machines: a stand-in nvidia-smi prints
    what the real one prints for two GPUs."""
    fake_nvidia_smi(tmp_path, f"printf '{TWO_GPUS}'\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert [g.name for g in detect_gpus()] == ["Tesla T4", "NVIDIA A100-SXM4-40GB"]


def test_a_failing_or_absent_nvidia_smi_means_no_gpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert detect_gpus() == []
    fake_nvidia_smi(tmp_path, "echo 'NVIDIA-SMI has failed' >&2; exit 9\n")
    assert detect_gpus() == []
