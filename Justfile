# Every routine task. `scripts/dev <recipe>` sets up .venv and runs these.
set shell := ["bash", "-euo", "pipefail", "-c"]

default: demo

# Start a local 3-node network and run a hello-world job on it.
demo:
    python scripts/demo.py

# Lint, type-check and run the whole test suite.
test *ARGS: lint
    scripts/setup-docker.sh || echo "(no Docker engine: Docker tests will skip)"
    scripts/setup-browser.sh || echo "(no chromium: the dashboard's browser tests will skip)"
    pytest {{ARGS}}

lint:
    ruff check src tests scripts
    ruff format --check src tests scripts
    mypy

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
