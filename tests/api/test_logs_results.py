"""The logs WebSocket and the local publisher's results download."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from bacalao.api.app import ApiApp
from bacalao.api.backend import LogLine

from .asgi import error_of, frames, websocket
from .conftest import Api
from .fakes import FakeBackend

JOBS = "/api/v1/orchestrator/jobs"
RESULTS = "/api/v1/local/results"


# -- logs -----------------------------------------------------------------


async def test_logs_frames_as_bacalhau_sends_them(
    app: ApiApp, backend: FakeBackend
) -> None:
    job = backend.add_job(Name="my-job")
    execution = backend.add_execution(job.ID)
    backend.log_lines = [LogLine(1, "out"), LogLine(2, "err")]
    sent = await websocket(
        app, f"{JOBS}/{job.ID[:6]}/logs", f"execution_id={execution.ID[:8]}&follow=1"
    )
    assert sent[0] == {"type": "websocket.accept"}
    assert frames(sent) == [
        {"value": {"Type": 1, "Line": "out\n"}},
        {"value": {"Type": 2, "Line": "err\n"}},
    ]
    assert sent[-1] == {"type": "websocket.close", "code": 1000}
    assert backend.log_calls == [(job.ID, execution.ID[:8], True, False)]
    by_name = await websocket(app, f"{JOBS}/my-job/logs", "tail=true")
    assert len(frames(by_name)) == 2
    assert backend.log_calls[-1] == (job.ID, "", False, True)


async def test_logs_errors_are_a_last_frame(app: ApiApp, backend: FakeBackend) -> None:
    job = backend.add_job()
    cases = {
        f"{JOBS}/j-nope/logs": ("", "job not found: j-nope"),
        f"{JOBS}/{job.ID}/logs": ("follow=maybe", "'follow'"),
        f"{JOBS}/{job.ID}/logs?": ("execution_id=e-zz", "has no execution e-zz"),
    }
    for path, (query, text) in cases.items():
        sent = await websocket(app, path.rstrip("?"), query)
        *_, last = frames(sent)
        assert text in last["error"], last
        assert last["value"] == {"Type": 0, "Line": ""}
        assert sent[-1] == {"type": "websocket.close", "code": 1000}


async def test_logs_failure_mid_stream(app: ApiApp, backend: FakeBackend) -> None:
    job = backend.add_job()
    backend.logs_fail_after = True
    got = frames(await websocket(app, f"{JOBS}/{job.ID}/logs"))
    assert got[0] == {"value": {"Type": 1, "Line": "fake log line\n"}}
    assert "cannot be reached" in got[-1]["error"]


async def test_logs_stop_when_the_client_goes(
    app: ApiApp, backend: FakeBackend
) -> None:
    job = backend.add_job()
    backend.follow_forever = True
    sent = await websocket(
        app, f"{JOBS}/{job.ID}/logs", "follow=true", disconnect_after=1
    )
    assert len(frames(sent)) == 1
    assert sent[-1]["type"] == "websocket.send"  # no close after the client left


async def test_logs_over_plain_http_says_upgrade(
    api: Api, backend: FakeBackend
) -> None:
    job = backend.add_job()
    body = error_of(await api("GET", f"{JOBS}/{job.ID}/logs"))
    assert body["Status"] == 400
    assert "WebSocket" in body["Message"]


# -- results ----------------------------------------------------------------


def results_folder(root: Path) -> Path:
    folder = root / "e-1"
    (folder / "outputs" / "deep").mkdir(parents=True)
    (folder / "stdout").write_text("hello\n")
    (folder / "stderr").write_text("")
    (folder / "exitCode").write_text("0")
    (folder / "outputs" / "deep" / "big.bin").write_bytes(bytes(range(256)) * 2000)
    return folder


async def test_results_stream_a_tar_gz(
    api: Api, backend: FakeBackend, tmp_path: Path
) -> None:
    backend.result_folders["e-1"] = results_folder(tmp_path)
    reply = await api("GET", f"{RESULTS}/e-1.tar.gz")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/gzip"
    assert "content-length" not in reply.headers
    assert 'filename="e-1.tar.gz"' in reply.headers["content-disposition"]
    assert reply.headers["x-bacalao-unpacked-bytes"] == str(6 + 1 + 512_000)
    with tarfile.open(fileobj=io.BytesIO(reply.body), mode="r:gz") as tar:
        names = sorted(tar.getnames())
        big = tar.extractfile("outputs/deep/big.bin")
        assert big is not None
        assert big.read() == bytes(range(256)) * 2000
    assert names == [
        "exitCode",
        "outputs",
        "outputs/deep",
        "outputs/deep/big.bin",
        "stderr",
        "stdout",
    ]
    assert gzip.decompress(reply.body)  # a whole gzip stream


async def test_results_head_and_errors(
    api: Api, backend: FakeBackend, tmp_path: Path
) -> None:
    backend.result_folders["e-1"] = results_folder(tmp_path)
    head = await api("HEAD", f"{RESULTS}/e-1.tar.gz")
    assert (head.status, head.body) == (200, b"")
    for name in ("e-2.tar.gz", "e-1.zip", "..%2F..%2Fetc.tar.gz", ".tar.gz"):
        body = error_of(await api("GET", f"{RESULTS}/{name}"))
        assert body["Status"] == 404, name
    missing = error_of(await api("GET", f"{RESULTS}/e-2.tar.gz"))
    assert "no results of execution e-2" in missing["Message"]
