"""What list commands print for machines, as Bacalhau's CLI prints it: a JSON
array of items (compact unless --pretty), YAML, CSV, tables without headers;
the next-page hint on stderr so stdout stays parseable."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from tests.api.fakes import make_node

from .support import Live, run_cli

LISTS = [
    ("job", "list"),
    ("node", "list"),
    ("job", "executions", "J"),
    ("job", "history", "J"),
]


@pytest.fixture
def job_id(live: Live) -> str:
    job = live.backend.add_job(Name="demo")
    live.backend.add_execution(job.ID)
    live.backend.add_event(job.ID, "Job submitted", Type="JobLevel")
    return job.ID


def command(args: tuple[str, ...], job_id: str) -> list[str]:
    return [job_id if a == "J" else a for a in args]


@pytest.mark.parametrize("args", LISTS)
def test_json_is_one_compact_array(live: Live, job_id: str, args: tuple) -> None:
    result = live(*command(args, job_id), "--output", "json")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1  # one line, as `jq '.[]'` wants
    items = json.loads(result.stdout)
    assert isinstance(items, list)
    assert len(items) == 1
    assert isinstance(items[0], dict)


@pytest.mark.parametrize("args", LISTS)
def test_pretty_json_is_indented(live: Live, job_id: str, args: tuple) -> None:
    result = live(*command(args, job_id), "--output", "json", "--pretty")
    assert result.stdout.startswith("[\n  {\n")
    assert len(json.loads(result.stdout)) == 1


@pytest.mark.parametrize("args", LISTS)
def test_yaml_is_a_list(live: Live, job_id: str, args: tuple) -> None:
    result = live(*command(args, job_id), "--output", "yaml")
    assert result.stdout.startswith("- ")
    assert len(yaml.safe_load(result.stdout)) == 1


@pytest.mark.parametrize("args", LISTS)
def test_csv_has_the_table_columns(live: Live, job_id: str, args: tuple) -> None:
    table = live(*command(args, job_id))
    result = live(*command(args, job_id), "--output", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert len(rows) == 2
    assert rows[0][0] == table.stdout.split()[0]  # the table's first header
    headless = live(*command(args, job_id), "--output", "csv", "--hide-header")
    assert list(csv.reader(io.StringIO(headless.stdout))) == rows[1:]


def test_csv_cells_are_whole(live: Live, job_id: str) -> None:
    result = live("job", "list", "--output", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["CREATED", "ID", "NAME"]
    assert rows[1][1] == job_id  # not cut to a short ID


def test_hide_header_drops_the_table_header(live: Live) -> None:
    live.backend.nodes.append(make_node("n-second"))
    full = live("node", "list").stdout.splitlines()
    headless = live("node", "list", "--hide-header").stdout.splitlines()
    assert headless == full[1:]


def test_next_page_hint_goes_to_stderr_in_every_format(live: Live) -> None:
    ids = [live.backend.add_job().ID for _ in range(3)]
    for fmt in ("table", "json", "yaml", "csv"):
        result = live("job", "list", "--limit", "2", "--output", fmt)
        assert "To fetch more records use:" in result.stderr
        assert "--next-token" not in result.stdout
    page = json.loads(live("job", "list", "--limit", "2", "--output", "json").stdout)
    assert [j["ID"] for j in page] == ids[:2]


def test_describe_json_is_compact_unless_pretty(live: Live, job_id: str) -> None:
    compact = live("job", "describe", job_id, "--output", "json").stdout
    pretty = live("job", "describe", job_id, "--output", "json", "--pretty").stdout
    assert compact.count("\n") == 1
    assert pretty.count("\n") > 10
    assert json.loads(compact) == json.loads(pretty)


def test_agent_alive_and_version_human_forms(live: Live) -> None:
    assert live("agent", "alive").stdout == "Status: OK\n"
    assert live("agent", "alive", "--output", "json").stdout == '{"Status":"OK"}\n'
    lines = live("agent", "version").stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["Bacalao", "BuildDate", "GitCommit"]
    data = json.loads(live("agent", "version", "--output", "json").stdout)
    assert data["GitVersion"] == "v0.1.0"


def test_version_and_config_list_take_csv_too(tmp_path: Path) -> None:

    version = run_cli("version", "--client", "--output", "csv", "--hide-header")
    assert version.exit_code == 0, version.output
    assert version.stdout.strip().startswith("v")
    listed = run_cli("config", "list", "--repo", str(tmp_path), "--output", "csv")
    rows = list(csv.reader(io.StringIO(listed.stdout)))
    assert rows[0] == ["KEY", "VALUE", "SOURCE"]
    assert ["swarm_port", "1235", "default"] in rows
