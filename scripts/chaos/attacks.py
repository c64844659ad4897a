"""The hostile-peer scenario: every attack, one after another, on one network.

The network is two `bacalao serve` nodes, `a` and `b`, each orchestrator
and compute (Docker and noop). For each attack a fresh hostile peer joins
through a's swarm address (`hostile.open_hostile`), runs the attack and
leaves. Then the suite checks, from outside:

- refused: the attack's own verdict, and no node process died, and the
  network still works (a probe job submitted to a ends Completed);
- counted: some counter an operator would read grew during the attack —
  a number in `GET /api/v1/agent/debug` (what `bacalao agent` shows)
  whose name says refused, rejected, dropped, invalid, denied, forged,
  spoofed, blocked or bad.

A node that died is started again for the probe. An attack that got
through may have left damage behind, so the next one gets a fresh
network (on a network that refuses every attack, one serves them all).
Forged results cannot be refused by a network open to any compute node:
that attack runs on a network closed to unknown peers (`serve
--allow-peer`) when the node offers one, else on the open one (and
fails, saying so).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import oversize
import peer_attacks
import rogue
import trio
from cluster import Cluster, ServeNode, log, request
from harness import BACALAO
from hostile import Honest, Hostile, Unwelcome, open_hostile
from judge import Tally, merge, noop_job, submit, tally
from peer_attacks import Net, Outcome
from reliability import Attack, Row

from bacalao.p2p.identity import load_or_create_key, peer_id_of

AttackFn = Callable[[Hostile, Net], Awaitable[Outcome]]
ATTACKS: list[tuple[str, AttackFn]] = [
    ("node table rewrite (NODES Self, forged pull)", peer_attacks.node_table_rewrite),
    ("files through LOGS (/dev, ../, absolute)", peer_attacks.logs_escape),
    ("shared view rewrite (job events, sync)", peer_attacks.shared_view_rewrite),
    ("ASK_BID straight to a compute node", peer_attacks.ask_bid_direct),
    ("Engine.Params nested 400 deep", oversize.nested_params),
    ("Count 10^30", oversize.huge_count),
    ("job snapshot over 1 MB", oversize.big_snapshot),
    ("black hole compute node", rogue.black_hole),
]
FORGED = ("forged Completed results", rogue.forged_result)
ALLOW_FLAG = "--allow-peer"
COUNTER_WORDS = (
    "refus",
    "reject",
    "drop",
    "invalid",
    "denied",
    "forg",
    "spoof",
    "block",
    "bad",
)


def hostile(sizes: Any, work: Path) -> Row:
    closed = allow_list_supported()
    row = Row(
        "hostile",
        "a hostile peer running each attack",
        "two nodes `a` and `b` (`serve`, orchestrator + compute, "
        f"{'Docker and noop' if sizes.docker else 'noop'}); for each attack a "
        "fresh libp2p peer (bacalao's own Swarm, new key) joins through a's "
        "swarm address and attacks; refused = the attack's own check, no "
        "process died and a probe job still completes; counted = a refusal "
        "counter in `agent/debug` grew. Forged results run on a network "
        f"{'closed with --allow-peer' if closed else 'open (no allow-list offered)'}.",
    )
    started = time.perf_counter()
    tallies = _run_attacks(sizes, work / "open", ATTACKS, False, row)
    tallies += _run_attacks(sizes, work / "closed", [FORGED], closed, row)
    row.jobs = merge(tallies)
    row.rounds = 1
    row.seconds = time.perf_counter() - started
    return row


def _run_attacks(
    sizes: Any, work: Path, attacks: list[tuple[str, AttackFn]], closed: bool, row: Row
) -> list[Tally]:
    """Run `attacks` in order on one network; after an attack that got
    through (it may have left damage behind) the next gets a fresh one."""
    tallies: list[Tally] = []
    running: tuple[Cluster, Net] | None = None
    try:
        for i, (name, fn) in enumerate(attacks):
            if running is None:
                running = start_network(sizes, work / f"net-{i}", closed)
            log(f"hostile: {name}")
            result = attack(name, fn, *running)
            row.attacks.append(result)
            if not result.refused:
                tallies += _close(*running, sizes, row)
                running = None
    finally:
        if running is not None:
            tallies += _close(*running, sizes, row)
    return tallies


def _close(cluster: Cluster, net: Net, sizes: Any, row: Row) -> list[Tally]:
    """What became of the network's jobs; then stop it."""
    try:
        return [tally(url, ids, sizes.settle) for url, ids in net.acked.items()]
    finally:
        cluster.stop()
        row.dead += cluster.deaths


def start_network(sizes: Any, work: Path, closed: bool) -> tuple[Cluster, Net]:
    engines = "docker,noop" if sizes.docker else "noop"
    cluster = Cluster(work)
    a = cluster.add("a", engines=engines)
    b = cluster.add("b", engines=engines)
    if closed:
        ids = [peer_id_of(load_or_create_key(n.repo)) for n in (a, b)]
        for node in (a, b):
            node.extra = [arg for i in ids for arg in (ALLOW_FLAG, i)]
    cluster.start(a)
    b.peer = a.swarm_addr
    cluster.start(b)
    cluster.wait_formed(a)
    cluster.wait_formed(b)
    finished, why = submit(a.api_url, noop_job(pin="b"))
    tally(a.api_url, [finished], sizes.settle)
    secret = work / "secret"
    secret.mkdir(parents=True, exist_ok=True)
    for name in ("stdout", "stderr"):
        (secret / name).write_text(f"SECRET-{name} planted by the chaos suite\n")
    net = Net(
        honest(a),
        honest(b),
        work,
        sizes.docker,
        sizes.black_hole_wait,
        finished or why,
        secret,
    )
    net.acknowledged(net.a, finished)
    return cluster, net


def honest(node: ServeNode) -> Honest:
    return Honest(node.name, node.node_id, node.api_url, node.swarm_addr, node.repo)


def attack(name: str, fn: AttackFn, cluster: Cluster, net: Net) -> Attack:
    """Run one attack with a fresh hostile peer; judge refused and counted."""
    before = counters(net)
    dead_before = len(cluster.check_deaths())
    try:
        outcome = trio.run(_with_hostile, fn, net, net.wait + 120)
    except Exception as exc:
        outcome = Outcome(False, f"the attack broke: {type(exc).__name__}: {exc}")
    refused, evidence = outcome.refused, outcome.evidence
    died = cluster.check_deaths()[dead_before:]
    if died:
        refused = False
        evidence += f"; NODE DIED: {' / '.join(died)}"
        for node in cluster.nodes:
            if not node.running:
                cluster.restart(node)
    probe = _probe(net)
    if probe:
        refused = False
        evidence += f"; afterwards {probe}"
    counted = grew(before, counters(net))
    log(f"hostile: {name}: refused {refused}, counted {bool(counted)}: {evidence}")
    if counted:
        evidence += f"; counted: {', '.join(counted[:3])}"
    return Attack(name, refused, bool(counted), evidence)


async def _with_hostile(fn: AttackFn, net: Net, timeout: float) -> Outcome:
    with trio.fail_after(timeout):
        try:
            async with open_hostile(net.work, net.a.swarm_addr) as h:
                return await fn(h, net)
        except Unwelcome as exc:
            return Outcome(True, f"the network did not let it connect ({exc})")


def _probe(net: Net) -> str:
    """ "" if a job submitted to a still ends Completed."""
    job_id, why = submit(net.a.api_url, noop_job())
    if not job_id:
        return f"a probe job was refused: {why}"
    net.acknowledged(net.a, job_id)
    state = tally(net.a.api_url, [job_id], 60).states.most_common(1)[0][0]
    return "" if state == "Completed" else f"a probe job ended {state}"


def counters(net: Net) -> dict[str, float]:
    """Every number in each node's `agent/debug`, by node and path."""
    out: dict[str, float] = {}
    for node in (net.a, net.b):
        status, body = request(node.api_url, "GET", "/api/v1/agent/debug", timeout=10)
        if status == 200:
            _flatten(body, node.name, out)
    return out


def _flatten(value: Any, path: str, out: dict[str, float]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{path}.{key}", out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(item, f"{path}.{i}", out)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out[path] = float(value)


def grew(before: dict[str, float], after: dict[str, float]) -> list[str]:
    """Refusal counters that went up (see the module docstring)."""
    return [
        f"{path} +{after[path] - before.get(path, 0):g}"
        for path in after
        if any(w in path.lower() for w in COUNTER_WORDS)
        and after[path] > before.get(path, 0)
    ]


def allow_list_supported() -> bool:
    """Whether `bacalao serve` offers a peer allow-list."""
    try:
        done = subprocess.run(
            [BACALAO, "serve", "--help"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return ALLOW_FLAG in done.stdout
