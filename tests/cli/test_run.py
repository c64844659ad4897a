"""`bacalao docker run` and `bacalao wasm run` against the live API."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from bacalao.cli.jobspec import JobFlags, build_job, docker_engine
from bacalao.models.engines import WasmEngineSpec, engine_params
from bacalao.models.job import Job

from .support import Live, run_cli

WASM = b"\x00asm\x01\x00\x00\x00"


def submitted(live: Live) -> Job:
    assert len(live.backend.submitted) == 1
    return live.backend.submitted[0][0]


def assert_one_error_line(stderr: str, *needles: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0]


# -- docker run: the happy path --------------------------------------------


def test_docker_run_waits_and_prints_output(live: Live) -> None:
    result = live("docker", "run", "busybox", "--", "echo", "hello")
    assert result.exit_code == 0, result.output
    job = submitted(live)
    out = result.stdout
    job_id = next(iter(live.backend.jobs))
    assert f"Job successfully submitted. Job ID: {job_id}\n" in out
    assert "Checking job status..." in out
    for state in ("Pending", "Running", "Completed"):
        assert f" {state}" in out
    assert "\nJob Completed." in out
    assert "Standard Output:\nran docker\n" in out
    assert f"\tbacalao job describe {job_id}" in out
    assert "Warning: fake backend warning" in result.stderr
    params = job.task.Engine.Params
    assert params == {"Image": "busybox", "Parameters": ["echo", "hello"]}


def test_args_after_dashes_keep_their_dashes(live: Live) -> None:
    result = live(
        "docker", "run", "--id-only", "busybox", "--", "ls", "-la", "--color=never"
    )
    assert result.exit_code == 0, result.output
    assert submitted(live).task.Engine.Params["Parameters"] == [
        "ls",
        "-la",
        "--color=never",
    ]


# -- flags as Bacalhau's CLI reads them (pflag) ------------------------------


def params_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    params: dict[str, Any] = yaml.safe_load(result.stdout)["Tasks"][0]["Engine"][
        "Params"
    ]
    return params


def test_flags_after_the_image_are_read_until_dashes() -> None:
    result = run_cli(
        "docker", "run", "busybox", "echo x", "--dry-run", "-e", "A=1", "--", "-e", "B"
    )
    assert params_of(result)["Parameters"] == ["echo x", "-e", "B"]
    assert yaml.safe_load(result.stdout)["Tasks"][0]["Env"] == {"A": "1"}


def test_an_unknown_flag_before_dashes_is_an_error_naming_it() -> None:
    result = run_cli("docker", "run", "--dry-run", "busybox", "ls", "--colour")
    assert result.exit_code == 2
    assert_one_error_line(
        result.stderr, "unknown flag '--colour'", "go after `--`", "docker run --help"
    )


def test_short_flags_take_equals_values() -> None:
    result = run_cli(
        "docker", "run", "--dry-run", "-p=local", "-e=K=V", "-w=/tmp", "busybox"
    )
    assert result.exit_code == 0, result.output
    task = yaml.safe_load(result.stdout)["Tasks"][0]
    assert task["Publisher"]["Type"] == "local"
    assert task["Env"] == {"K": "V"}
    assert task["Engine"]["Params"]["WorkingDirectory"] == "/tmp"


def test_legacy_run_reads_flags_after_the_command_too() -> None:
    result = run_cli("run", "busybox", "echo hello", "--dry-run")
    assert params_of(result)["Parameters"] == ["echo", "hello"]


def test_wasm_run_reads_flags_after_the_module(tmp_path: Path) -> None:
    module = tmp_path / "m.wasm"
    module.write_bytes(WASM)
    result = run_cli(
        "wasm", "run", str(module), "a", "--dry-run", "--entry-point=main", "--", "-v"
    )
    params = params_of(result)
    assert (params["Parameters"], params["Entrypoint"]) == (["a", "-v"], "main")


def test_wasm_run_file_colon_target(tmp_path: Path) -> None:
    module = tmp_path / "m.wasm"
    module.write_bytes(WASM)
    result = run_cli("wasm", "run", "--dry-run", f"{module}:/app/custom.wasm")
    assert result.exit_code == 0, result.output
    task = yaml.safe_load(result.stdout)["Tasks"][0]
    assert task["Engine"]["Params"]["EntryModule"] == "/app/custom.wasm"
    assert [i["Target"] for i in task["InputSources"]] == ["/app/custom.wasm"]


def test_wasm_run_uri_colon_target() -> None:
    result = run_cli(
        "wasm", "run", "--dry-run", "https://example.com/m.wasm:/app/custom.wasm"
    )
    assert result.exit_code == 0, result.output
    task = yaml.safe_load(result.stdout)["Tasks"][0]
    assert task["Engine"]["Params"]["EntryModule"] == "/app/custom.wasm"
    source = task["InputSources"][0]
    assert source["Source"]["Params"]["URL"] == "https://example.com/m.wasm"
    assert source["Target"] == "/app/custom.wasm"


def test_wasm_run_import_module_with_target(tmp_path: Path) -> None:
    main, lib = tmp_path / "main.wasm", tmp_path / "lib.wasm"
    for module in (main, lib):
        module.write_bytes(WASM)
    result = run_cli(
        "wasm", "run", "--dry-run", str(main), "--import-modules", f"{lib}:/app/l.wasm"
    )
    assert result.exit_code == 0, result.output
    params = yaml.safe_load(result.stdout)["Tasks"][0]["Engine"]["Params"]
    assert params["ImportModules"] == ["/app/l.wasm"]


def test_wasm_run_relative_target_is_one_line(tmp_path: Path) -> None:
    module = tmp_path / "m.wasm"
    module.write_bytes(WASM)
    result = run_cli("wasm", "run", "--dry-run", f"{module}:custom.wasm")
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, "'custom.wasm' is not absolute")


def test_flags_land_in_the_job(live: Live) -> None:
    result = live(
        "docker", "run", "--id-only",
        "--name", "hello", "--namespace", "team", "--priority", "3", "--count", "2",
        "-e", "GREETING=hi there", "--env", "EMPTY=",
        "--cpu", "500m", "--memory", "256Mb", "--disk", "1Gb", "--gpu", "1",
        "--timeout", "60", "--queue-timeout", "30",
        "-l", "team=ml,canary", "--labels", "tier=1",
        "--constraints", "region in (eu,us),!spot",
        "-w", "/work", "--entrypoint", "/bin/sh",
        "--network", "http", "--domain", "example.com",
        "-o", "out:/outputs", "-p", "local",
        "busybox:1.37.0", "--", "-c", "echo hi",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    job = submitted(live)
    task = job.task
    assert (job.Name, job.Namespace, job.Priority, job.Count) == ("hello", "team", 3, 2)
    assert job.Labels == {"team": "ml", "canary": "", "tier": "1"}
    assert [(c.Key, c.Operator, c.Values) for c in job.Constraints] == [
        ("region", "in", ["eu", "us"]),
        ("spot", "!", []),
    ]
    assert task.Env == {"GREETING": "hi there", "EMPTY": ""}
    assert task.Resources.model_dump() == {
        "CPU": "500m",
        "Memory": "256Mb",
        "Disk": "1Gb",
        "GPU": "1",
    }
    assert (task.Timeouts.TotalTimeout, task.Timeouts.QueueTimeout) == (60, 30)
    assert (task.Network.Type, task.Network.Domains) == ("HTTP", ["example.com"])
    assert [(r.Name, r.Path) for r in task.ResultPaths] == [("out", "/outputs")]
    assert task.Publisher.Type == "local"
    assert task.Engine.Params == {
        "Image": "busybox:1.37.0",
        "Entrypoint": ["/bin/sh"],
        "Parameters": ["-c", "echo hi"],
        "WorkingDirectory": "/work",
    }


def test_target_all_makes_an_ops_job(live: Live) -> None:
    assert (
        live("docker", "run", "--id-only", "--target", "all", "busybox").exit_code == 0
    )
    job = submitted(live)
    assert (job.Type, job.Count) == ("ops", 0)


def test_s3_publisher(live: Live) -> None:
    assert (
        live(
            "docker", "run", "--id-only", "-p", "s3://bucket/some/key", "busybox"
        ).exit_code
        == 0
    )
    publisher = submitted(live).task.Publisher
    assert (publisher.Type, publisher.Params) == (
        "s3",
        {"Bucket": "bucket", "Key": "some/key"},
    )


# -- runtime flags ----------------------------------------------------------


def test_id_only_prints_only_the_id(live: Live) -> None:
    result = live("docker", "run", "--id-only", "busybox")
    assert result.exit_code == 0
    job_id = next(iter(live.backend.jobs))
    assert result.stdout == f"{job_id}\n"
    assert live.backend.jobs[job_id].State.StateType.name == "Completed", (
        "it still waits"
    )


@pytest.mark.parametrize(
    "flag", ["--wait=false", "--wait=0", "--wait=False", "--no-wait"]
)
def test_wait_false_prints_the_id_and_returns(live: Live, flag: str) -> None:
    result = live("docker", "run", flag, "busybox")
    assert result.exit_code == 0
    job_id = next(iter(live.backend.jobs))
    assert result.stdout == f"{job_id}\n"
    assert live.backend.get_calls == 0, "no polling"
    assert live.backend.jobs[job_id].State.StateType.name == "Pending"


def test_wait_false_with_id_only_prints_it_once(live: Live) -> None:
    result = live("docker", "run", "--wait=false", "--id-only=true", "busybox")
    assert result.stdout.count("j-") == 1


def test_go_style_bools_after_valued_flags(live: Live) -> None:
    result = live(
        "docker", "run", "--name", "x", "-e", "A=1", "--wait=false", "busybox"
    )
    assert result.exit_code == 0, result.output
    assert live.backend.get_calls == 0


def test_bad_bool_value_is_one_line(live: Live) -> None:
    result = live("docker", "run", "--wait=sometimes", "busybox")
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "--wait", "true or false", "docker run --help")


def test_failed_job_exits_non_zero_with_reason(live: Live) -> None:
    live.backend.failure = "exit status 3: no such file"
    result = live("docker", "run", "busybox", "--", "cat", "/nope")
    assert result.exit_code == 1
    assert "Job Failed." in result.stdout
    assert "warn" in result.stderr  # the task's stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1
    assert "failed: exit status 3: no such file" in error[0]


def test_failed_job_with_id_only(live: Live) -> None:
    live.backend.failure = "boom"
    result = live("docker", "run", "--id-only", "busybox")
    assert result.exit_code == 1
    assert result.stdout.startswith("j-")
    assert_one_error_line(
        result.stderr.replace("Warning: fake backend warning\n", ""), "boom"
    )


def test_wait_timeout_is_an_error(live: Live) -> None:
    live.backend.auto_run = False
    result = live("docker", "run", "--wait-timeout-secs", "1", "busybox")
    assert result.exit_code == 1
    assert "still Pending after 1 s" in result.stderr
    assert "job describe" in result.stderr


# -- dry run ----------------------------------------------------------------


def test_dry_run_yaml_round_trips(live: Live) -> None:
    args = [
        "--name",
        "x",
        "-e",
        "A=1",
        "--cpu",
        "2",
        "-l",
        "k",
        "--timeout",
        "9",
        "busybox",
        "echo",
        "hi",
    ]
    result = run_cli("docker", "run", "--dry-run", *args)
    assert result.exit_code == 0, result.output
    parsed = Job.model_validate(yaml.safe_load(result.stdout))
    flags = JobFlags(name="x", env=("A=1",), cpu="2", labels=("k",), timeout=9)
    assert parsed == build_job(docker_engine("busybox", ["echo", "hi"], (), ""), flags)
    assert "State" not in result.stdout
    assert "ID:" not in result.stdout
    assert live.backend.submitted == []


def test_dry_run_needs_no_node() -> None:
    result = run_cli("--api-port", "1", "docker", "run", "--dry-run", "busybox")
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["Tasks"][0]["Engine"]["Params"] == {
        "Image": "busybox"
    }


# -- errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--cpu", "lots"], ["invalid --cpu", "'lots'"]),
        (["--memory", "big"], ["invalid --memory"]),
        (["--gpu", "x"], ["invalid --gpu"]),
        (["-e", "NOVALUE"], ["invalid --env", "KEY=VALUE"]),
        (["-e", "1X=2"], ["invalid --env name"]),
        (["-o", "nopath"], ["invalid --output"]),
        (["-p", "ftp"], ["invalid --publisher"]),
        (["--domain", "x.org"], ["--domain only applies with --network HTTP"]),
        (["--constraints", "a in ("], ["invalid --constraints"]),
        (["-w", "relative"], ["invalid --workdir"]),
        (["--count", "-1"], ["--count"]),
        (["--network", "wifi"], ["--network"]),
    ],
)
def test_bad_flags_are_one_line(args: list[str], needles: list[str]) -> None:
    result = run_cli("docker", "run", "--dry-run", *args, "busybox")
    assert result.exit_code != 0
    assert_one_error_line(result.stderr, *needles)


def test_missing_image_is_one_line() -> None:
    result = run_cli("docker", "run")
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "IMAGE")


def test_no_node_is_one_line() -> None:
    result = run_cli("--api-port", "1", "docker", "run", "busybox")
    assert result.exit_code == 1
    assert_one_error_line(
        result.stderr, "no bacalao node at http://127.0.0.1:1", "bacalao serve"
    )


def test_server_validation_error_is_one_line(live: Live) -> None:
    result = live("docker", "run", "--name", "reject-me", "busybox")
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, "Job.Name: that name is refused by the fake")


def test_unexpected_error_is_one_line(live: Live) -> None:
    live.backend.fail_with = RuntimeError("kaboom")
    result = live("docker", "run", "busybox")
    assert_one_error_line(result.stderr, "Internal server error")


# -- wasm run ---------------------------------------------------------------


def test_wasm_run_sends_the_module_inline(live: Live, tmp_path: Path) -> None:
    module = tmp_path / "hello.wasm"
    module.write_bytes(WASM)
    result = live(
        "wasm", "run", "--entry-point", "main", "-e", "NAME=x", "--memory", "64Mb",
        "--timeout", "5", str(module), "--", "--flag", "file.txt",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ran wasm" in result.stdout
    task = submitted(live).task
    assert task.Env == {"NAME": "x"}
    assert task.Resources.Memory == "64Mb"
    assert task.Timeouts.TotalTimeout == 5
    [source] = task.InputSources
    assert source.Target == "/app/hello.wasm"
    assert source.Source.Type == "inline"
    url = source.Source.Params["URL"]
    assert url.startswith("data:application/wasm;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == WASM
    spec = engine_params(task.Engine)
    assert isinstance(spec, WasmEngineSpec)
    assert (spec.EntryModule, spec.Entrypoint, spec.Parameters) == (
        "/app/hello.wasm",
        "main",
        ["--flag", "file.txt"],
    )


def test_wasm_defaults_and_wait_false(live: Live, tmp_path: Path) -> None:
    module = tmp_path / "m.wasm"
    module.write_bytes(WASM)
    result = live("wasm", "run", "--wait=false", str(module))
    assert result.exit_code == 0
    assert result.stdout.startswith("j-")
    assert submitted(live).task.Engine.Params == {
        "EntryModule": "/app/m.wasm",
        "Entrypoint": "_start",
    }


def test_wasm_dry_run_round_trips(tmp_path: Path) -> None:
    module = tmp_path / "m.wasm"
    module.write_bytes(WASM)
    result = run_cli("wasm", "run", "--dry-run", str(module), "a", "b")
    assert result.exit_code == 0, result.output
    job = Job.model_validate(yaml.safe_load(result.stdout))
    assert job.task.Engine.Params["Parameters"] == ["a", "b"]
    assert job.task.InputSources[0].Target == "/app/m.wasm"


def test_wasm_missing_module_is_one_line(tmp_path: Path) -> None:
    result = run_cli("wasm", "run", str(tmp_path / "none.wasm"))
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, "cannot read", "none.wasm")
