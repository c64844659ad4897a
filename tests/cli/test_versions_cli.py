"""Job names and versions through the CLI, as a user types it: `job run`
of a spec whose name exists updates that job; `--force`; `job versions`;
`job rerun`; `job describe NAME`."""

from __future__ import annotations

import json
from pathlib import Path

from bacalao.models.states import JobStateType

from .support import Live

SPEC = """\
Name: nightly
Type: batch
Count: 1
Tasks:
  - Name: main
    Engine:
      Type: noop
      Params:
        Stdout: "{message}"
"""


def write_spec(tmp_path: Path, message: str) -> str:
    path = tmp_path / f"{message}.yaml"
    path.write_text(SPEC.format(message=message))
    return str(path)


def test_running_a_changed_spec_again_updates_the_job(
    live: Live, tmp_path: Path
) -> None:
    first = live("job", "run", "--wait=false", "--id-only", write_spec(tmp_path, "v1"))
    assert first.exit_code == 0, first.output
    [job_id] = live.backend.jobs

    again = live("job", "run", write_spec(tmp_path, "v2"))
    assert again.exit_code == 0, again.output
    assert f"Job 'nightly' updated to version 2. Job ID: {job_id}" in again.output
    assert len(live.backend.jobs) == 1

    described = live("job", "describe", "nightly")
    assert described.exit_code == 0, described.output
    assert job_id in described.output


def test_an_unchanged_spec_is_refused_until_forced(live: Live, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "same")
    assert live("job", "run", "--wait=false", spec).exit_code == 0

    refused = live("job", "run", "--wait=false", spec)
    assert refused.exit_code != 0
    assert "no changes detected" in refused.output
    assert "--force" in refused.output
    assert "Traceback" not in refused.output

    forced = live("job", "run", "--force", spec)
    assert forced.exit_code == 0, forced.output
    assert "updated to version 2" in forced.output


def test_job_versions_lists_every_version(live: Live, tmp_path: Path) -> None:
    for message in ("v1", "v2", "v3"):
        assert (
            live("job", "run", "--wait=false", write_spec(tmp_path, message)).exit_code
            == 0
        )

    table = live("job", "versions", "nightly")
    assert table.exit_code == 0, table.output
    lines = table.output.strip().splitlines()
    assert lines[0].split()[:3] == ["CREATED", "VERSION", "STATE"]
    assert [line.split()[2] for line in lines[1:]] == ["1", "2", "3"]

    as_json = live("job", "versions", "nightly", "--output", "json")
    items = json.loads(as_json.output)["Items"]
    assert [item["Version"] for item in items] == [1, 2, 3]
    assert [item["Tasks"][0]["Engine"]["Params"]["Stdout"] for item in items] == [
        "v1",
        "v2",
        "v3",
    ]


def test_job_rerun_runs_a_version_again(live: Live, tmp_path: Path) -> None:
    assert live("job", "run", "--id-only", write_spec(tmp_path, "v1")).exit_code == 0
    [job_id] = live.backend.jobs
    assert live("job", "run", write_spec(tmp_path, "v2")).exit_code == 0

    rerun = live("job", "rerun", "nightly", "--version", "1")
    assert rerun.exit_code == 0, rerun.output
    assert f"Job successfully rerun as version 3. Job ID: {job_id}" in rerun.output
    job = live.backend.jobs[job_id]
    assert job.task.Engine.Params["Stdout"] == "v1"
    assert job.State.StateType == JobStateType.Pending


def test_job_rerun_of_a_missing_version_is_one_line(live: Live, tmp_path: Path) -> None:
    assert live("job", "run", write_spec(tmp_path, "v1")).exit_code == 0
    result = live("job", "rerun", "nightly", "--version", "7")
    assert result.exit_code != 0
    assert "has no version 7" in result.output
    assert "Traceback" not in result.output
