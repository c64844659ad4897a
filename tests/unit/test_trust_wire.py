"""The messages of the trust-and-faults protocol, as they come off the wire.

Answers to execution updates, lease renewals and their answers, big-job
announcements and pulls by job ID are parsed from bytes any peer can send:
they parse or fail with a validation error, survive a round trip, and stay
within their bounds.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bacalao.models.wire import (
    MAX_BATCH,
    ExecutionsAlive,
    JobEvents,
    LeaseAnswer,
    SyncRequest,
    UpdatesAnswer,
)

MESSAGES: list[type[BaseModel]] = [
    UpdatesAnswer,
    ExecutionsAlive,
    LeaseAnswer,
    JobEvents,
    SyncRequest,
]
ids = st.text(max_size=40)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("model", MESSAGES, ids=lambda m: m.__name__)
@given(raw=st.binary(max_size=200))
def test_any_bytes_parse_or_fail_with_a_validation_error(
    model: type[BaseModel], raw: bytes
) -> None:
    with contextlib.suppress(ValidationError):
        model.model_validate_json(raw)


@pytest.mark.parametrize("model", MESSAGES, ids=lambda m: m.__name__)
@given(
    body=st.dictionaries(
        st.sampled_from(
            ["Refused", "ExecutionIDs", "Ended", "RequesterID", "Changed", "JobIDs"]
        ),
        json_values,
    )
)
def test_any_json_parses_or_fails_with_a_validation_error(
    model: type[BaseModel], body: dict[str, Any]
) -> None:
    with contextlib.suppress(ValidationError):
        model.model_validate(body)


@given(
    st.dictionaries(ids, st.text(max_size=80), max_size=20),
    st.lists(ids, max_size=50),
    st.lists(ids, max_size=50),
)
def test_lease_and_update_answers_survive_the_wire(
    refused: dict[str, str], alive: list[str], ended: list[str]
) -> None:
    for message in (
        UpdatesAnswer(Refused=refused),
        ExecutionsAlive(ExecutionIDs=alive),
        LeaseAnswer(Ended=ended),
        JobEvents(RequesterID="n-a", Changed=alive[:MAX_BATCH]),
        SyncRequest(JobIDs=ended[:MAX_BATCH]),
    ):
        again = type(message).model_validate_json(message.model_dump_json())
        assert again == message


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (ExecutionsAlive, {"ExecutionIDs": ["e"] * (ExecutionsAlive.LIMIT + 1)}),
        (JobEvents, {"RequesterID": "n-a", "Changed": ["j"] * (MAX_BATCH + 1)}),
        (SyncRequest, {"JobIDs": ["j"] * (MAX_BATCH + 1)}),
    ],
    ids=["lease renewal", "big-job announcement", "pull by job ID"],
)
def test_lists_a_peer_sends_are_bounded(
    model: type[BaseModel], body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(body)
