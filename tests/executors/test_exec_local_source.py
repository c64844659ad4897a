"""The `local` input source, its allow-list, and the guard every executor applies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import trio

from bacalao.executors.exceptions import ExecutorError
from bacalao.executors.guard import TaskGuard
from bacalao.executors.noop import NoopExecutor
from bacalao.executors.wasm import WasmExecutor
from bacalao.models.job import InputSource
from bacalao.storage import StorageError, refusal, stage_inputs, supported
from bacalao.storage.local import parse_allowed

from .support import make_job


def local(path: str | Path, target: str = "/data", **params: Any) -> InputSource:
    source = {"Type": "localDirectory", "Params": {"SourcePath": str(path), **params}}
    return InputSource.model_validate({"Source": source, "Target": target})


def test_a_node_offers_local_only_with_an_allow_list():
    assert supported() == ("inline",)
    assert supported(["/srv/data/**"]) == ("inline", "local", "localDirectory")


@pytest.mark.parametrize(
    ("allowed", "path", "refused"),
    [
        (["/srv/data"], "/srv/data", None),
        (["/srv/data"], "/srv/data/x", "is not allow-listed"),
        (["/srv/data/*"], "/srv/data/x", None),
        (["/srv/data/*"], "/srv/data/x/y", "is not allow-listed"),
        (["/srv/data/**"], "/srv/data", None),
        (["/srv/data/**"], "/srv/data/x/y", None),
        (["/srv/data/**"], "/srv/data/../../etc", "is not allow-listed"),
        (["/srv/data/**"], "/srv/database", "is not allow-listed"),
        ([], "/srv/data", "is not allow-listed"),
    ],
)
def test_bid_time_allow_list(allowed: list[str], path: str, refused: str | None):
    reason = refusal([local(path)], allowed)
    assert (reason is None) if refused is None else refused in (reason or "")


def test_write_access_must_be_granted():
    rw = local("/srv/data/x", ReadWrite=True)
    assert "allow-listed read-only" in (refusal([rw], ["/srv/data/**"]) or "")
    assert "allow-listed read-only" in (refusal([rw], ["/srv/data/**:ro"]) or "")
    assert refusal([rw], ["/srv/data/**:rw"]) is None
    assert refusal([local("/srv/data/x", ReadWrite="true")], ["/srv/**:rw"]) is None


def test_bad_params():
    assert "absolute path" in (refusal([local("data")], ["/**"]) or "")
    bad = local("/srv/x", CreateAs="folder")
    assert "CreateAs must be dir, file or noCreate" in (refusal([bad], ["/**"]) or "")


async def test_staging_binds_the_path_read_only(tmp_path: Path):
    real = await trio.to_thread.run_sync(tmp_path.resolve)
    allowed = [f"{tmp_path}/**"]
    staged = await stage_inputs(
        [local(tmp_path)], tmp_path / "work", allowed_local_paths=allowed
    )
    assert [(s.host_path, s.target, s.read_only) for s in staged] == [
        (real, "/data", True)
    ]


async def test_staging_follows_links_before_matching(tmp_path: Path):
    allowed_dir = tmp_path / "allowed"
    allowed_dir.mkdir()
    (tmp_path / "secret").mkdir()
    os.symlink(tmp_path / "secret", allowed_dir / "link")
    source = local(allowed_dir / "link")
    allowed = [f"{allowed_dir}/**"]
    assert refusal([source], allowed) is None  # spelled inside the allowed folder
    with pytest.raises(StorageError, match=r"link \(which is .*secret\) is not allow"):
        await stage_inputs([source], tmp_path / "work", allowed_local_paths=allowed)


async def test_missing_paths_are_created_only_when_asked(tmp_path: Path):
    allowed = [f"{tmp_path}/**:rw"]
    work = tmp_path / "work"
    with pytest.raises(StorageError, match="does not exist"):
        await stage_inputs([local(tmp_path / "a")], work, allowed_local_paths=allowed)
    made = local(tmp_path / "b", ReadWrite=True, CreateAs="dir")
    staged = await stage_inputs([made], work, allowed_local_paths=allowed)
    assert (tmp_path / "b").is_dir()
    assert not staged[0].read_only
    file = local(
        tmp_path / "c" / "f.txt", target="/f.txt", ReadWrite=True, CreateAs="file"
    )
    await stage_inputs([file], work, allowed_local_paths=allowed)
    assert (tmp_path / "c" / "f.txt").is_file()


def test_executors_refuse_what_the_node_does_not_allow():
    guard = TaskGuard(("/srv/data/**",))
    job = make_job("noop", {}, InputSources=[local("/etc").model_dump()])
    assert "/etc is not allow-listed" in (NoopExecutor(guard=guard).refuse(job) or "")
    wasm = make_job(
        "wasm",
        {"EntryModule": "/data/m.wasm"},
        InputSources=[local("/home/x").model_dump()],
    )
    assert "/home/x is not allow-listed" in (
        WasmExecutor(guard=guard).refuse(wasm) or ""
    )


async def test_disk_asks_beyond_free_space_are_refused(tmp_path: Path):
    guard = TaskGuard(disk_path=tmp_path)
    small = make_job("noop", {}, Resources={"Disk": "1Mb"})
    huge = make_job("noop", {}, Resources={"Disk": "1000000Gb"})
    assert guard.refusal(huge) is None  # nothing measured yet
    await guard.refresh()
    assert guard.free_disk is not None
    assert guard.free_disk > 0
    assert guard.refusal(small) is None
    reason = guard.refusal(huge) or ""
    assert reason.startswith("task asks for ")
    assert " of disk, this node has " in reason
    with trio.fail_after(5), pytest.raises(ExecutorError, match="of disk"):
        await guard.check(huge)


def test_allow_list_entries():
    entries = parse_allowed(["/a/**:rw", "/b:ro", " /c ", "", "/d/../e"])
    assert [(a.pattern, a.read_write) for a in entries] == [
        ("/a/**", True),
        ("/b", False),
        ("/c", False),
        ("/e", False),
    ]
