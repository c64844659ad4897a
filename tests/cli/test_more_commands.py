"""node describe, agent, id, config, the legacy forms, table views and the
newer run flags, against the live API (fake backend)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bacalao.models.engines import WasmEngineSpec, engine_params
from bacalao.models.job import Job
from tests.api.fakes import NODE_ID, make_node

from .support import Live, run_cli

# a real CID: the CLI checks inputs offline, as the node does
CID = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"


def one_error_line(stderr: str, *needles: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def submitted(live: Live) -> Job:
    return live.backend.submitted[-1][0]


# -- nodes, agent, id -----------------------------------------------------------


def test_node_describe(live: Live) -> None:
    live.backend.nodes.append(make_node("n-other", labels={"zone": "a"}))
    text = live("node", "describe", NODE_ID[:6])
    assert text.exit_code == 0, text.output
    assert f"ID                 = {NODE_ID}" in text.stdout
    assert "Engines            = noop, docker" in text.stdout
    data = json.loads(live("node", "describe", "n-oth", "--output", "json").stdout)
    assert data["Info"]["Labels"] == {"zone": "a"}
    one_error_line(live("node", "describe", "n-").stderr, "multiple nodes", "n-other")


def test_node_list_wide_and_narrow(live: Live) -> None:
    narrow = live("node", "list").stdout.splitlines()[1]
    wide = live("node", "list", "--wide").stdout.splitlines()[1]
    assert NODE_ID not in narrow
    assert NODE_ID in wide


def test_agent_commands_and_id(live: Live) -> None:
    alive = live("agent", "alive")
    assert (alive.exit_code, alive.stdout) == (0, "Status: OK\n")
    assert json.loads(live("agent", "alive", "--output", "json").stdout) == {
        "Status": "OK"
    }
    version = live("agent", "version")
    assert version.stdout == (
        "Bacalao v0.1.0\nBuildDate 2026-01-02 00:00:00 +0000 UTC\n"
        f"GitCommit {'a' * 40}\n"
    )
    assert (
        yaml.safe_load(live("agent", "version", "--output", "yaml").stdout)[
            "GitVersion"
        ]
        == "v0.1.0"
    )
    assert f"ID                 = {NODE_ID}" in live("agent", "node").stdout
    ident = live("id", "--output", "json")
    assert json.loads(ident.stdout)["ID"] == NODE_ID
    assert NODE_ID in live("id").stdout


def test_styled_tables_only_when_asked(live: Live) -> None:
    live.backend.add_job()
    from click.testing import CliRunner

    from bacalao.cli.main import cli

    runner = CliRunner()
    args = ["--api-port", str(live.port), "job", "list"]
    styled = runner.invoke(cli, args, color=True).stdout
    plain = runner.invoke(cli, [*args, "--no-style"], color=True).stdout
    assert styled.startswith("\x1b[1mCREATED")
    assert plain.startswith("CREATED")
    piped = live("job", "list").stdout  # no color: a pipe
    assert piped.startswith("CREATED")


def test_long_cells_are_cut_unless_wide(live: Live) -> None:
    live.backend.add_job(Name="n" * 80)
    assert "n" * 80 not in live("job", "list").stdout
    assert "…" in live("job", "list").stdout
    assert "n" * 80 in live("job", "list", "--wide").stdout


# -- config --------------------------------------------------------------------


def test_config_set_get_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACALAO_API_PORT", raising=False)
    repo = ["--repo", str(tmp_path)]
    assert run_cli("config", "set", *repo, "api-port", "21000").exit_code == 0
    assert run_cli("config", "set", *repo, "labels", "region=eu,gpu").exit_code == 0
    assert run_cli("config", "set", *repo, "engines", "docker", "wasm").exit_code == 0
    assert run_cli("config", "set", *repo, "allow_noop", "true").exit_code == 0
    assert run_cli("config", "get", *repo, "api_port").stdout.strip() == "21000"
    labels = run_cli("config", "get", *repo, "labels").stdout
    assert json.loads(labels) == {"region": "eu", "gpu": ""}
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert saved["engines"] == ["docker", "wasm"]
    assert saved["allow_noop"] is True
    table = run_cli("config", "list", *repo).stdout
    assert any(
        line.split()[:3] == ["api_port", "21000", "file"] for line in table.splitlines()
    )
    assert any(line.split()[-1] == "default" for line in table.splitlines()[1:])
    monkeypatch.setenv("BACALAO_SWARM_PORT", "4001")
    listed = run_cli("config", "list", *repo, "--output", "json")
    data = json.loads(listed.stdout)
    assert (data["api_port"], data["swarm_port"]) == (21000, 4001)
    assert "repo" not in data


def test_config_errors_are_one_line(tmp_path: Path) -> None:
    repo = ["--repo", str(tmp_path)]
    one_error_line(
        run_cli("config", "set", *repo, "api_prot", "1").stderr,
        "unknown config key 'api_prot'",
        "did you mean api_port",
    )
    one_error_line(
        run_cli("config", "set", *repo, "api_port", "99999").stderr,
        "invalid value for api_port",
    )
    one_error_line(run_cli("config", "get", *repo, "repo").stderr, "unknown config key")
    assert not (tmp_path / "config.yaml").exists()
    (tmp_path / "config.yaml").write_text("api_port: [")
    one_error_line(run_cli("config", "list", *repo).stderr, "cannot read")


# -- legacy forms ------------------------------------------------------------------


def test_legacy_run_splits_the_command(live: Live) -> None:
    result = live("run", "--id-only", "busybox", "echo 'hello world'")
    assert result.exit_code == 0, result.output
    params = submitted(live).task.Engine.Params
    assert params == {"Image": "busybox", "Parameters": ["echo", "hello world"]}


def test_legacy_list(live: Live) -> None:
    first = live.backend.add_job(ID="j-bbbb0000-0000-0000-0000-000000000000")
    second = live.backend.add_job(ID="j-aaaa0000-0000-0000-0000-000000000000")
    table = live("list", "--wide", "--sort-by=id", "--id-filter=j-bbbb")
    assert table.exit_code == 0, table.output
    rows = table.stdout.strip().splitlines()
    assert rows[0].split() == ["CREATED", "ID", "JOB", "STATE"]
    assert [r.split()[2] for r in rows[1:]] == [first.ID]
    ordered = live("list", "--sort-by", "id", "--no-reverse", "--output", "json")
    ids = [j["ID"] for j in json.loads(ordered.stdout)["Items"]]
    assert ids == [second.ID, first.ID]
    newest = live("list", "-n", "1", "--output", "json")
    assert [j["ID"] for j in json.loads(newest.stdout)["Items"]] == [second.ID]


def test_legacy_describe_is_yaml(live: Live) -> None:
    job = live.backend.add_job()
    described = yaml.safe_load(live("describe", job.ID[:8]).stdout)
    assert described["Job"]["ID"] == job.ID
    assert json.loads(live("describe", "--json", job.ID).stdout)["Job"]["ID"] == job.ID
    assert "Job History" in live("describe", job.ID, "--output", "table").stdout


# -- run flags ---------------------------------------------------------------------


def test_inputs_and_deprecated_flags(live: Live) -> None:
    result = live(
        "docker", "run", "--id-only", "--concurrency", "2", "-s", "zone=a",
        "--constraints", "gpu",
        "-i", f"ipfs://{CID}:/data",
        "-i", "https://example.com:8443/file.csv",
        "-i", "src=s3://bucket/key/,dst=/s3,opt=region=eu-west-1",
        "-i", "file:///srv/data:/local,opt=rw=true",
        "busybox", "--", "ls",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    job = submitted(live)
    assert job.Count == 2
    assert [(c.Key, c.Operator) for c in job.Constraints] == [
        ("gpu", "exists"),
        ("zone", "="),
    ]
    inputs = [s.model_dump(mode="json") for s in job.task.InputSources]
    assert inputs == [
        {
            "Source": {"Type": "ipfs", "Params": {"CID": CID}},
            "Alias": f"ipfs://{CID}",
            "Target": "/data",
        },
        {
            "Source": {
                "Type": "urlDownload",
                "Params": {"URL": "https://example.com:8443/file.csv"},
            },
            "Alias": "https://example.com:8443/file.csv",
            "Target": "/inputs",
        },
        {
            "Source": {
                "Type": "s3",
                "Params": {"Bucket": "bucket", "Key": "key/", "Region": "eu-west-1"},
            },
            "Alias": "s3://bucket/key/",
            "Target": "/s3",
        },
        {
            "Source": {
                "Type": "local",
                "Params": {"SourcePath": "/srv/data", "ReadWrite": True},
            },
            "Alias": "file:///srv/data",
            "Target": "/local",
        },
    ]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--count", "1", "--concurrency", "2"], ("--count and --concurrency",)),
        (["-i", "/just/a/path"], ("cannot read source", "file:///PATH")),
        (["-i", "s3://b/k,opt=colour=red"], ("unknown s3 option 'colour'",)),
        (["-i", "ipfs://Qm:relative"], ("target 'relative' is not absolute",)),
        (["-i", "src=ipfs://Qm,bogus=1"], ("unknown key 'bogus'",)),
    ],
)
def test_bad_run_flags(live: Live, args: list[str], needles: tuple[str, ...]) -> None:
    result = live("docker", "run", *args, "busybox", "--", "true")
    assert result.exit_code == 1
    one_error_line(result.stderr, *needles)


def test_wasm_modules_from_files_urls_and_inputs(live: Live, tmp_path: Path) -> None:
    main, lib = tmp_path / "app.wasm", tmp_path / "lib.wasm"
    main.write_bytes(b"\x00asm\x01\x00\x00\x00")
    lib.write_bytes(b"\x00asm\x01\x00\x00\x00")
    result = live(
        "wasm", "run", "--id-only", "-I", str(lib),
        "-U", "https://example.com/mods/math.wasm", str(main), "--", "arg",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    job = submitted(live)
    spec = engine_params(job.task.Engine)
    assert isinstance(spec, WasmEngineSpec)
    assert spec.EntryModule == "/app/app.wasm"
    assert spec.ImportModules == ["/app/imports/lib.wasm", "/app/imports/math.wasm"]
    assert spec.Parameters == ["arg"]
    kinds = {s.Target: s.Source.Type for s in job.task.InputSources}
    assert kinds == {
        "/app/app.wasm": "inline",
        "/app/imports/lib.wasm": "inline",
        "/app/imports/math.wasm": "urlDownload",
    }
    by_url = live("wasm", "run", "--id-only", "https://example.com/x/hello.wasm")
    assert by_url.exit_code == 0, by_url.output
    assert engine_params(submitted(live).task.Engine).EntryModule == "/app/hello.wasm"  # type: ignore[attr-defined]
    by_input = live(
        "wasm", "run", "--id-only", "-i", f"ipfs://{CID}:/mods/m.wasm", "/mods/m.wasm"
    )
    assert by_input.exit_code == 0, by_input.output
    job = submitted(live)
    assert [s.Target for s in job.task.InputSources] == ["/mods/m.wasm"]
    bad = live("wasm", "run", "-U", str(lib), str(main))
    one_error_line(bad.stderr, "not an http(s) URL", "-I")


def test_docker_run_download_and_node_details(live: Live, tmp_path: Path) -> None:
    live.backend.results_root = tmp_path / "node"
    live.backend.api_base = f"http://127.0.0.1:{live.port}"
    out = tmp_path / "results"
    result = live(
        "docker", "run", "--node-details", "--download", "--output-dir", str(out),
        "busybox", "--", "echo", "hi",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Job Results By Node:" in result.stdout
    assert f"• Node {NODE_ID}:" in result.stdout
    assert (out / "stdout").read_text() == "ran docker\n"


def test_one_version_for_the_package_the_cli_and_the_api() -> None:
    from importlib.metadata import version

    from bacalao.cli.version import client_version
    from bacalao.version import VERSION, build_version

    assert version("bacalao") == VERSION  # pyproject reads bacalao.version
    assert client_version()["GitVersion"] == build_version().GitVersion
