# Every routine task. `scripts/dev <recipe>` sets up .venv and runs these.
set shell := ["bash", "-euo", "pipefail", "-c"]

default: demo

# Start a local 3-node network and run a hello-world job on it.
demo:
    python scripts/demo.py

# Check, then run the whole test suite.
test *ARGS: check
    scripts/setup-docker.sh || echo "(no Docker engine: Docker tests will skip)"
    scripts/setup-browser.sh || echo "(no chromium: the dashboard's browser tests will skip)"
    pytest {{ARGS}}

# The fast tests (seconds; no Docker, no network swarms): tests/unit and the
# client's, property tests at a tenth of their examples (tests/effort.py).
unit *ARGS:
    BACALAO_QUICK=1 pytest -q tests/unit tests/test_client.py tests/test_client_streams.py {{ARGS}}

# Lint, format check and type check: what every commit passes.
check:
    ruff check src tests scripts
    ruff format --check src tests scripts
    mypy

# The old name of `check`.
lint: check

fmt:
    ruff format src tests scripts
    ruff check --fix src tests scripts

# Run the benchmark suite (scripts/bench/) and rewrite BENCHMARKS.md;
# `just bench --quick` (< 4 minutes) prints the report instead;
# `just bench --only 10,14` re-measures some figures and merges them in.
bench *ARGS:
    python scripts/bench/run.py {{ARGS}}

# The quick benchmark run: `just bench --quick`.
bench-quick:
    python scripts/bench/run.py --quick

# Run the fault and attack suite (scripts/chaos/) and rewrite RELIABILITY.md;
# `just chaos --quick` runs fewer rounds and prints the report instead.
chaos *ARGS:
    python scripts/chaos/run.py {{ARGS}}
