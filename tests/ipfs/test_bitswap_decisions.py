"""Bitswap's decisions without a network: the client planner, the server ledger."""

from __future__ import annotations

import pytest

from bacalao.ipfs.bitswap.ledger import Answer, Ledger, Want, decide
from bacalao.ipfs.bitswap.wants import Planner
from bacalao.ipfs.bitswap.wire import Entry, WantType
from bacalao.ipfs.cid import CID

CIDS = [CID.of(bytes([i])) for i in range(8)]
STALL = 1.0


def planner(cids: list[CID] = CIDS, **kwargs: int) -> Planner:
    return Planner(cids, now=0.0, stall=STALL, **kwargs)


def kinds(entries: list[Entry]) -> set[tuple[CID, str]]:
    def kind(e: Entry) -> str:
        return "cancel" if e.cancel else e.want_type.name.lower()

    return {(e.cid, kind(e)) for e in entries}


def blocks_asked(plan: dict[str, list[Entry]]) -> dict[str, set[CID]]:
    return {
        peer: {e.cid for e in entries if not e.cancel and e.want_type == WantType.BLOCK}
        for peer, entries in plan.items()
    }


def test_every_block_is_first_asked_with_a_want_have_of_every_peer() -> None:
    p = planner()
    p.add_peer("a", has_haves=True, now=0)
    p.add_peer("b", has_haves=True, now=0)
    plan = p.plan(0.0)
    for peer in "ab":
        assert kinds(plan[peer]) == {(c, "have") for c in CIDS}
        assert all(e.send_dont_have for e in plan[peer])


def test_blocks_are_spread_over_the_peers_that_have_them() -> None:
    p = planner()
    for peer in "ab":
        p.add_peer(peer, has_haves=True, now=0)
    p.plan(0.0)
    for cid in CIDS:
        p.on_presence("a", cid, have=True)
        p.on_presence("b", cid, have=True)
    asked = blocks_asked(p.plan(0.1))
    assert len(asked["a"]) == len(asked["b"]) == len(CIDS) // 2
    assert asked["a"] | asked["b"] == set(CIDS)


def test_a_peer_gets_at_most_per_peer_blocks_at_once() -> None:
    p = planner(per_peer=3)
    p.add_peer("a", has_haves=True, now=0)
    p.plan(0.0)
    for cid in CIDS:
        p.on_presence("a", cid, have=True)
    assert len(blocks_asked(p.plan(0.1))["a"]) == 3
    p.on_block("a", CIDS[0], 0.2)
    assert len(blocks_asked(p.plan(0.2))["a"]) == 1  # one slot freed


def test_dont_have_moves_a_block_to_another_peer() -> None:
    p = planner([CIDS[0]])
    for peer in "ab":
        p.add_peer(peer, has_haves=True, now=0)
    p.plan(0.0)
    p.on_presence("a", CIDS[0], have=True)
    assert blocks_asked(p.plan(0.1)) == {"a": {CIDS[0]}}
    p.on_presence("b", CIDS[0], have=True)
    p.on_presence("a", CIDS[0], have=False)
    assert blocks_asked(p.plan(0.2)) == {"b": {CIDS[0]}}


def test_a_stalled_peer_loses_its_blocks_to_another_and_is_cancelled() -> None:
    p = planner([CIDS[0]])
    p.add_peer("slow", has_haves=True, now=0)
    p.plan(0.0)
    p.on_presence("slow", CIDS[0], have=True)
    p.plan(0.1)
    p.add_peer("fast", has_haves=True, now=0.2)
    p.plan(0.2)
    p.on_presence("fast", CIDS[0], have=True)
    assert p.plan(0.3) == {}  # not stalled yet: nothing moves
    assert p.next_deadline() <= 0.1 + STALL
    plan = p.plan(0.1 + STALL)
    assert kinds(plan["slow"]) == {(CIDS[0], "cancel")}
    assert blocks_asked(plan)["fast"] == {CIDS[0]}


def test_a_received_block_is_cancelled_everywhere_else() -> None:
    p = planner([CIDS[0]])
    for peer in "abc":
        p.add_peer(peer, has_haves=True, now=0)
    p.plan(0.0)
    p.on_presence("a", CIDS[0], have=True)
    p.plan(0.1)
    assert p.on_block("a", CIDS[0], 0.2)
    plan = p.plan(0.2)
    assert set(plan) == {"b", "c"}
    assert all(kinds(v) == {(CIDS[0], "cancel")} for v in plan.values())
    assert p.done
    assert not p.on_block("b", CIDS[0], 0.3)  # a duplicate is not wanted


def test_a_banned_peer_loses_its_blocks_and_never_comes_back() -> None:
    p = planner([CIDS[0]])
    for peer in ("liar", "honest"):
        p.add_peer(peer, has_haves=True, now=0)
    p.plan(0.0)
    p.on_presence("liar", CIDS[0], have=True)
    p.on_presence("honest", CIDS[0], have=True)
    assert blocks_asked(p.plan(0.1)) == {"liar": {CIDS[0]}}
    p.drop_peer("liar", ban=True)
    assert blocks_asked(p.plan(0.2)) == {"honest": {CIDS[0]}}
    p.add_peer("liar", has_haves=True, now=0.3)
    assert "liar" not in p.plan(0.3)


def test_an_old_protocol_peer_is_asked_for_blocks_directly() -> None:
    p = planner(CIDS[:2])
    p.add_peer("old", has_haves=False, now=0)
    assert blocks_asked(p.plan(0.0)) == {"old": set(CIDS[:2])}


def test_blocks_nobody_has_are_asked_again_after_a_while() -> None:
    p = planner([CIDS[0]])
    p.add_peer("a", has_haves=True, now=0)
    p.plan(0.0)
    p.on_presence("a", CIDS[0], have=False)
    assert p.plan(0.5) == {}
    assert kinds(p.plan(STALL)["a"]) == {(CIDS[0], "have")}
    assert p.missing() == [CIDS[0]]


def test_only_a_window_of_blocks_is_worked_on_at_once() -> None:
    p = planner(window=3)
    p.add_peer("a", has_haves=True, now=0)
    assert len(p.plan(0.0)["a"]) == 3
    p.on_block("a", CIDS[0], 0.1)
    assert kinds(p.plan(0.1)["a"]) == {(CIDS[3], "have")}


# -- the server's ledger -------------------------------------------------------


def want(cid: CID, kind: WantType = WantType.BLOCK, dont: bool = False) -> Entry:
    return Entry(cid, 1, want_type=kind, send_dont_have=dont)


@pytest.mark.parametrize(
    ("kind", "dont", "have", "new_peer", "answer"),
    [
        (WantType.BLOCK, False, True, True, Answer.BLOCK),
        (WantType.HAVE, False, True, True, Answer.HAVE),
        (WantType.HAVE, False, True, False, Answer.BLOCK),
        (WantType.BLOCK, True, False, True, Answer.DONT_HAVE),
        (WantType.HAVE, True, False, True, Answer.DONT_HAVE),
        (WantType.BLOCK, True, False, False, Answer.NOTHING),
        (WantType.BLOCK, False, False, True, Answer.NOTHING),
    ],
)
def test_the_server_answers_as_the_spec_says(
    kind: WantType, dont: bool, have: bool, new_peer: bool, answer: Answer
) -> None:
    w = Want(CIDS[0], 1, kind, dont)
    assert decide(w, have=have, peer_supports_have=new_peer) == answer


def test_wants_are_answered_by_priority_and_cancels_remove_them() -> None:
    ledger = Ledger()
    ledger.receive(
        "p", [Entry(CIDS[0], 1), Entry(CIDS[1], 9), Entry(CIDS[2], 5)], full=False
    )
    ledger.receive("p", [Entry(CIDS[2], cancel=True)], full=False)
    order = []
    while (w := ledger.next_want("p")) is not None:
        order.append(w.cid)
    assert order == [CIDS[1], CIDS[0]]


def test_a_want_answered_dont_have_is_kept_for_when_the_block_arrives() -> None:
    ledger = Ledger()
    ledger.receive("p", [want(CIDS[0], dont=True)], full=False)
    w = ledger.next_want("p")
    assert w is not None
    ledger.answered("p", w, Answer.DONT_HAVE)
    assert ledger.next_want("p") is None
    assert ledger.peers_wanting(CIDS[0]) == ["p"]
    assert ledger.next_want("p") == w
    ledger.answered("p", w, Answer.BLOCK)
    assert ledger.peers_wanting(CIDS[0]) == []


def test_a_peers_wantlist_is_bounded() -> None:
    ledger = Ledger(max_wants=3)
    ignored = ledger.receive("p", [want(c) for c in CIDS], full=False)
    assert (ignored, ledger.wantlist_size("p")) == (len(CIDS) - 3, 3)


def test_a_full_wantlist_replaces_the_old_one() -> None:
    ledger = Ledger()
    ledger.receive("p", [want(CIDS[0])], full=False)
    ledger.receive("p", [want(CIDS[1])], full=True)
    assert ledger.wants("p", CIDS[0]) is None
    assert ledger.wants("p", CIDS[1]) is not None


def test_a_want_block_is_not_downgraded_by_a_want_have() -> None:
    ledger = Ledger()
    ledger.receive("p", [want(CIDS[0])], full=False)
    ledger.receive("p", [want(CIDS[0], WantType.HAVE)], full=False)
    w = ledger.wants("p", CIDS[0])
    assert w is not None
    assert w.want_type == WantType.BLOCK


def test_cancel_and_want_spam_does_not_grow_the_queue_without_bound() -> None:
    ledger = Ledger(max_wants=4)
    for _ in range(1000):
        ledger.receive("p", [want(CIDS[0])], full=False)
        ledger.receive("p", [Entry(CIDS[0], cancel=True)], full=False)
        ledger.receive("p", [want(CIDS[1])], full=False)
    assert len(ledger._peers["p"].queue) <= 4 * 4 + 1
