"""Job versions as decisions: what counts as a change, and the next version."""

from __future__ import annotations

from typing import Any

import pytest

from bacalao.models.job import META_JOB_NONCE, Job
from bacalao.models.states import JobStateType, State
from bacalao.orchestrator.exceptions import InvalidJob, InvalidJobState, NothingChanged
from bacalao.orchestrator.versions import (
    check_rerunnable,
    check_update,
    next_version,
    spec_diff,
)

from .support import make_job


def stored(**fields: Any) -> Job:
    task = {"Resources": {"CPU": "500m", "Memory": "1Gb"}}
    task.update(fields.pop("task", {}))
    spec: dict[str, Any] = {
        "ID": "j-1",
        "Name": "nightly",
        "Version": 2,
        "Revision": 9,
        "CreateTime": 100,
        "ModifyTime": 200,
        "State": {"StateType": "Completed"},
        "Meta": {META_JOB_NONCE: "nonce", "team": "a"},
        "task": task,
    }
    return make_job("noop", {"Stdout": "hi"}, **{**spec, **fields})


def submitted(**fields: Any) -> Job:
    """The same spec as freshly prepared: a new ID, nonce, state and times."""
    job = stored(**fields)
    return job.model_copy(
        update={
            "ID": "j-new",
            "Version": 1,
            "Revision": 1,
            "CreateTime": 300,
            "ModifyTime": 300,
            "State": State[JobStateType](StateType=JobStateType.Pending),
            "Meta": {
                META_JOB_NONCE: "other",
                "bacalhau.org/requester.id": "n",
                "team": "a",
            },
        }
    )


def test_the_same_spec_is_no_change_whatever_its_id_state_and_times() -> None:
    assert spec_diff(stored(), submitted()) == ""


def test_resource_amounts_compare_without_case() -> None:
    same = submitted(task={"Resources": {"CPU": "500m", "Memory": "1GB"}})
    assert spec_diff(stored(), same) == ""


def test_a_changed_field_shows_in_the_diff() -> None:
    changed = submitted(
        task={"Env": {"MODE": "fast"}, "Resources": {"CPU": "1", "Memory": "1Gb"}}
    )
    diff = spec_diff(stored(), changed)
    assert diff.startswith("--- version 2\n+++ submitted\n")
    added = [line for line in diff.splitlines() if line.startswith("+ ")]
    removed = [line for line in diff.splitlines() if line.startswith("- ")]
    assert any('"MODE": "fast"' in line for line in added)
    assert any('"CPU": "500m"' in line for line in removed)
    assert not any("Memory" in line for line in added + removed)


def test_an_unchanged_spec_is_refused_unless_forced() -> None:
    with pytest.raises(NothingChanged) as refused:
        check_update(stored(), submitted(), force=False)
    assert "no changes detected" in refused.value.message
    assert "--force" in refused.value.hint
    check_update(stored(), submitted(), force=True)


def test_a_new_version_cannot_change_the_job_type() -> None:
    with pytest.raises(InvalidJob) as refused:
        check_update(stored(), submitted(Type="service"), force=True)
    assert refused.value.field == "Job.Type"


def test_the_next_version_keeps_id_name_and_binding_and_starts_pending() -> None:
    new = next_version(stored(), submitted(Count=3), now_ns=500)
    assert (new.ID, new.Name, new.Meta[META_JOB_NONCE]) == ("j-1", "nightly", "nonce")
    assert (new.Version, new.Revision, new.Count) == (3, 10, 3)
    assert new.State.StateType == JobStateType.Pending
    assert new.CreateTime == new.ModifyTime == 500


@pytest.mark.parametrize("state", ["Pending", "Queued"])
def test_a_job_waiting_to_be_placed_cannot_be_rerun(state: str) -> None:
    with pytest.raises(InvalidJobState, match=f"cannot rerun job in state {state}"):
        check_rerunnable(stored(State={"StateType": state}))


@pytest.mark.parametrize("state", ["Running", "Completed", "Failed", "Stopped"])
def test_a_running_or_ended_job_can_be_rerun(state: str) -> None:
    check_rerunnable(stored(State={"StateType": state}))
