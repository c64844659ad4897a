"""The node's libp2p identity: an ed25519 key kept in the repo directory.

The key is created on first start and reused afterwards, so a node's peer ID
(which is also its node ID) stays the same across restarts.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.keys import KeyPair
from libp2p.peer.id import ID

from .exceptions import InvalidIdentityKey

KEY_FILE = "identity.key"
SEED_BYTES = 32


def load_or_create_key(repo: Path) -> KeyPair:
    """Return the key pair stored in `repo`, creating it on first use.

    Raises `InvalidIdentityKey` if the file holds no key, `OSError` if it
    cannot be read or written.
    """
    path = repo / KEY_FILE
    if path.exists():
        seed = read_seed(path)
    else:
        repo.mkdir(parents=True, exist_ok=True)
        seed = secrets.token_bytes(SEED_BYTES)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(seed.hex() + "\n")
        tmp.replace(path)
    return create_new_key_pair(seed)


def read_seed(path: Path) -> bytes:
    """The seed in an identity key file; `InvalidIdentityKey` if it is not
    a key, `OSError` if it cannot be read."""
    return parse_seed(path.read_bytes(), str(path))


def parse_seed(data: bytes, source: str | None = None) -> bytes:
    """The seed in identity key file contents (hex, one line)."""
    try:
        seed = bytes.fromhex(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise InvalidIdentityKey(source, "not a hex-encoded key") from None
    if len(seed) != SEED_BYTES:
        raise InvalidIdentityKey(
            source, f"a {len(seed)}-byte hex key where a {SEED_BYTES}-byte one belongs"
        )
    return seed


def peer_id_of(key_pair: KeyPair) -> str:
    return str(ID.from_pubkey(key_pair.public_key).to_base58())


def sign(key_pair: KeyPair, data: bytes) -> bytes:
    """`data` signed with this node's identity key."""
    return bytes(key_pair.private_key.sign(data))


def verify(peer_id: str, data: bytes, signature: bytes) -> bool:
    """Whether `signature` over `data` was made by `peer_id`'s key (which
    an ed25519 peer ID carries inline); False for anything malformed."""
    try:
        key = ID.from_base58(peer_id).extract_public_key()
        return key is not None and bool(key.verify(data, signature))
    except Exception:
        return False
