"""Hypothesis strategies: JSON values and valid Bacalhau job specs."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bacalao.models.job import JOB_TYPES, NETWORK_TYPES, SELECTOR_OPERATORS
from bacalao.models.states import JobStateType

text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
keys = st.text(max_size=8)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=12,
)
str_maps = st.dictionaries(keys, text, max_size=3)
paths = st.lists(
    st.text("abcxyz_-", min_size=1, max_size=6), min_size=1, max_size=3
).map(lambda parts: "/" + "/".join(parts))


@st.composite
def spec_configs(draw: st.DrawFn, types: st.SearchStrategy[str]) -> dict[str, Any]:
    return {
        "Type": draw(types),
        "Params": draw(st.dictionaries(keys, json_values, max_size=4)),
    }


@st.composite
def tasks(draw: st.DrawFn) -> dict[str, Any]:
    targets = draw(st.lists(paths, unique=True, max_size=3))
    inputs = [
        {
            "Source": draw(spec_configs(st.sampled_from(["inline", "urlDownload"]))),
            "Alias": f"in{i}" if draw(st.booleans()) else "",
            "Target": target,
        }
        for i, target in enumerate(targets)
    ]
    result_names = draw(st.lists(st.text("abc", min_size=1, max_size=4), unique=True))
    return {
        "Name": draw(text),
        "Engine": draw(spec_configs(st.sampled_from(["docker", "wasm", "noop"]))),
        "Publisher": draw(spec_configs(st.sampled_from(["", "local", "noop"]))),
        "Env": draw(str_maps),
        "Meta": draw(str_maps),
        "InputSources": inputs,
        "ResultPaths": [{"Name": n, "Path": f"/outputs/{n}"} for n in result_names],
        "Resources": {
            "CPU": draw(st.sampled_from(["", "500m", "1", "0.25"])),
            "Memory": draw(st.sampled_from(["", "512Mb", "1GiB", "1.5Gb"])),
            "Disk": draw(st.sampled_from(["", "10Gb"])),
            "GPU": draw(st.sampled_from(["", "0", "2"])),
        },
        "Network": {
            "Type": draw(st.sampled_from(NETWORK_TYPES)),
            "Domains": draw(st.lists(text, max_size=2)),
        },
        "Timeouts": {
            "ExecutionTimeout": draw(st.integers(0, 10**6)),
            "QueueTimeout": draw(st.integers(0, 10**6)),
            "TotalTimeout": draw(st.integers(0, 10**6)),
        },
    }


@st.composite
def jobs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid job spec as a JSON-able dict."""
    job_type = draw(st.sampled_from(JOB_TYPES))
    max_count = 1 if job_type in ("daemon", "ops") else 10
    constraints = [
        {
            "Key": draw(st.text(min_size=1, max_size=8)),
            "Operator": draw(st.sampled_from(SELECTOR_OPERATORS)),
            "Values": draw(st.lists(text, max_size=3)),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    return {
        "ID": draw(text),
        "Name": draw(text),
        "Namespace": draw(text),
        "Type": job_type,
        "Priority": draw(st.integers(-100, 100)),
        "Count": draw(st.integers(0, max_count)),
        "Constraints": constraints,
        "Meta": draw(str_maps),
        "Labels": draw(str_maps),
        "Tasks": [draw(tasks())],
        "State": {
            "StateType": draw(st.sampled_from([s.name for s in JobStateType])),
            "Message": draw(text),
            "Details": draw(str_maps),
        },
        "Version": draw(st.integers(0, 2**32)),
        "Revision": draw(st.integers(0, 2**32)),
        "CreateTime": draw(st.integers(0, 2**62)),
        "ModifyTime": draw(st.integers(0, 2**62)),
    }
