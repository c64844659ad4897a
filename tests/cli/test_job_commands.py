"""`job run/executions/history/logs/get` against the live API (fake backend)."""

from __future__ import annotations

import functools
import http.server
import io
import json
import tarfile
import threading
from pathlib import Path

import pytest
import yaml

from bacalao.api.backend import LogLine
from bacalao.cli.progress import ProgressPrinter
from bacalao.models.api import ListJobExecutionsResponse
from bacalao.models.job import SpecConfig

from .support import Live, run_cli

SPEC = """\
name: A Simple Noop Job
type: batch
count: 1
tasks:
  - name: My main task
    engine:
      type: noop
      params:
        Stdout: Hello Bacalhau!
"""


def one_error_line(stderr: str, *needles: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# -- job run ------------------------------------------------------------------


def test_job_run_a_yaml_file(live: Live, tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text(SPEC)
    result = live("job", "run", str(spec))
    assert result.exit_code == 0, result.output
    job, _ = live.backend.submitted[0]
    assert (job.Name, job.Tasks[0].Name) == ("A Simple Noop Job", "My main task")
    assert "Job successfully submitted. Job ID: j-" in result.stdout
    assert "Standard Output:\nHello Bacalhau!" in result.stdout
    assert "\tbacalao job executions j-" in result.stdout


def test_job_run_json_from_stdin(live: Live) -> None:
    spec = json.dumps(yaml.safe_load(SPEC))
    for args in (["job", "run", "-"], ["job", "run"]):
        result = live(*args, "--id-only", "--wait=false", input=spec)
        assert result.exit_code == 0, result.output
        assert result.stdout.strip().startswith("j-")
    assert len(live.backend.submitted) == 2


def test_job_run_dry_run_prints_the_spec(live: Live, tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text(SPEC)
    result = run_cli("job", "run", "--dry-run", str(spec))
    assert result.exit_code == 0, result.output
    printed = yaml.safe_load(result.stdout)
    assert printed["Name"] == "A Simple Noop Job"
    assert printed["Tasks"][0]["Engine"] == {
        "Type": "noop",
        "Params": {"Stdout": "Hello Bacalhau!"},
    }
    assert not live.backend.submitted


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("", ("is empty",)),
        ("Type: [batch", ("not valid YAML or JSON",)),
        ("- a list", ("does not hold a job spec",)),
        ("ID: j-1\n" + SPEC, ("field 'ID'", "not allowed", "remove it")),
        ("tsks: []\nType: batch", ("unknown field 'tsks'", "did you mean 'Tasks'")),
        ("Type: batch\nTasks: []", ("invalid job spec in", "Tasks")),
        (
            "Type: batch\nTasks: [{Name: t, Engine: {Type: flibble}}]",
            ("unknown engine type 'flibble'",),
        ),
        (
            "Type: batch\nTasks: [{Name: t, Engine: {Type: docker}}]",
            ("Tasks.0.Engine.Params.Image", "Field required"),
        ),
    ],
)
def test_job_run_bad_specs_are_one_line(
    live: Live, tmp_path: Path, text: str, needles: tuple[str, ...]
) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text(text)
    result = live("job", "run", str(spec))
    assert result.exit_code == 1
    one_error_line(result.stderr, *needles)
    assert not live.backend.submitted


def test_job_run_missing_file(live: Live, tmp_path: Path) -> None:
    result = live("job", "run", str(tmp_path / "nope.yaml"))
    one_error_line(result.stderr, "cannot read", "nope.yaml")


def test_job_run_follow_streams_logs(live: Live, tmp_path: Path) -> None:
    live.backend.log_lines = [LogLine(1, "live out"), LogLine(2, "live err")]
    spec = tmp_path / "job.yaml"
    spec.write_text(SPEC)
    result = live("job", "run", "--follow", str(spec))
    assert result.exit_code == 0, result.output
    assert "Waiting for logs..." in result.stdout
    assert "live out\n" in result.stdout
    assert "live err\n" in result.stderr
    assert "Standard Output:" not in result.stdout  # it was streamed already
    assert live.backend.log_calls[0][2] is True  # follow


def test_job_run_node_details_and_download(live: Live, tmp_path: Path) -> None:
    live.backend.results_root = tmp_path / "node"
    live.backend.api_base = f"http://127.0.0.1:{live.port}"
    spec = tmp_path / "job.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    result = live(
        "job", "run", "--node-details", "--download", "--output-dir", str(out),
        str(spec),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Job Results By Node:" in result.stdout
    assert "Exit code: 0" in result.stdout
    assert (out / "stdout").read_text() == "Hello Bacalhau!"
    assert "To download the results, execute:" in result.stdout


def test_failed_run_exits_non_zero(live: Live, tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text(SPEC.replace("Stdout: Hello Bacalhau!", "Fail: disk full"))
    result = live("job", "run", str(spec))
    assert result.exit_code == 1
    *task_stderr, error = result.stderr.strip().splitlines()
    assert task_stderr == ["Warning: fake backend warning", "warn"]
    one_error_line(error, "disk full")


# -- progress ---------------------------------------------------------------


def test_progress_on_a_terminal_redraws_a_status_line(
    live: Live, capsys: pytest.CaptureFixture[str]
) -> None:
    job = live.backend.add_job(State={"StateType": "Running"})
    response = {"Job": job.model_dump(mode="json"), "Executions": []}
    printer = ProgressPrinter(live=True)
    printer(response)
    printer.poll(response)
    printer.poll(response)
    printer.clear()
    out = capsys.readouterr().out
    assert "job          Running" in out
    assert out.count("\r\x1b[K") == 3
    assert "job is Running (0s)" in out
    plain = ProgressPrinter(live=False)
    plain(response)
    plain.poll(response)
    assert "\r" not in capsys.readouterr().out


# -- executions, history, logs ------------------------------------------------


def test_executions_table_and_json(live: Live) -> None:
    job = live.backend.add_job(Name="x")
    first = live.backend.add_execution(job.ID, ComputeState={"StateType": 9})
    second = live.backend.add_execution(
        job.ID, ComputeState={"StateType": 10, "Message": "exit code 3"}
    )
    table = live("job", "executions", "x")
    assert table.exit_code == 0, table.output
    lines = table.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["CREATED", "MODIFIED", "ID"]
    assert first.ID[:10] in lines[1]
    assert "Failed" in lines[2]
    assert "exit code 3" in lines[2]
    wide = live("job", "executions", "x", "--wide", "--reverse")
    assert second.ID in wide.stdout.splitlines()[1]
    data = live("job", "executions", job.ID[:8], "--output", "json", "--limit", "1")
    page = ListJobExecutionsResponse.model_validate_json(data.stdout)
    assert [e.ID for e in page.Items] == [first.ID]
    assert page.NextToken


def test_history_filters(live: Live) -> None:
    job = live.backend.add_job()
    execution = live.backend.add_execution(job.ID)
    live.backend.add_event(job.ID, "Job submitted", Type="JobLevel")
    live.backend.add_event(
        job.ID,
        "Running",
        Type="ExecutionLevel",
        ExecutionID=execution.ID,
        NodeID="n-node-one",
    )
    everything = live("job", "history", job.ID)
    assert everything.exit_code == 0, everything.output
    assert everything.stdout.splitlines()[0].split()[:3] == ["TIME", "LEVEL", "EXEC."]
    assert "Job submitted" in everything.stdout
    only_exec = live("job", "history", job.ID, "--event-type", "execution")
    assert "Job submitted" not in only_exec.stdout
    assert "Running" in only_exec.stdout
    by_node = live("job", "history", job.ID, "--node-id", "n-other", "-o", "json")
    assert by_node.exit_code == 2  # -o is not --output: a usage error
    by_node = live("job", "history", job.ID, "--node-id", "n-other", "--output", "json")
    assert json.loads(by_node.stdout)["Items"] == []
    by_exec = live(
        "job", "history", job.ID, "--execution-id", execution.ID[:6], "--output", "yaml"
    )
    assert [i["Event"]["Message"] for i in yaml.safe_load(by_exec.stdout)["Items"]] == [
        "Running"
    ]


def test_logs_split_stdout_and_stderr(live: Live) -> None:
    job = live.backend.add_job()
    execution = live.backend.add_execution(job.ID)
    live.backend.log_lines = [LogLine(1, "to out"), LogLine(2, "to err")]
    result = live("job", "logs", "-f", "-t", "-e", execution.ID[:8], job.ID)
    assert result.exit_code == 0, result.output
    assert result.stdout == "to out\n"
    assert result.stderr == "to err\n"
    assert live.backend.log_calls == [(job.ID, execution.ID[:8], True, True)]
    missing = live("job", "logs", "j-nope")
    one_error_line(missing.stderr, "job not found: j-nope")


# -- job get --------------------------------------------------------------------


def run_with_results(live: Live, tmp_path: Path, count: int = 1) -> str:
    live.backend.results_root = tmp_path / "node"
    live.backend.api_base = f"http://127.0.0.1:{live.port}"
    result = live(
        "docker", "run", "--id-only", "--count", str(count), "busybox", "--", "true"
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_job_get_unpacks_into_the_folder(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = run_with_results(live, tmp_path)
    monkeypatch.chdir(tmp_path)
    result = live("job", "get", job_id[:8])
    assert result.exit_code == 0, result.output
    out = tmp_path / f"job-{job_id[:10]}"
    assert result.stdout.strip().splitlines()[-1] == str(Path(out.name))
    assert (out / "stdout").read_text() == "ran docker\n"
    assert (out / "exitCode").read_text() == "0"
    assert len(list((out / "outputs").iterdir())) == 1
    assert "Downloading" in result.stderr  # the progress line, not on stdout


def test_job_get_merges_several_executions(live: Live, tmp_path: Path) -> None:
    job_id = run_with_results(live, tmp_path)
    execution = live.backend.executions[job_id][0]
    twin = live.backend.add_execution(job_id, PublishedResult={"Type": "x"})
    folder = tmp_path / "node" / twin.ID
    (folder / "outputs").mkdir(parents=True)
    (folder / "stdout").write_text("twin\n")
    (folder / "outputs" / "twin.txt").write_text("t")
    live.backend.result_folders[twin.ID] = folder
    url = f"http://127.0.0.1:{live.port}/api/v1/local/results/{twin.ID}.tar.gz"
    live.backend.executions[job_id][-1] = twin.model_copy(
        update={"PublishedResult": SpecConfig(Type="urlDownload", Params={"URL": url})}
    )
    merged, raw = tmp_path / "merged", tmp_path / "raw"
    assert live("job", "get", job_id, "--output-dir", str(merged)).exit_code == 0
    assert (merged / "stdout").read_text() == "ran docker\ntwin\n"
    assert sorted(p.name for p in (merged / "outputs").iterdir()) == [
        f"{execution.ID}.txt",
        "twin.txt",
    ]
    assert not (merged / "raw").exists()
    assert live("get", job_id, "--raw", "--output-dir", str(raw)).exit_code == 0
    assert (raw / "raw" / twin.ID / "stdout").read_text() == "twin\n"
    assert (raw / "raw" / execution.ID / "stdout").read_text() == "ran docker\n"


def test_job_get_errors(live: Live, tmp_path: Path) -> None:
    nothing = live.backend.add_job()
    one_error_line(live("job", "get", nothing.ID).stderr, "has no published results")
    ipfs = live.backend.add_job()
    live.backend.add_execution(
        ipfs.ID, PublishedResult={"Type": "ipfs", "Params": {"CID": "Qm"}}
    )
    one_error_line(
        live("job", "get", ipfs.ID).stderr, "published as 'ipfs'", "-p local"
    )
    gone = live.backend.add_job()
    url = f"http://127.0.0.1:{live.port}/api/v1/local/results/e-gone.tar.gz"
    live.backend.add_execution(
        gone.ID, PublishedResult={"Type": "urlDownload", "Params": {"URL": url}}
    )
    result = live("job", "get", gone.ID, "--output-dir", str(tmp_path / "x"))
    one_error_line(result.stderr, "no results of execution e-gone")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_job_get_refuses_unsafe_archives(live: Live, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped")
        info.size = 6
        tar.addfile(info, io.BytesIO(b"gotcha"))
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        job = live.backend.add_job()
        url = f"http://127.0.0.1:{server.server_port}/evil.tar.gz"
        live.backend.add_execution(
            job.ID, PublishedResult={"Type": "urlDownload", "Params": {"URL": url}}
        )
        result = live("job", "get", job.ID, "--output-dir", str(tmp_path / "out"))
    finally:
        server.shutdown()
        server.server_close()
    one_error_line(result.stderr.splitlines()[-1], "refused to unpack", "outside")
    assert not (tmp_path / "escaped").exists()
