"""Node approval: with manual approval, an orchestrator places work only on
nodes an operator approved; decisions survive a restart."""

from __future__ import annotations

from typing import Any

from .conftest import Devstack, apis

NODES = "/api/v1/orchestrator/nodes"


def pinned_noop_job(node_id: str) -> dict[str, Any]:
    return {
        "Type": "batch",
        "Count": 1,
        "Constraints": [{"Key": "name", "Operator": "=", "Values": [node_id]}],
        "Tasks": [{"Name": "main", "Engine": {"Type": "noop", "Params": {}}}],
    }


async def memberships(api: Any) -> dict[str, str]:
    status, body = await api.call("GET", NODES)
    assert status == 200, body
    return {n["Info"]["NodeID"]: n["Membership"] for n in body["Nodes"]}


async def test_manual_approval_holds_new_nodes_until_approved(
    devstack: Devstack,
) -> None:
    per_node = {i: {"labels": {"name": f"n{i}"}} for i in range(2)}
    async with devstack(2, node_approval="manual", per_node=per_node) as nodes:
        first = apis(nodes)[0]
        other = nodes[1].node_id
        seen = await memberships(first)
        assert seen[nodes[0].node_id] == "APPROVED"  # itself
        assert seen[other] == "PENDING"

        job_id = await first.submit(pinned_noop_job("n1"))
        failed = await first.wait_for(job_id)
        assert failed["Job"]["State"]["StateType"] == "Failed"
        assert "not approved" in failed["Job"]["State"]["Message"]

        status, body = await first.call(
            "PUT", f"{NODES}/{other}", {"Action": "approve", "Message": "ok"}
        )
        assert (status, body["Success"]) == (200, True)
        assert (await memberships(first))[other] == "APPROVED"
        status, body = await first.call(
            "PUT", f"{NODES}/{other}", {"Action": "approve"}
        )
        assert status == 409
        assert "already approved" in body["Message"]

        job_id = await first.submit(pinned_noop_job("n1"))
        done = await first.wait_for(job_id)
        assert done["Job"]["State"]["StateType"] == "Completed"


async def test_rejected_node_gets_no_work_and_unknown_actions_are_refused(
    devstack: Devstack,
) -> None:
    per_node = {i: {"labels": {"name": f"n{i}"}} for i in range(2)}
    async with devstack(2, per_node=per_node) as nodes:
        first, _ = apis(nodes)
        other = nodes[1].node_id
        status, body = await first.call("PUT", f"{NODES}/{other}", {"Action": "bless"})
        assert status == 400
        assert "unsupported action" in body["Message"]
        status, _ = await first.call("PUT", f"{NODES}/{other}", {"Action": "reject"})
        assert status == 200
        assert (await memberships(first))[other] == "REJECTED"
        job_id = await first.submit(pinned_noop_job("n1"))
        failed = await first.wait_for(job_id)
        assert "not approved" in failed["Job"]["State"]["Message"]
