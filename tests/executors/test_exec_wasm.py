"""The wasm executor: WASI modules from examples/wasm run through wasmtime."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trio
import wasmtime

from bacalao.executors.base import OutputLimits, StagedInput
from bacalao.executors.config import WasmConfig
from bacalao.executors.exceptions import ExecutionTimeout, ExecutorError
from bacalao.executors.wasm import WasmExecutor
from bacalao.executors.wasm_poll import (
    Interrupt,
    Interrupted,
    parse_subscriptions,
    poll,
)
from bacalao.models.resources import Resources

from .support import MakeRequest, make_job

WasmInput = Callable[[str], StagedInput]
MiB = 1024**2


@pytest.fixture
def executor() -> WasmExecutor:
    return WasmExecutor(WasmConfig(module_cache=4))


def params(name: str, *args: str, **extra: object) -> dict[str, object]:
    return {"EntryModule": f"/app/{name}.wasm", "Parameters": list(args), **extra}


async def test_hello_world(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    request = make_request("wasm", params("hello"), inputs=[wasm_input("hello")])
    with trio.fail_after(10):
        result = await executor.run(request)
    assert (result.Stdout, result.STDERR, result.ExitCode) == (
        "hello from wasm\n",
        "",
        0,
    )
    assert (request.results_dir / "stdout").read_text() == "hello from wasm\n"
    assert (request.results_dir / "exitCode").read_text() == "0"
    assert (request.results_dir / "outputs").is_dir()


async def test_args_and_env(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    spec = params(
        "args_env",
        "one",
        "two words",
        EnvironmentVariables={"FROM_SPEC": "spec", "SHARED": "from-spec"},
    )
    request = make_request(
        "wasm",
        spec,
        inputs=[wasm_input("args_env")],
        Env={"FROM_TASK": "task", "SHARED": "from-task"},
    )
    with trio.fail_after(10):
        result = await executor.run(request)
    lines = result.Stdout.splitlines()
    assert lines[:3] == ["args_env.wasm", "one", "two words"]
    assert sorted(lines[3:]) == ["FROM_SPEC=spec", "FROM_TASK=task", "SHARED=from-spec"]


@pytest.mark.parametrize("as_file", [False, True], ids=["dir-input", "file-input"])
async def test_reads_input_writes_output(
    executor: WasmExecutor,
    make_request: MakeRequest,
    wasm_input: WasmInput,
    tmp_path: Path,
    as_file: bool,
):
    data = tmp_path / "data"
    data.mkdir()
    (data / "input.txt").write_text("some input\n")
    staged = (
        StagedInput(data / "input.txt", "/inputs/input.txt")
        if as_file
        else StagedInput(data, "/inputs")
    )
    request = make_request("wasm", params("copy"), inputs=[wasm_input("copy"), staged])
    with trio.fail_after(10):
        result = await executor.run(request)
    assert (result.ExitCode, result.Stdout, result.STDERR) == (
        0,
        "some input\n",
        "read-only\n",
    )
    assert (
        request.results_dir / "outputs" / "output.txt"
    ).read_text() == "some input\n"
    assert sorted(p.name for p in data.iterdir()) == ["input.txt"]
    leftovers = list(await trio.Path(tmp_path / "results").glob(".wasm-inputs-*"))
    assert not leftovers, "staging folder left behind"


async def test_result_paths_are_preopened(
    executor: WasmExecutor,
    make_request: MakeRequest,
    wasm_input: WasmInput,
    tmp_path: Path,
):
    data = tmp_path / "data"
    data.mkdir()
    (data / "input.txt").write_text("x")
    request = make_request(
        "wasm",
        params("copy"),
        inputs=[wasm_input("copy"), StagedInput(data, "/inputs")],
        ResultPaths=[{"Name": "out", "Path": "/outputs"}],
    )
    with trio.fail_after(10):
        result = await executor.run(request)
    assert result.ExitCode == 0
    assert (request.results_dir / "out" / "output.txt").read_text() == "x"
    assert not (request.results_dir / "outputs").exists()


async def test_proc_exit_code(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    request = make_request(
        "wasm", params("exit_code", "3"), inputs=[wasm_input("exit_code")]
    )
    with trio.fail_after(10):
        result = await executor.run(request)
    assert result.ExitCode == 3
    assert (request.results_dir / "exitCode").read_text() == "3"


async def test_trap_is_an_executor_error(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    request = make_request("wasm", params("trap"), inputs=[wasm_input("trap")])
    with (
        trio.fail_after(10),
        pytest.raises(ExecutorError, match=r"^wasm trap: .*unreachable"),
    ):
        await executor.run(request)
    assert (request.results_dir / "stdout").read_text() == "about to trap\n"


async def test_infinite_loop_times_out(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    request = make_request(
        "wasm", params("spin"), inputs=[wasm_input("spin")], timeout=0.3
    )
    started = time.monotonic()
    with trio.fail_after(5), pytest.raises(ExecutionTimeout):
        await executor.run(request)
    assert time.monotonic() - started < 2


async def test_cancellation_stops_the_module(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    request = make_request("wasm", params("spin"), inputs=[wasm_input("spin")])
    with trio.fail_after(5):
        with trio.move_on_after(0.3) as scope:
            await executor.run(request)
    assert scope.cancelled_caught
    assert time.monotonic() - scope.deadline < 1
    # run() returns only once its worker thread has ended: nothing spins on
    cpu_before = time.process_time()
    await trio.sleep(0.2)
    assert time.process_time() - cpu_before < 0.1


async def test_a_short_sleep_ends_by_itself(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    request = make_request("wasm", params("sleep", "50"), inputs=[wasm_input("sleep")])
    started = time.monotonic()
    with trio.fail_after(5):
        result = await executor.run(request)
    assert (result.Stdout, result.ExitCode) == ("woke up\n", 0)
    assert time.monotonic() - started >= 0.05


async def test_timeout_stops_a_module_asleep_in_wasi(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    # sleeps an hour inside poll_oneoff, where no epoch check can reach it
    request = make_request(
        "wasm", params("sleep"), inputs=[wasm_input("sleep")], timeout=0.3
    )
    started = time.monotonic()
    with trio.fail_after(5), pytest.raises(ExecutionTimeout, match=r"0\.3 s"):
        await executor.run(request)
    assert time.monotonic() - started < 1.3
    assert (request.results_dir / "stdout").read_text() == ""


async def test_cancellation_wakes_a_sleeping_module(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    request = make_request("wasm", params("sleep"), inputs=[wasm_input("sleep")])
    with trio.fail_after(5), trio.move_on_after(0.3) as scope:
        await executor.run(request)
    assert scope.cancelled_caught
    assert time.monotonic() - scope.deadline < 1


async def test_memory_limit_stops_growth(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    limited = make_request(
        "wasm",
        params("grow"),
        inputs=[wasm_input("grow")],
        resources=Resources(Memory=16 * MiB),
    )
    free = make_request("wasm", params("grow"), inputs=[wasm_input("grow")])
    with trio.fail_after(10):
        capped = await executor.run(limited)
        grown = await executor.run(free)
    assert (capped.ExitCode, capped.STDERR) == (12, "memory.grow failed\n")
    assert (grown.ExitCode, grown.Stdout) == (0, "grew 64 MiB\n")


async def test_module_too_big_for_memory_limit(
    executor: WasmExecutor, make_request: MakeRequest, tmp_path: Path
):
    module = tmp_path / "big.wasm"
    module.write_bytes(
        wasmtime.wat2wasm('(module (memory 512) (func (export "_start")))')
    )
    request = make_request(
        "wasm",
        {"EntryModule": "/app/big.wasm"},
        inputs=[StagedInput(module, "/app/big.wasm")],
        resources=Resources(Memory=16 * MiB),
    )
    with trio.fail_after(10), pytest.raises(ExecutorError, match=r"^wasm: .*memory"):
        await executor.run(request)


async def test_import_modules_are_linked_by_file_stem(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    spec = params("use_mathlib", ImportModules=["/app/mathlib.wasm"])
    request = make_request(
        "wasm", spec, inputs=[wasm_input("use_mathlib"), wasm_input("mathlib")]
    )
    with trio.fail_after(10):
        result = await executor.run(request)
    assert result.ExitCode == 42


async def test_entry_module_inside_a_directory_input(
    executor: WasmExecutor, make_request: MakeRequest, wasm_dir: Path
):
    request = make_request(
        "wasm",
        {"EntryModule": "/modules/hello.wasm"},
        inputs=[StagedInput(wasm_dir, "/modules")],
    )
    with trio.fail_after(10):
        assert (await executor.run(request)).Stdout == "hello from wasm\n"


async def test_entry_module_as_input_source_object(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    source = {
        "Source": {"Type": "localDirectory", "Params": {"SourcePath": "/x"}},
        "Target": "/app/hello.wasm",
    }
    request = make_request(
        "wasm", {"EntryModule": source}, inputs=[wasm_input("hello")]
    )
    with trio.fail_after(10):
        assert (await executor.run(request)).Stdout == "hello from wasm\n"


async def test_module_not_among_inputs(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    request = make_request(
        "wasm", {"EntryModule": "/app/missing.wasm"}, inputs=[wasm_input("hello")]
    )
    with (
        trio.fail_after(10),
        pytest.raises(ExecutorError, match="not among the task's inputs"),
    ):
        await executor.run(request)


async def test_missing_entrypoint(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    request = make_request(
        "wasm", params("hello", Entrypoint="main"), inputs=[wasm_input("hello")]
    )
    with (
        trio.fail_after(10),
        pytest.raises(ExecutorError, match="exports no function 'main'"),
    ):
        await executor.run(request)


async def test_invalid_module(
    executor: WasmExecutor, make_request: MakeRequest, tmp_path: Path
):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\x00asm\x01\x00\x00\x00garbage")
    request = make_request(
        "wasm", {"EntryModule": "/bad.wasm"}, inputs=[StagedInput(bad, "/bad.wasm")]
    )
    with trio.fail_after(10), pytest.raises(ExecutorError, match=r"^wasm: "):
        await executor.run(request)


async def test_output_is_capped(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    request = make_request(
        "wasm",
        params("hello"),
        inputs=[wasm_input("hello")],
        limits=OutputLimits(output_bytes=5, log_bytes=8),
    )
    with trio.fail_after(10):
        result = await executor.run(request)
    assert (result.Stdout, result.StdoutTruncated) == ("hello", True)
    assert (request.results_dir / "stdout").read_text() == "hello fr"


async def test_compiled_modules_are_cached(
    executor: WasmExecutor, make_request: MakeRequest, wasm_input: WasmInput
):
    with trio.fail_after(10):
        for _ in range(3):
            request = make_request(
                "wasm", params("hello"), inputs=[wasm_input("hello")]
            )
            assert (await executor.run(request)).Stdout == "hello from wasm\n"
    assert executor.cached_modules == 1


def test_refuses_network_and_unknown_modules():
    executor = WasmExecutor()
    inputs = [{"Source": {"Type": "inline", "Params": {}}, "Target": "/app"}]
    ok = make_job("wasm", params("hello"), InputSources=inputs)
    networked = make_job(
        "wasm", params("hello"), InputSources=inputs, Network={"Type": "Full"}
    )
    unknown = make_job(
        "wasm", {"EntryModule": "/elsewhere/m.wasm"}, InputSources=inputs
    )
    assert executor.refuse(ok) is None
    assert "no network" in (executor.refuse(networked) or "")
    assert "not the target of any input source" in (executor.refuse(unknown) or "")
    assert "invalid wasm engine spec" in (executor.refuse(make_job("wasm", {})) or "")


def subscription(tag: int, clock: int = 1, timeout: int = 0, flags: int = 0) -> bytes:
    head = struct.pack("<QB7x", 7, tag)
    return head + struct.pack("<I4xQQH6x", clock, timeout, 0, flags)


def test_poll_oneoff_reports_ready_descriptors_at_once():
    interrupt = Interrupt(wasmtime.Engine())
    subs = parse_subscriptions(subscription(1) + subscription(0, timeout=10**18))
    events = poll(subs, interrupt)
    assert [struct.unpack_from("<QHB", e) for e in events] == [(7, 0, 1)]


def test_poll_oneoff_clocks_in_the_past_fire_at_once():
    interrupt = Interrupt(wasmtime.Engine())
    past = subscription(0, clock=0, timeout=time.time_ns() - 10**9, flags=1)
    started = time.monotonic()
    assert len(poll(parse_subscriptions(past), interrupt)) == 1
    assert time.monotonic() - started < 0.1


def test_poll_oneoff_sleeps_until_interrupted():
    interrupt = Interrupt(wasmtime.Engine())
    forever = parse_subscriptions(subscription(0, timeout=2**64 - 1))
    interrupt.fire()
    with pytest.raises(Interrupted):
        poll(forever, interrupt)
