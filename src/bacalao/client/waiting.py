"""Following a job to its end: on the node's event stream, or by polling.

`job_updates` yields each new state of a job as plain JSON, `{"Job": {...},
"Executions": [...]}`, starting with its current one. It subscribes to the
node's event stream (`?job_id=`: the first event is the job's state, so
nothing before it is missed and an ended job ends the wait at once) and
hands each change over the moment the node sends it. A node without the
stream (a 404: an older node, or a Bacalhau one) is polled instead, first
after `first_poll` s, backing off to `max_poll`; so is the rest of a job
whose stream ended early (the node stopping, or the reader falling behind).

`wait_for_job` stops at the job's end; `submit_spec` submits a spec given
as plain data. Standard library only: the CLI's run commands submit, follow
and print from these dicts without importing the models.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import TYPE_CHECKING, Any

from .errors import ClientError, ConnectError, NotFound, WaitTimeout
from .events import READ_TIMEOUT
from .wire import seg

if TYPE_CHECKING:
    from .api import Client

Update = dict[str, Any]
TERMINAL = ("Completed", "Failed", "Stopped")
LONG_RUNNING = ("daemon", "service")
JOBS = "/api/v1/orchestrator/jobs"

# ExecutionStateType's names by number (the JSON carries the number)
EXECUTION_STATES = (
    "Undefined",
    "New",
    "AskForBid",
    "AskForBidAccepted",
    "AskForBidRejected",
    "BidAccepted",
    "Running",
    "Publishing",
    "BidRejected",
    "Completed",
    "Failed",
    "Cancelled",
)


def execution_state(execution: dict[str, Any]) -> str:
    number = execution.get("ComputeState", {}).get("StateType", 0)
    if isinstance(number, str):
        return number
    known = 0 <= number < len(EXECUTION_STATES)
    return EXECUTION_STATES[number] if known else str(number)


def job_state(update: Update) -> str:
    return str(update["Job"].get("State", {}).get("StateType", "Undefined"))


def job_done(update: Update) -> bool:
    """Ended, or (a daemon or service job) running."""
    state = job_state(update)
    long_running = update["Job"].get("Type") in LONG_RUNNING
    return state in TERMINAL or (long_running and state == "Running")


def progress(update: Update) -> tuple[object, ...]:
    """What a watcher sees change: the job's state and its executions'."""
    state = update["Job"].get("State", {})
    executions = tuple(
        (e.get("ID"), execution_state(e)) for e in update.get("Executions", [])
    )
    return (state.get("StateType"), state.get("Message", ""), executions)


def job_updates(
    client: Client,
    job_id: str,
    deadline: float,
    *,
    first_poll: float = 0.1,
    max_poll: float = 0.5,
) -> Iterator[Update]:
    """The job's states as they change (see the module docstring), until
    `deadline` (`time.monotonic()`) passes."""
    try:
        with closing(client.events(job_id, timeout=_read_timeout(deadline))) as events:
            for event in events:
                if event.event == "job":
                    yield event.json()
                if time.monotonic() >= deadline:
                    return
    except NotFound:
        pass  # no event stream here (or no such job: polling says which)
    except ConnectError:
        if time.monotonic() >= deadline:
            return
    yield from _polled(client, job_id, deadline, first_poll, max_poll)


def _read_timeout(deadline: float) -> float:
    return max(0.05, min(READ_TIMEOUT, deadline - time.monotonic()))


def _polled(
    client: Client, job_id: str, deadline: float, delay: float, max_delay: float
) -> Iterator[Update]:
    while True:
        yield get_update(client, job_id)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(delay, remaining))
        delay = min(delay * 1.5, max_delay)


def submit_spec(
    client: Client, spec: dict[str, Any], *, force: bool = False
) -> dict[str, Any]:
    """Submit a job spec (plain data); the answer, `{"JobID": ..., ...}`."""
    raw = client.request("PUT", JOBS, body={"Job": spec, "Force": force})
    try:
        answer = json.loads(raw)
        str(answer["JobID"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ClientError(f"unexpected answer to the submission: {exc}") from None
    return dict(answer)


def get_update(client: Client, job_id: str) -> Update:
    """The job and its executions, as an event carries them."""
    raw = client.request(
        "GET", f"{JOBS}/{seg(job_id)}", query={"include": "executions"}
    )
    try:
        body = json.loads(raw)
        executions = (body.get("Executions") or {}).get("Items") or []
        return {"Job": body["Job"], "Executions": executions}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ClientError(f"unexpected answer about job {job_id}: {exc}") from None


def wait_for_job(
    client: Client,
    job_id: str,
    timeout: float,
    *,
    on_change: Callable[[Update], None] | None = None,
    until: Callable[[Update], bool] | None = None,
    first_poll: float = 0.1,
    max_poll: float = 0.5,
) -> Update:
    """Follow the job until it is done (or `until` says so): the last update.
    `on_change` sees the first update and each that changed what a watcher
    sees; `WaitTimeout` after `timeout` s."""
    deadline = time.monotonic() + timeout
    finished = until or job_done
    seen: tuple[object, ...] | None = None
    last: Update | None = None
    for last in job_updates(
        client, job_id, deadline, first_poll=first_poll, max_poll=max_poll
    ):
        if progress(last) != seen:
            seen = progress(last)
            if on_change is not None:
                on_change(last)
        if finished(last):
            return last
    state = job_state(last) if last is not None else "unknown"
    raise WaitTimeout(
        f"job {job_id} is still {state} after {timeout:g} s", job_id=job_id, state=state
    )


__all__ = [
    "EXECUTION_STATES",
    "Update",
    "execution_state",
    "get_update",
    "job_done",
    "job_state",
    "job_updates",
    "progress",
    "submit_spec",
    "wait_for_job",
]
