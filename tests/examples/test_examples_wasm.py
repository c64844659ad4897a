"""examples/executors/wasm-*.yaml, run on a swarm: what their user sees."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
import wasmtime

from .conftest import SPECS, execution_of, failure_of, spec, state_of

ENGINES = {"engines": ["wasm"]}


async def test_hello(swarm):
    async with swarm(**ENGINES) as user:
        done = await user.run(spec("wasm-hello"))
    assert state_of(done)[0] == "Completed"
    assert execution_of(done).RunOutput.Stdout == "hello from wasm\n"


async def test_input_and_output_volume(swarm):
    async with swarm(**ENGINES) as user:
        done = await user.run(spec("wasm-input-output"))
        files = await user.results(done)
    output = execution_of(done).RunOutput
    assert state_of(done)[0] == "Completed"
    assert (output.Stdout, output.STDERR) == ("a line from the input\n", "read-only\n")
    assert files["outputs/output.txt"] == b"a line from the input\n"
    assert (files["stdout"], files["exitCode"]) == (b"a line from the input\n", b"0")


async def test_env_and_args(swarm):
    async with swarm(**ENGINES) as user:
        done = await user.run(spec("wasm-env-args"))
    lines = execution_of(done).RunOutput.Stdout.splitlines()
    assert lines == ["args_env.wasm", "one", "two words", "GREETING=hello"]


@pytest.mark.parametrize("example", ["wasm-timeout", "wasm-infinite-loop"])
async def test_timeout_stops_a_module_that_does_not_end(swarm, example):
    # a sleeping module (epoch deadline) and a busy loop (no host call) alike
    async with swarm(**ENGINES) as user:
        started = time.monotonic()
        done = await user.run(spec(example))
        took = time.monotonic() - started
    assert failure_of(done) == "timed out after 1 s"
    assert took < 4


async def test_memory_limit(swarm):
    async with swarm(**ENGINES) as user:
        done = await user.run(spec("wasm-memory-limit"))
    output = execution_of(done).RunOutput
    assert state_of(done)[0] == "Completed"
    assert (output.ExitCode, output.STDERR) == (12, "memory.grow failed\n")


async def test_trap(swarm):
    async with swarm(**ENGINES) as user:
        done = await user.run(spec("wasm-trap"))
        logs = await user.logs(done.Job.ID)
    assert failure_of(done) == "wasm trap: wasm `unreachable` instruction executed"
    assert logs == ["about to trap\n"]


def test_the_specs_carry_their_modules_as_compiled_now():
    script = Path(__file__).resolve().parents[2] / "scripts" / "build-wasm.py"
    loader = importlib.util.spec_from_file_location("build_wasm", script)
    assert loader is not None
    assert loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    for path in sorted(SPECS.glob("wasm-*.yaml")):
        text = path.read_text()
        assert module.inline_modules(text) == text, (
            f"{path.name} is stale: run scripts/build-wasm.py --specs"
        )


async def test_module_from_an_allow_listed_local_path(swarm, tmp_path: Path):
    modules = tmp_path / "modules"
    modules.mkdir()
    hello = (SPECS.parent / "wasm" / "hello.wat").read_text()
    (modules / "hello.wasm").write_bytes(wasmtime.wat2wasm(hello))
    job = spec("wasm-hello")
    source = {"Type": "localDirectory", "Params": {"SourcePath": str(modules)}}
    job["Tasks"][0]["InputSources"] = [{"Source": source, "Target": "/app"}]
    outside = spec("wasm-hello")
    outside["Tasks"][0]["InputSources"] = [
        {"Source": {**source, "Params": {"SourcePath": "/etc"}}, "Target": "/app"}
    ]
    async with swarm(**ENGINES, allowed_local_paths=[f"{modules}/**"]) as user:
        done = await user.run(job)
        state, message = await user.refused(outside)
    assert execution_of(done).RunOutput.Stdout == "hello from wasm\n"
    assert state in ("Queued", "Failed")
    assert message.endswith(
        "2 declined: local path /etc is not allow-listed on this node "
        "(the operator lists them in allowed_local_paths))"
    )


async def test_more_disk_than_the_nodes_have_is_refused(swarm):
    job = spec("wasm-hello")
    job["Tasks"][0]["Resources"] = {"Disk": "1000000Gb"}
    async with swarm(**ENGINES) as user:
        state, message = await user.refused(job)
    assert state in ("Queued", "Failed")
    assert message.startswith("no node can run this job (2 nodes considered: 2 ")
    assert "disk" in message
