"""Identifiers: how job, execution and evaluation IDs look and are shortened."""

from __future__ import annotations

import time
import uuid

JOB_PREFIX = "j-"
EXECUTION_PREFIX = "e-"
SHORT_LENGTH = 10


def new_job_id() -> str:
    return f"{JOB_PREFIX}{uuid.uuid4()}"


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
