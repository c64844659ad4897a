"""Start-up failures explained: the repo check and what a starting node raised."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
import trio

from bacalao.api.errors import ApiBindError
from bacalao.p2p.exceptions import InvalidIdentityKey, ListenError
from bacalao.p2p.identity import KEY_FILE, load_or_create_key
from bacalao.startup import StartupError, check_repo, explain, sole_cause


def good_repo(path: Path) -> Path:
    load_or_create_key(path)
    for name in ("jobs.db", "compute.db"):
        db = sqlite3.connect(path / name)
        db.execute("CREATE TABLE t (x)")
        db.commit()
        db.close()
    return path


def test_a_good_repo_and_a_new_one_pass(tmp_path: Path) -> None:
    check_repo(good_repo(tmp_path / "old"))
    check_repo(tmp_path / "new" / "nested")
    assert (tmp_path / "new" / "nested").is_dir()
    assert not list((tmp_path / "new" / "nested").iterdir())  # probe removed


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (KEY_FILE, b"not hex at all\n", "identity.key is not a valid identity key"),
        (KEY_FILE, b"abcd\n", "a 2-byte hex key where a 32-byte one belongs"),
        (KEY_FILE, b"\xff\xfe", "not a hex-encoded key"),
        ("jobs.db", b"garbage" * 1000, "jobs.db is not a usable SQLite database"),
        ("compute.db", b"SQLite format 3\x00" + b"\x00" * 80, "compute.db is not"),
    ],
)
def test_a_broken_file_is_named_with_a_fix(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    repo = good_repo(tmp_path)
    (repo / name).write_bytes(content)
    with pytest.raises(StartupError, match=message) as caught:
        check_repo(repo)
    assert "move it away" in caught.value.fix


def test_a_truncated_database_is_caught(tmp_path: Path) -> None:
    repo = good_repo(tmp_path)
    db = sqlite3.connect(repo / "jobs.db")
    db.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    db.commit()
    db.close()
    with (repo / "jobs.db").open("r+b") as f:
        f.truncate(4096)
    with pytest.raises(StartupError, match=r"jobs\.db is not a usable"):
        check_repo(repo)


def test_a_repo_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "repo").write_text("")
    with pytest.raises(StartupError, match=r"cannot use .*repo as the node's repo"):
        check_repo(tmp_path / "repo")


def group(*excs: BaseException) -> BaseExceptionGroup[BaseException]:
    return BaseExceptionGroup("nursery", [BaseExceptionGroup("inner", list(excs))])


def test_port_and_key_failures_inside_exception_groups_are_explained() -> None:
    bind = ApiBindError(errno.EADDRINUSE, "cannot serve the API on 1.2.3.4:5: busy")
    found = explain(group(bind))
    assert found is not None
    assert str(found) == (
        "cannot serve the API on 1.2.3.4:5: busy; "
        "stop what uses it or choose another port with --api-port"
    )
    listen = ListenError("0.0.0.0:1235", "cannot assign", errno.EADDRNOTAVAIL)
    found = explain(group(listen))
    assert found is not None
    assert "give --swarm-host an address of this machine" in str(found)
    found = explain(group(InvalidIdentityKey("/r/identity.key", "bad")))
    assert found is not None
    assert str(found).startswith("/r/identity.key is not a valid identity key (bad)")


def test_files_the_node_cannot_use_are_named() -> None:
    denied = PermissionError(errno.EACCES, "Permission denied", "/r/results")
    found = explain(group(denied))
    assert found is not None
    assert found.problem == "cannot use /r/results (Permission denied)"


def test_bugs_are_not_explained_away() -> None:
    assert explain(group(KeyError("x"))) is None
    assert explain(RuntimeError("x")) is None


async def test_sole_cause_unwraps_one_real_failure() -> None:
    bug = KeyError("x")
    with trio.CancelScope() as scope:
        scope.cancel()
        try:
            await trio.sleep(1)
        except trio.Cancelled as cancelled:
            wrapped = group(bug, cancelled)
    assert sole_cause(wrapped) is bug
    assert sole_cause(group(bug, ValueError("y"))) is not bug
