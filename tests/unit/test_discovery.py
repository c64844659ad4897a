"""The address book of peers, and a node identity that survives restarts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from bacalao.p2p import discovery
from bacalao.p2p.discovery import (
    AddressBook,
    PeerExchangeRequest,
    PeerExchangeResponse,
    PeerRecord,
)
from bacalao.p2p.identity import KEY_FILE, load_or_create_key, peer_id_of
from bacalao.p2p.rpc import Rpc


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        self.now += 1
        return self.now


@pytest.fixture(autouse=True)
def ticking_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every add happens strictly later than the one before."""
    monkeypatch.setattr(
        discovery, "time", SimpleNamespace(monotonic=FakeClock().monotonic)
    )


def record(peer: str, *addrs: str) -> PeerRecord:
    return PeerRecord(ID=peer, Addrs=list(addrs))


def test_add_reports_new_peers_only() -> None:
    book = AddressBook()
    assert book.add(record("a", "/ip4/1.2.3.4/tcp/1"))
    assert not book.add(record("a", "/ip4/1.2.3.4/tcp/2"))
    assert book.records["a"].Addrs == ["/ip4/1.2.3.4/tcp/2"]  # latest addresses kept


def test_peers_without_addresses_are_not_recorded() -> None:
    book = AddressBook()
    assert not book.add(record("a"))
    assert "a" not in book.records
    book.add(record("b", "/ip4/1.2.3.4/tcp/1"))
    assert not book.add(record("b"))
    assert book.records["b"].Addrs == ["/ip4/1.2.3.4/tcp/1"]  # not wiped


def test_sample_gives_most_recently_heard_first() -> None:
    book = AddressBook()
    for peer in ("a", "b", "c"):
        book.add(record(peer, f"/ip4/10.0.0.1/tcp/{ord(peer)}"))
    book.add(record("a", "/ip4/10.0.0.1/tcp/1"))  # heard again
    assert [r.ID for r in book.sample()] == ["a", "c", "b"]
    assert [r.ID for r in book.sample(limit=2)] == ["a", "c"]


def test_exchange_answers_are_bounded() -> None:
    peers = [record(f"p{i}", "/ip4/1.1.1.1/tcp/1").model_dump() for i in range(257)]
    with pytest.raises(ValueError, match="256"):
        PeerExchangeResponse.model_validate({"Peers": peers})


def test_identity_is_created_once_and_reused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = peer_id_of(load_or_create_key(repo))
    assert (repo / KEY_FILE).exists()
    assert (repo / KEY_FILE).stat().st_mode & 0o077 == 0  # private to its owner
    assert peer_id_of(load_or_create_key(repo)) == first
    assert first.startswith("12D3KooW")


def test_different_repos_have_different_identities(tmp_path: Path) -> None:
    a = peer_id_of(load_or_create_key(tmp_path / "a"))
    b = peer_id_of(load_or_create_key(tmp_path / "b"))
    assert a != b


@pytest.mark.parametrize("content", ["abcd", "zz" * 32, ""])
def test_corrupt_identity_is_refused_not_replaced(tmp_path: Path, content: str) -> None:
    (tmp_path / KEY_FILE).write_text(content)
    with pytest.raises(ValueError, match="hex"):
        load_or_create_key(tmp_path)
    assert (tmp_path / KEY_FILE).read_text() == content


class FakeHost:
    """Just enough of a libp2p host for RPC calls a node makes to itself."""

    def __init__(self, peer_id: str) -> None:
        self._id = SimpleNamespace(to_base58=lambda: peer_id)

    def get_id(self) -> SimpleNamespace:
        return self._id

    def set_stream_handler(self, _protocol: object, _handler: object) -> None:
        pass

    def get_connected_peers(self) -> list[object]:
        return []


def discovery_of(peer: str) -> tuple[discovery.Discovery, Rpc]:
    host = FakeHost(peer)
    rpc = Rpc(host)
    me = record(peer, "/ip4/10.0.0.1/tcp/4001")
    return discovery.Discovery(host, rpc, me, []), rpc


async def test_exchange_answers_with_self_and_known_peers() -> None:
    disc, rpc = discovery_of("me")
    disc.learn(record("a", "/ip4/10.0.0.2/tcp/1"))
    disc.learn(record("me", "/ip4/6.6.6.6/tcp/1"))  # never learns itself
    request = PeerExchangeRequest(Self=record("me"))
    answer = await rpc.call("me", discovery.PEER_EXCHANGE, request)
    assert [(p.ID, p.Addrs) for p in answer.Peers] == [
        ("me", ["/ip4/10.0.0.1/tcp/4001"]),
        ("a", ["/ip4/10.0.0.2/tcp/1"]),
    ]


async def test_exchange_still_answers_when_many_peers_are_known() -> None:
    """A node that knows hundreds of peers keeps answering peer exchange."""
    disc, rpc = discovery_of("me")
    for i in range(300):
        disc.learn(record(f"p{i}", "/ip4/10.0.0.2/tcp/1"))
    request = PeerExchangeRequest(Self=record("me"))
    answer = await rpc.call("me", discovery.PEER_EXCHANGE, request)
    ids = [p.ID for p in answer.Peers]
    assert "me" in ids
    assert len(ids) == discovery.MAX_RECORDS


async def test_exchange_learns_only_the_caller_itself() -> None:
    """A caller cannot plant addresses for other peers in the address book."""
    disc, _ = discovery_of("me")
    request = PeerExchangeRequest(Self=record("victim", "/ip4/6.6.6.6/tcp/1"))
    await disc._on_exchange("caller", request)
    assert "victim" not in disc.book.records
    await disc._on_exchange(
        "caller", PeerExchangeRequest(Self=record("caller", "/ip4/10.0.0.3/tcp/1"))
    )
    assert disc.book.records["caller"].Addrs == ["/ip4/10.0.0.3/tcp/1"]
