"""Identifiers: how job, execution and evaluation IDs look and are shortened."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid

JOB_PREFIX = "j-"
EXECUTION_PREFIX = "e-"
SHORT_LENGTH = 10


_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
EXECUTION_ID = re.compile(f"{EXECUTION_PREFIX}{_UUID}")


def is_execution_id(text: str) -> bool:
    """True for an ID of the form requesters give executions (`e-<uuid>`):
    the only kind a compute node turns into a path on its disk."""
    return EXECUTION_ID.fullmatch(text) is not None


def new_job_id() -> str:
    return f"{JOB_PREFIX}{uuid.uuid4()}"


def bound_job_id(requester_id: str, nonce: str) -> str:
    """The job ID that `requester_id` may own with `nonce`.

    Job IDs are self-certifying: a requester draws a random nonce and the ID
    is a hash of its peer ID and the nonce (shaped as a version-4 UUID, as
    Bacalhau's are). Anyone can check that a snapshot's requester owns the
    job it speaks for; nobody else can find a nonce that gives them the ID
    of a job they did not create.
    """
    digest = hashlib.sha256(f"bacalao-job\0{requester_id}\0{nonce}".encode()).digest()
    return f"{JOB_PREFIX}{uuid.UUID(bytes=digest[:16], version=4)}"


def new_bound_job_id(requester_id: str) -> tuple[str, str]:
    """A fresh (job ID, nonce) owned by `requester_id`."""
    nonce = secrets.token_hex(16)
    return bound_job_id(requester_id, nonce), nonce


def new_execution_id() -> str:
    return f"{EXECUTION_PREFIX}{uuid.uuid4()}"


def new_evaluation_id() -> str:
    return str(uuid.uuid4())


def short_id(full: str) -> str:
    """The prefix of an ID that people read and type, e.g. `j-5f0e3b2a`."""
    return full[:SHORT_LENGTH]


def short_node_id(node_id: str) -> str:
    return node_id[:8] if len(node_id) <= 8 else node_id[-8:]


def now_ns() -> int:
    return time.time_ns()
