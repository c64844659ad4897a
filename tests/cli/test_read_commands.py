"""`job list/describe/stop`, `node list` and `version` against the live API."""

from __future__ import annotations

import json

import pytest
import yaml

from bacalao.models.api import GetJobResponse
from bacalao.models.history import JobHistoryType
from bacalao.models.job import Job
from bacalao.models.node import NodeState
from tests.api.fakes import make_node

from .support import Live, run_cli


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


# -- job list ---------------------------------------------------------------


def test_job_list_table(live: Live) -> None:
    job = live.backend.add_job(Name="hello")
    result = live("job", "list")
    assert result.exit_code == 0, result.output
    header, row = result.stdout.strip().splitlines()
    assert header.split() == ["CREATED", "ID", "NAME", "JOB", "TYPE", "STATE"]
    assert row.split()[1:] == [job.ID[:10], "hello", "noop", "batch", "Completed"]


def test_job_list_pages_and_says_how(live: Live) -> None:
    ids = [live.backend.add_job().ID for _ in range(3)]
    result = live("job", "list", "--limit", "2")
    assert len(result.stdout.strip().splitlines()) == 3  # the header and 2 jobs
    assert result.stderr.startswith("\nTo fetch more records use:\n")
    command = result.stderr.strip().splitlines()[-1].strip()
    assert command.startswith("bacalao job list --limit 2 --next-token ")
    token = command.split()[-1]
    rest = live(
        "job", "list", "--limit", "2", "--next-token", token, "--output", "json"
    )
    assert [j["ID"] for j in json.loads(rest.stdout)] == ids[2:]
    assert rest.stderr == ""


def test_job_list_filters_and_order(live: Live) -> None:
    old = live.backend.add_job(Labels={"team": "ml"})
    new = live.backend.add_job(Labels={"team": "ml"})
    live.backend.add_job(Labels={"team": "web"})
    result = live(
        "job", "list", "--labels", "team=ml", "--order-by", "created_at",
        "--order-reversed", "--output", "json",
    )  # fmt: skip
    assert [j["ID"] for j in json.loads(result.stdout)] == [new.ID, old.ID]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_job_list_structured_output_is_an_array_of_jobs(live: Live, fmt: str) -> None:
    live.backend.add_job()
    result = live("job", "list", "--output", fmt)
    data = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    assert isinstance(data, list)
    assert Job.model_validate(data[0]).Type == "batch"


def test_job_list_bad_order_is_one_line(live: Live) -> None:
    result = live("job", "list", "--order-by", "colour")
    assert result.exit_code == 1
    assert "'order_by'" in one_error_line(result.stderr)


# -- job describe -------------------------------------------------------------


@pytest.fixture
def described(live: Live) -> str:
    job = live.backend.add_job(
        Name="demo", State={"StateType": "Failed", "Message": "oops"}
    )
    execution = live.backend.add_execution(
        job.ID,
        ComputeState={"StateType": "Failed", "Message": "exit 1"},
        RunOutput={
            "Stdout": "partial output\n",
            "stderr": "bad thing\n",
            "ExitCode": 1,
        },
    )
    live.backend.add_event(job.ID, "Job submitted", Type=JobHistoryType.JobLevel)
    live.backend.add_event(
        job.ID, "Running", Type=JobHistoryType.ExecutionLevel, ExecutionID=execution.ID
    )
    return job.ID


def test_describe_table_sections(live: Live, described: str) -> None:
    result = live("job", "describe", described[:8])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"ID            = {described}" in out
    assert "State         = Failed" in out
    assert "Message       = oops" in out
    for section in ("Summary", "Job History", "Executions", "Standard Output"):
        assert f"\n{section}\n" in out
    assert "Failed = 1" in out
    assert "TIME" in out
    assert "TOPIC" in out
    assert "EVENT" in out
    assert "exit 1" in out  # the execution's comment
    assert "History\n" in out.split("Executions\n", 1)[1]  # per-execution history
    assert "partial output\nbad thing" in out


def test_describe_shows_how_long_each_phase_took(live: Live) -> None:
    job = live.backend.add_job(State={"StateType": "Completed"})
    execution = live.backend.add_execution(
        job.ID, ComputeState={"StateType": "Completed"}
    )
    live.backend.add_event(job.ID, "Job submitted", Time="2026-01-01T00:00:00Z")
    for state, at in [
        ("AskForBid", "00.020"),
        ("BidAccepted", "00.023"),
        ("Running", "00.080"),
        ("Completed", "02.580"),
    ]:
        live.backend.add_event(
            job.ID,
            state,
            Type=JobHistoryType.ExecutionLevel,
            ExecutionID=execution.ID,
            Event={"Message": state, "Details": {"NewState": state}},
            Time=f"2026-01-01T00:00:{at}Z",
        )
    out = live("job", "describe", job.ID).stdout
    assert "Placement     = 20 ms" in out
    assert "Phases: bid 3 ms · start 57 ms · run 2.5 s" in out


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_describe_structured(live: Live, described: str, fmt: str) -> None:
    result = live("job", "describe", described, "--output", fmt)
    data = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    response = GetJobResponse.model_validate(data)
    assert described == response.Job.ID
    assert response.Executions is not None
    assert response.History is not None
    assert data["Executions"]["Items"][0]["RunOutput"]["stderr"] == "bad thing\n"


def test_describe_unknown_and_ambiguous(live: Live) -> None:
    result = live("job", "describe", "j-nope")
    assert result.exit_code == 1
    assert one_error_line(result.stderr) == "Error: job not found: j-nope"
    live.backend.add_job(ID="j-same1")
    live.backend.add_job(ID="j-same2")
    line = one_error_line(live("job", "describe", "j-same").stderr)
    assert "matches several jobs" in line
    assert "use more characters" in line


# -- job stop ---------------------------------------------------------------


def test_job_stop(live: Live) -> None:
    job = live.backend.add_job(State={"StateType": "Running"})
    result = live("job", "stop", job.ID, "--reason", "enough")
    assert result.exit_code == 0
    assert result.stdout.startswith(
        "Job stop successfully submitted with evaluation ID: "
    )
    assert live.backend.stopped == [(job.ID, "enough")]
    assert live("job", "stop", job.ID, "--quiet").stdout == ""


# -- node list --------------------------------------------------------------


def test_node_list_table_and_filters(live: Live) -> None:
    live.backend.nodes.append(make_node("n-second", labels={"region": "eu"}))
    result = live("node", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == [
        "ID", "TYPE", "APPROVAL", "STATUS", "LABELS", "CPU", "MEMORY", "GPU", "ENGINES"
    ]  # fmt: skip
    assert len(lines) == 3
    assert "region=eu" in result.stdout
    only = live("node", "list", "--labels", "region=eu", "--output", "json")
    nodes = [NodeState.model_validate(n) for n in json.loads(only.stdout)]
    assert [n.Info.NodeID for n in nodes] == ["n-second"]
    ordered = live("node", "list", "--order-by", "available_cpu", "--output", "yaml")
    assert yaml.safe_load(ordered.stdout)[0]["Info"]["NodeID"]


def test_node_list_bad_order_is_one_line(live: Live) -> None:
    result = live("node", "list", "--order-by", "shoe_size")
    assert "invalid order_by" in one_error_line(result.stderr)


@pytest.mark.parametrize("action", ["approve", "reject", "delete"])
def test_node_actions_print_ok_as_bacalhau_does(live: Live, action: str) -> None:
    live.backend.nodes.append(make_node("n-second"))
    result = live("node", action, "n-sec", "-m", "by ops")
    assert (result.exit_code, result.stdout) == (0, "Ok\n"), result.output
    assert live.backend.node_actions == [("n-second", action)]


def test_node_action_on_an_unknown_node_is_one_line(live: Live) -> None:
    result = live("node", "approve", "nobody")
    assert result.exit_code != 0
    assert "nobody" in one_error_line(result.stderr)


# -- version ----------------------------------------------------------------


def test_version_client_and_server(live: Live) -> None:
    result = live("version")
    assert result.stdout.split() == ["CLIENT", "SERVER", "v0.1.0", "v0.1.0"]
    data = json.loads(live("version", "--output", "json").stdout)
    assert set(data) == {"clientVersion", "serverVersion"}
    assert data["serverVersion"]["GitCommit"] == "a" * 40


def test_version_client_only_needs_no_node() -> None:
    result = run_cli("--api-port", "1", "version", "--client", "--output", "json")
    assert result.exit_code == 0
    assert set(json.loads(result.stdout)) == {"clientVersion"}


def test_version_without_node_warns_and_shows_client() -> None:
    result = run_cli("--api-port", "1", "version")
    assert result.exit_code == 0
    assert result.stdout.split() == ["CLIENT", "v0.1.0"]
    assert result.stderr.startswith(
        "Warning: cannot get the node's version: no bacalao node"
    )


# -- addressing -------------------------------------------------------------


def test_api_port_after_the_command_and_from_env(live: Live) -> None:
    live.backend.add_job()
    result = run_cli("job", "list", "--api-port", str(live.port))
    assert result.exit_code == 0, result.output
    from click.testing import CliRunner

    from bacalao.cli.main import cli

    runner = CliRunner(
        env={"BACALAO_API_PORT": str(live.port), "BACALAO_API_HOST": "127.0.0.1"}
    )
    assert runner.invoke(cli, ["job", "list"]).exit_code == 0
