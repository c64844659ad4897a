"""Docker image references: what a registry could pull passes, the rest is
refused with the reference named."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bacalao.models.engines import DockerEngineSpec
from bacalao.models.image_ref import MAX_NAME, check_image_reference

component = st.from_regex(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*", fullmatch=True)
host = st.from_regex(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9]+)*", fullmatch=True)
tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)


@st.composite
def references(draw: st.DrawFn) -> str:
    path = "/".join(draw(st.lists(component, min_size=1, max_size=3)))
    if draw(st.booleans()):
        ports = st.integers(1, 65535).map(lambda p: f":{p}")
        port = draw(st.one_of(st.just(""), ports))
        path = f"{draw(host)}{port}/{path}"
    assume(len(path) <= MAX_NAME)
    if draw(st.booleans()):
        path += f":{draw(tag)}"
    if draw(st.booleans()):
        path += "@sha256:" + draw(st.from_regex(r"[0-9a-f]{64}", fullmatch=True))
    return path


@given(references())
def test_well_formed_references_pass(reference: str) -> None:
    assert check_image_reference(reference) == reference


def test_a_name_longer_than_a_registry_takes_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than 255"):
        check_image_reference("a" * 256 + ":v1")


@given(references(), st.sampled_from([" ", "!", "A", "$", "\u00e9"]))
def test_a_character_no_reference_has_is_refused(reference: str, bad: str) -> None:
    name = reference.split(":")[0].split("@")[0]
    broken = name + bad
    with pytest.raises(ValueError, match="is not a valid image reference"):
        check_image_reference(broken)


@pytest.mark.parametrize(
    "text",
    ["Bad Image!!", "UPPER:latest", "busybox:", "busybox@sha256:abc", "-lead", "a//b"],
)
def test_malformed_references_name_the_reference(text: str) -> None:
    with pytest.raises(ValueError, match="is not a valid image reference"):
        DockerEngineSpec(Image=text)


def test_the_common_forms_pass() -> None:
    for text in (
        "busybox",
        "busybox:1.37.0",
        "library/ubuntu:24.04",
        "ghcr.io/org/tool:v1.2",
        "localhost:5000/team/app@sha256:" + "a" * 64,
        "[::1]:5000/x",
    ):
        assert DockerEngineSpec(Image=text).Image == text
