"""The benchmark suite's code paths, at tiny sizes, so they cannot rot.

Runs `scripts/bench/run.py --smoke` (every phase of the quick suite, all
phases at once, a few jobs or MiB each) and checks that it produced every
figure, the data plane's (10-14) and the CLI job figures (15, 16) included.
It asserts nothing about durations: benchmarks are not tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

RUN = Path(__file__).resolve().parents[2] / "scripts" / "bench" / "run.py"


def test_smoke_run_produces_every_figure(tmp_path: Path) -> None:
    out, raw = tmp_path / "BENCHMARKS.md", tmp_path / "bench.json"
    argv = [sys.executable, str(RUN), "--smoke", "--out", str(out), "--json", str(raw)]
    done = subprocess.run(
        [*argv, "--work", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = {f["num"]: f for f in json.loads(raw.read_text())["figures"]}
    assert sorted(figures) == list(range(1, 17))
    for num, fig in figures.items():
        assert not fig["error"], (num, fig["error"], done.stderr[-3000:])
        if num in (2, 14, 16) and fig["skipped"]:  # no Docker engine here
            continue
        assert not fig["skipped"], (num, fig["skipped"])
        assert fig["data"], num
        assert fig["result"] != "not measured", num
    text = out.read_text()
    for num in range(1, 17):
        assert f"## {num}. {figures[num]['title']}" in text
    assert figures[4]["data"]["lost"] == 0
    assert figures[4]["data"]["duplicated"] == 0
    assert figures[6]["data"]["published"] == 2
    assert set(figures[12]["data"]["shapes"]) == {"one", "many"}
    if not figures[14]["skipped"]:  # each kind of job ran on the runner node
        runs = figures[14]["data"]["runs"]
        assert {kind: len(r) for kind, r in runs.items()} == {
            "remote": 1,
            "local": 1,
            "none": 1,
        }
