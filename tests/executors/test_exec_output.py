"""Capped output writing and reading, and the results folder layout."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bacalao.executors.base import OutputLimits
from bacalao.executors.exceptions import ExecutorError
from bacalao.executors.output import CappedWriter, cap_file, decode_head, read_head
from bacalao.executors.results import (
    finish_results,
    output_volumes,
    prepare_results,
    time_budget,
)

from .support import MakeRequest


def test_capped_writer_keeps_the_head(tmp_path: Path):
    path = tmp_path / "log"
    with CappedWriter(path, 5) as writer:
        writer.write(b"abc")
        assert path.read_bytes() == b"abc"  # unbuffered: visible at once
        writer.write(b"defg")
        writer.write(b"h")
    assert path.read_bytes() == b"abcde"
    assert writer.truncated


def test_read_head(tmp_path: Path):
    path = tmp_path / "out"
    path.write_bytes(b"hello world")
    assert read_head(path, 5) == ("hello", True)
    assert read_head(path, 11) == ("hello world", False)
    assert read_head(tmp_path / "missing", 5) == ("", False)


def test_decode_head_drops_a_cut_character_and_replaces_bad_bytes():
    assert decode_head("né".encode()[:2]) == "n"
    assert decode_head(b"a\xffb") == "a\ufffdb"


def test_cap_file(tmp_path: Path):
    path = tmp_path / "out"
    path.write_bytes(b"0123456789")
    assert not cap_file(path, 20)
    assert cap_file(path, 4)
    assert path.read_bytes() == b"0123"


def test_output_volumes(make_request: MakeRequest):
    request = make_request("noop", {}, ResultPaths=[{"Name": "data", "Path": "/data/"}])
    volumes = {(v.host_path.name, v.target) for v in output_volumes(request)}
    assert volumes == {("data", "/data"), ("outputs", "/outputs")}


def test_a_result_path_at_outputs_replaces_the_default(make_request: MakeRequest):
    request = make_request("noop", {}, ResultPaths=[{"Name": "o", "Path": "/outputs"}])
    assert [(v.host_path.name, v.target) for v in output_volumes(request)] == [
        ("o", "/outputs")
    ]


@pytest.mark.parametrize("name", ["stdout", "exitCode", "a/b", ".."])
def test_bad_result_path_names(make_request: MakeRequest, name: str):
    request = make_request("noop", {}, ResultPaths=[{"Name": name, "Path": "/x"}])
    with pytest.raises(ExecutorError, match="cannot be used as a folder name"):
        output_volumes(request)


def test_relative_result_path(make_request: MakeRequest):
    request = make_request("noop", {}, ResultPaths=[{"Name": "x", "Path": "x"}])
    with pytest.raises(ExecutorError, match="must be an absolute path"):
        output_volumes(request)


def test_prepare_and_finish(make_request: MakeRequest):
    request = make_request("noop", {})
    prepare_results(request)
    (request.results_dir / "stdout").write_text("0123456789")
    result = finish_results(
        request.results_dir,
        2,
        OutputLimits(output_bytes=4),
        logs_truncated=(False, True),
    )
    assert (result.Stdout, result.StdoutTruncated) == ("0123", True)
    assert (result.STDERR, result.StderrTruncated) == ("", True)
    assert (request.results_dir / "exitCode").read_text() == "2"
    assert result.model_dump(by_alias=True)["stderr"] == ""


def test_time_budget():
    assert time_budget(None) == time_budget(0) == time_budget(-1) == math.inf
    assert time_budget(2.5) == 2.5


def test_prepare_empties_old_logs(make_request: MakeRequest):
    request = make_request("noop", {})
    request.results_dir.mkdir(parents=True)
    (request.results_dir / "stdout").write_text("from an earlier attempt")
    prepare_results(request)
    assert (request.results_dir / "stdout").read_bytes() == b""
