"""The hostile-peer scenario: every attack, one after another.

The network is two `bacalao serve` nodes, `a` and `b`, each orchestrator
and compute (Docker and noop). For each attack a fresh hostile peer joins
through a's swarm address (`hostile.open_hostile`), runs the attack and
leaves. Then the suite checks, from outside:

- refused: the attack's own verdict, and no node process died, and the
  network still works (a probe job submitted to a ends Completed);
- counted: an operator can see it — a number in `GET /api/v1/agent/debug`
  (`bacalao agent debug`) or in the node list (`bacalao node list`) whose
  name says refused, rejected, dropped, invalid, denied, forged, spoofed,
  blocked, bad, forbidden, silent or expired grew during the attack, or
  the node list shows the hostile peer as not approved.

A node that died is started again for the probe. An attack that got
through may have left damage behind, so the next one gets a fresh
network (on a network that refuses every attack, one serves them all).

Two attacks no network open to every peer can refuse by design — a
compute node lying about its own executions, a peer asking for bids in
its own name — run on a network closed by its operator's controls, each
set through its `BACALAO_*` variable where the node has that setting:
`allow_peers` (only a and b may connect), `allowed_requesters` (compute
nodes serve only a and b), `node_approval: manual` (the suite approves a
and b on each other through Bacalhau's `PUT /api/v1/orchestrator/nodes/ID`).
A node without these settings runs them open, and fails them.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import oversize
import peer_attacks
import rogue
import trio
from cluster import ChaosError, Cluster, ServeNode, log, request
from hostile import Honest, Hostile, Unwelcome, open_hostile
from judge import Tally, merge, noop_job, submit, tally
from peer_attacks import Net, Outcome
from reliability import Attack, Row

from bacalao.config import NodeConfig
from bacalao.p2p.identity import load_or_create_key, peer_id_of

AttackFn = Callable[[Hostile, Net], Awaitable[Outcome]]
OPEN_ATTACKS: list[tuple[str, AttackFn]] = [
    ("node table rewrite (NODES Self, forged pull)", peer_attacks.node_table_rewrite),
    ("files through LOGS (/dev, ../, absolute)", peer_attacks.logs_escape),
    ("shared view rewrite (job events, sync)", peer_attacks.shared_view_rewrite),
    (
        "ASK_BID straight to a compute node, in a's name",
        peer_attacks.ask_bid_as_another,
    ),
    ("Engine.Params nested 400 deep", oversize.nested_params),
    ("Count 10^30", oversize.huge_count),
    ("job snapshot over 1 MB", oversize.big_snapshot),
    ("black hole compute node", rogue.black_hole),
]
CLOSED_ATTACKS: list[tuple[str, AttackFn]] = [
    (
        "ASK_BID straight to a compute node, in its own name",
        peer_attacks.ask_bid_as_itself,
    ),
    ("forged Completed results", rogue.forged_result),
]
CONTROLS = {  # setting: its value for a closed network of `ids`
    "allow_peers": lambda ids: ",".join(ids),
    "allowed_requesters": lambda ids: ",".join(ids),
    "node_approval": lambda _ids: "manual",
}
NODES = "/api/v1/orchestrator/nodes"
LIST = f"{NODES}?limit=10000"
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
    "forbid",
    "silent",
    "expire",
)


def closed_controls() -> list[str]:
    """The closing settings this node has (see the module docstring)."""
    return [name for name in CONTROLS if name in NodeConfig.model_fields]


def hostile(sizes: Any, work: Path) -> Row:
    controls = closed_controls()
    row = Row(
        "hostile",
        "a hostile peer running each attack",
        "two nodes `a` and `b` (`serve`, orchestrator + compute, "
        f"{'Docker and noop' if sizes.docker else 'noop'}); for each attack a "
        "fresh libp2p peer (bacalao's own Swarm, new key) joins through a's "
        "swarm address and attacks; refused = the attack's own check, no "
        "process died and a probe job still completes; counted = a refusal "
        "counter in `agent debug` or `node list` grew, or the node list shows "
        "the peer unapproved (a big job that is taken and reaches every node "
        "is handled safely: there is no refusal to count). The last two "
        "attacks run on a network closed "
        "with "
        + (
            ", ".join(f"`{c}`" for c in controls)
            or "nothing: this node "
            "has none of allow_peers, allowed_requesters, node_approval"
        )
        + ".",
    )
    started = time.perf_counter()
    tallies = _run_attacks(sizes, work / "open", OPEN_ATTACKS, False, row)
    tallies += _run_attacks(sizes, work / "closed", CLOSED_ATTACKS, True, row)
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
    cluster = Cluster(work)
    try:
        return cluster, _start(cluster, sizes, work, closed)
    except BaseException:
        cluster.stop()
        raise


def _start(cluster: Cluster, sizes: Any, work: Path, closed: bool) -> Net:
    """Nodes a and b (closed by the operator's controls if `closed`), a job
    finished on b, and a planted secret: the network the attacks meet."""
    engines = "docker,noop" if sizes.docker else "noop"
    a = cluster.add("a", engines=engines)
    b = cluster.add("b", engines=engines)
    if closed:
        ids = [peer_id_of(load_or_create_key(n.repo)) for n in (a, b)]
        env = {f"BACALAO_{c.upper()}": CONTROLS[c](ids) for c in closed_controls()}
        a.env, b.env = env, dict(env)
    cluster.start(a)
    b.peer = a.swarm_addr
    cluster.start(b)
    cluster.wait_formed(a)
    cluster.wait_formed(b)
    if closed:
        approve(a, b)
        approve(b, a)
    finished, why = submit(a.api_url, noop_job(pin=b.name))
    if not finished:
        raise ChaosError(f"a job for the attacks to read was refused: {why}")
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
        finished,
        secret,
    )
    net.acknowledged(net.a, finished)
    return net


def approve(on: ServeNode, node: ServeNode) -> None:
    """As an operator would: `on` may use `node` (Bacalhau's node action;
    a node without node approval answers 404 or 405, and uses it anyway)."""
    path = f"{NODES}/{node.node_id}"
    request(on.api_url, "PUT", path, {"NodeID": node.node_id, "Action": "approve"})


def honest(node: ServeNode) -> Honest:
    return Honest(node.name, node.node_id, node.api_url, node.swarm_addr, node.repo)


def attack(name: str, fn: AttackFn, cluster: Cluster, net: Net) -> Attack:
    """Run one attack with a fresh hostile peer; judge refused and counted."""
    before = counters(net)
    dead_before = len(cluster.check_deaths())
    peer: list[str] = []
    try:
        outcome = trio.run(_with_hostile, fn, net, peer, net.wait + 120)
    except Exception as exc:
        traceback.print_exc()
        leaf = _leaf(exc)
        outcome = Outcome(False, f"the attack broke: {type(leaf).__name__}: {leaf}")
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
    counted = grew(before, counters(net)) + unapproved(net, peer)
    log(f"hostile: {name}: refused {refused}, counted {bool(counted)}: {evidence}")
    if counted:
        evidence += f"; counted: {', '.join(counted[:3])}"
    return Attack(
        name, refused, bool(counted), evidence, count_needed=not outcome.accepted
    )


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def _with_hostile(
    fn: AttackFn, net: Net, peer: list[str], timeout: float
) -> Outcome:
    with trio.fail_after(timeout):
        try:
            async with open_hostile(net.work, net.a.swarm_addr) as h:
                peer.append(h.peer_id)
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
    """Every number in each node's `agent/debug` and node list, by path
    (node list entries keyed by node ID, not position)."""
    out: dict[str, float] = {}
    for node in (net.a, net.b):
        status, body = request(node.api_url, "GET", "/api/v1/agent/debug", timeout=10)
        if status == 200:
            _flatten(body, f"{node.name}.debug", out)
        status, body = request(node.api_url, "GET", LIST, timeout=10)
        for state in body.get("Nodes", []) if status == 200 else []:
            _flatten(state, f"{node.name}.nodes.{state['Info']['NodeID']}", out)
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


def unapproved(net: Net, peer: list[str]) -> list[str]:
    """Nodes whose node list shows the hostile peer as not approved."""
    out = []
    for node in (net.a, net.b):
        status, body = request(node.api_url, "GET", LIST, timeout=10)
        for state in body.get("Nodes", []) if status == 200 else []:
            member = state.get("Membership", "APPROVED")
            if state["Info"]["NodeID"] in peer and member != "APPROVED":
                out.append(f"{node.name}'s node list shows it {member}")
    return out


def grew(before: dict[str, float], after: dict[str, float]) -> list[str]:
    """Refusal counters that went up (see the module docstring)."""
    return [
        f"{path} +{after[path] - before.get(path, 0):g}"
        for path in after
        if any(w in path.lower() for w in COUNTER_WORDS)
        and after[path] > before.get(path, 0)
    ]
