"""`bacalao serve` processes on loopback that the suite can kill and restart.

- `ServeNode`: one node with a fixed repo and fixed ports, so a restart
  (after SIGKILL or SIGTERM) is the same node at the same addresses; it
  knows whether the suite stopped it, so an exit nobody asked for counts
  as a dead process.
- `Cluster`: the nodes of one scenario, started and stopped together.
- `request(url, method, path, body)`: one HTTP call returning (status,
  JSON), for answers the bench `Api` would raise on.

Process handling (log files, readiness) is the benchmark suite's
`NodeProcess`; nothing here changes the product.
"""

from __future__ import annotations

import http.client
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import BACALAO, Api, BenchError, NodeProcess, free_port_base, wait_ready

STOP_WAIT = 20.0


class ChaosError(Exception):
    """A scenario could not be carried out (not a defect found: a broken run)."""


@dataclass
class ServeNode:
    """One `bacalao serve` node that keeps its repo and ports across restarts."""

    name: str
    repo: Path
    logs: Path
    peer: str | None = None
    compute: bool = True
    orchestrator: bool = True
    engines: str = "noop"
    labels: str = ""
    extra: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # BACALAO_* settings
    api_port: int = 0
    swarm_port: int = 0
    proc: NodeProcess | None = None
    generation: int = 0
    stopped_on_purpose: bool = False
    node_id: str = ""

    def __post_init__(self) -> None:
        if not self.api_port:
            base = free_port_base(2)
            self.api_port, self.swarm_port = base, base + 1
        self.labels = self.labels or f"chaos-node={self.name}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def swarm_addr(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.swarm_port}/p2p/{self.node_id}"

    def argv(self) -> list[str]:
        argv = [BACALAO, "serve", "--repo", str(self.repo), "--swarm-host"]
        argv += ["127.0.0.1", "--swarm-port", str(self.swarm_port)]
        argv += ["--api-port", str(self.api_port), "--allow-noop"]
        argv += ["--engines", self.engines, "--labels", self.labels]
        if self.peer:
            argv += ["--peer", self.peer]
        if not self.compute:
            argv.append("--no-compute")
        if not self.orchestrator:
            argv.append("--no-orchestrator")
        return argv + self.extra

    def start(self) -> ServeNode:
        """Start the process (not waiting for it: see `Cluster.wait_ready`)."""
        self.generation += 1
        log = self.logs / f"{self.name}-{self.generation}.log"
        # an empty BACALAO_PEERS keeps bootstrap-peers.txt out of it
        env = {} if self.peer else {"BACALAO_PEERS": ""}
        env.update(self.env)
        self.proc = NodeProcess(self.name, self.argv(), log, env=env).start()
        self.stopped_on_purpose = False
        return self

    def ready(self) -> bool:
        assert self.proc is not None
        if not self.proc.poll_ready("API:"):
            return False
        text = self.proc.log.read_text(errors="replace")
        self.node_id = text.split("bacalao node ", 1)[1].split()[0]
        return True

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        self._signal(signal.SIGKILL)

    def terminate(self) -> None:
        """SIGTERM: the node's graceful stop."""
        self._signal(signal.SIGTERM)

    def _signal(self, signum: int) -> None:
        assert self.proc is not None
        assert self.proc.proc is not None
        self.stopped_on_purpose = True
        if self.proc.proc.poll() is None:
            self.proc.proc.send_signal(signum)
        try:
            self.proc.proc.wait(timeout=STOP_WAIT)
        except Exception:
            self.proc.proc.kill()
            self.proc.proc.wait(timeout=10)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def running(self) -> bool:
        return (
            self.proc is not None
            and self.proc.proc is not None
            and self.proc.proc.poll() is None
        )

    @property
    def died(self) -> bool:
        """Exited without the suite asking it to."""
        return (
            self.proc is not None and not self.running and not self.stopped_on_purpose
        )

    def exit_note(self) -> str:
        assert self.proc is not None
        assert self.proc.proc is not None
        tail = self.proc.log.read_text(errors="replace").strip().splitlines()[-3:]
        return f"{self.name} exited ({self.proc.proc.returncode}): " + " / ".join(tail)


@dataclass
class Cluster:
    """The nodes of one scenario."""

    work: Path
    nodes: list[ServeNode] = field(default_factory=list)
    deaths: list[str] = field(default_factory=list)

    def add(self, name: str, **options: Any) -> ServeNode:
        repo = options.pop("repo", self.work / name)
        node = ServeNode(name, repo, self.work / "logs", **options)
        self.nodes.append(node)
        return node

    def start(self, *nodes: ServeNode, timeout: float = 120) -> None:
        for node in nodes:
            node.start()
        self.wait_ready(*nodes, timeout=timeout)

    def wait_ready(self, *nodes: ServeNode, timeout: float = 120) -> None:
        procs = [n.proc for n in nodes if n.proc is not None]
        try:
            wait_ready(procs, timeout=timeout)
        except BenchError as exc:
            raise ChaosError(str(exc)) from None
        for node in nodes:
            node.ready()

    def restart(self, node: ServeNode, timeout: float = 120) -> None:
        self.start(node, timeout=timeout)

    def wait_formed(self, head: ServeNode, timeout: float = 60) -> None:
        """Until `head` lists every running node as connected."""
        want = {n.node_id for n in self.nodes if n.running}
        wait_for(
            lambda: want <= _connected(head),
            timeout,
            f"{head.name} does not list every node as connected",
        )

    def check_deaths(self) -> list[str]:
        """Notes on nodes that exited unasked (each counted once)."""
        for node in self.nodes:
            if node.died:
                note = node.exit_note()
                if note not in self.deaths:
                    self.deaths.append(note)
                node.stopped_on_purpose = True  # counted; do not count it again
        return self.deaths

    def stop(self) -> None:
        self.check_deaths()
        for node in self.nodes:
            if node.running:
                node.stopped_on_purpose = True
                assert node.proc is not None
                assert node.proc.proc is not None
                node.proc.proc.send_signal(signal.SIGINT)
        for node in self.nodes:
            if node.proc is not None:
                node.proc.stop(timeout=STOP_WAIT)


def _connected(node: ServeNode) -> set[str]:
    try:
        return Api(node.api_url, timeout=10).node_ids()
    except (BenchError, OSError):
        return set()


def wait_for(condition: Any, timeout: float, what: str, tick: float = 0.2) -> None:
    """Poll `condition()` until true; `ChaosError(what)` after `timeout` s."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise ChaosError(f"after {timeout:g} s: {what}")
        time.sleep(tick)


def request(
    url: str, method: str, path: str, body: Any = None, timeout: float = 30
) -> tuple[int, Any]:
    """One HTTP call: (status, decoded JSON or text); status 0 if no answer."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    data = body if isinstance(body, bytes) else None
    if body is not None and data is None:
        data = json.dumps(body).encode()
    try:
        conn.request(method, path, body=data, headers=_JSON)
        resp = conn.getresponse()
        raw = resp.read()
    except (OSError, http.client.HTTPException) as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    try:
        return resp.status, json.loads(raw) if raw else None
    except ValueError:
        return resp.status, raw.decode(errors="replace")


_JSON = {"Content-Type": "application/json"}


def log(message: str) -> None:
    print(f"chaos: {message}", file=sys.stderr, flush=True)
