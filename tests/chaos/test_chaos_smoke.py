"""The fault and attack suite's code paths, at a tiny size, so they cannot rot.

Runs `scripts/chaos/run.py --smoke --only compute-kill` (one compute node
SIGKILLed mid-job, with noop jobs) and checks that the suite ran it and
wrote a well-formed report. It asserts that the scenario was carried out
and judged, not that it passed: the suite exists to find defects.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

RUN = Path(__file__).resolve().parents[2] / "scripts" / "chaos" / "run.py"


def test_smoke_run_kills_a_compute_node_and_reports(tmp_path: Path) -> None:
    out, raw = tmp_path / "RELIABILITY.md", tmp_path / "chaos.json"
    argv = [sys.executable, str(RUN), "--smoke", "--only", "compute-kill"]
    argv += ["--out", str(out), "--json", str(raw), "--work", str(tmp_path / "w")]
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(raw.read_text())["rows"]
    assert [r["key"] for r in rows] == ["compute-kill"]
    row = rows[0]
    assert not row["error"], (row["error"], done.stderr[-3000:])
    assert row["rounds"] == 1, done.stderr[-3000:]
    assert row["jobs"]["acknowledged"] == 1
    assert isinstance(row["passed"], bool)
    text = out.read_text()
    assert text.startswith("# Reliability")
    assert "| scenario | rounds | acknowledged |" in text
    assert "## compute node SIGKILLed mid-job x1" in text
    for fact in ("- date: ", "- machine: ", "- code: "):
        assert fact in text
