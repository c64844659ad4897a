"""The S3 benchmarks run end to end (tiny sizes), so they cannot rot.

Asserts that every figure is printed, never a rate: this machine's speed
is not something a test may depend on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench"

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("script", "args", "figures"),
    [
        ("s3_stage.py", ["--size-mib", "4", "--objects", "8"], 3),
        ("s3_publish.py", ["--size-mib", "4"], 1),
    ],
)
def test_s3_bench_prints_its_figures(script: str, args: list[str], figures: int):
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("% of boto3") == figures, result.stdout
    assert "RSS +" in result.stdout
