"""Why a node could not start, in one line that names the file and the fix.

    StartupError        the node cannot start; `str()` is the line to show
     └─ ControlFileError   a control file (swarm key, allow-list, tokens,
                           TLS) cannot be used

`check_repo(repo)` looks at the repo before anything opens it (blocking:
run it in a thread) and raises `StartupError` for a repo that cannot be
created or written, an identity key that is not one, or a database file
that is not a database. `explain(exc)` turns what a starting node raised
(an exception group, usually) into a `StartupError`, or None for a bug.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

MOVE_ASIDE = (
    "move it away (the node then starts without what it held) or restore a backup"
)


class StartupError(Exception):
    """Raised when a node cannot start; says what is wrong and how to fix it."""

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(f"{problem}; {fix}" if fix else problem)
        self.problem = problem
        self.fix = fix


class ControlFileError(StartupError):
    """Raised when a swarm key, allow-list, token or TLS file cannot be used."""


def check_repo(repo: Path) -> None:
    """Raise `StartupError` if the node could not use `repo` (see module doc)."""
    _ensure_writable(repo)
    _check_identity(repo)
    for db in sorted(repo.glob("*.db")):
        _check_database(db)


def _ensure_writable(repo: Path) -> None:
    try:
        repo.mkdir(parents=True, exist_ok=True)
        probe = repo / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise _unusable(repo, exc) from None


def _unusable(repo: Path, exc: OSError) -> StartupError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StartupError(
            f"the node's repo {repo} is not writable ({reason})",
            "make it writable for this user or choose another --repo",
        )
    return StartupError(
        f"cannot use {repo} as the node's repo ({reason})", "choose another --repo"
    )


def _check_identity(repo: Path) -> None:
    from .p2p.exceptions import KeyFileError
    from .p2p.identity import KEY_FILE, read_seed

    path = repo / KEY_FILE
    if not path.exists():
        return
    try:
        read_seed(path)
    except KeyFileError as exc:
        raise _bad_identity(path, exc.reason) from None
    except OSError as exc:
        raise StartupError(
            f"cannot read {path} ({exc.strerror or exc})",
            "make it readable for this user: it holds the node's identity",
        ) from None


def _bad_identity(path: Path, reason: str) -> StartupError:
    return StartupError(
        f"{path} is not a valid identity key ({reason})",
        "move it away to create a new identity (the node gets a new peer ID)",
    )


def _check_database(path: Path) -> None:
    if not os.access(path, os.R_OK | os.W_OK):
        raise StartupError(
            f"{path} is not readable and writable by this user",
            "fix its owner or mode (chown/chmod) or choose another --repo",
        )
    try:
        db = sqlite3.connect(path)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise StartupError(
            f"{path} is not a usable SQLite database ({exc})", MOVE_ASIDE
        ) from None


def explain(exc: BaseException) -> StartupError | None:
    """The `StartupError` for a failure raised while a node started, or None
    when nothing in it is a known cause (then it is a bug to report)."""
    for leaf in _leaves(exc):
        found = _explain_one(leaf)
        if found is not None:
            return found
    return None


def _explain_one(exc: BaseException) -> StartupError | None:
    from .api.errors import ApiBindError
    from .p2p.exceptions import InvalidIdentityKey, InvalidSwarmKey, ListenError

    if isinstance(exc, StartupError):
        return exc
    if isinstance(exc, ApiBindError):
        fix = _port_fix(exc.errno, "--api-port")
        return StartupError(exc.strerror or str(exc), fix)
    if isinstance(exc, ListenError):
        return StartupError(str(exc), _port_fix(exc.errno, "--swarm-port"))
    if isinstance(exc, InvalidIdentityKey):
        return _bad_identity(Path(exc.path or "identity.key"), exc.reason)
    if isinstance(exc, InvalidSwarmKey):
        return ControlFileError(str(exc), "give every node the same swarm.key file")
    if isinstance(exc, sqlite3.DatabaseError):
        return StartupError(f"a database in the node's repo failed: {exc}", MOVE_ASIDE)
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = exc.strerror or str(exc)
        return StartupError(
            f"cannot use {exc.filename} ({reason})",
            "check its owner and mode, or choose another --repo",
        )
    return None


def _port_fix(code: int | None, flag: str) -> str:
    if code == errno.EADDRNOTAVAIL:
        host_flag = "--swarm-host" if flag == "--swarm-port" else "--api-host"
        return f"give {host_flag} an address of this machine (or 0.0.0.0)"
    if code == errno.EACCES:
        return f"ports below 1024 need privileges: choose another with {flag}"
    return f"stop what uses it or choose another port with {flag}"


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def sole_cause(exc: BaseException) -> BaseException:
    """The one real exception inside nested single-member groups, else `exc`."""
    leaves = [e for e in _leaves(exc) if not _is_cancellation(e)]
    return leaves[0] if len(leaves) == 1 else exc


def _is_cancellation(exc: BaseException) -> bool:
    import trio

    return isinstance(exc, trio.Cancelled)


__all__ = ["ControlFileError", "StartupError", "check_repo", "explain", "sole_cause"]
