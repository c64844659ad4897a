"""Unit tests of the API's pure parts: paging tokens, selectors, query, router."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bacalao.api.errors import InvalidPagingToken, MethodNotAllowed, NotFound
from bacalao.api.paging import Page, PagingToken
from bacalao.api.query import Query
from bacalao.api.router import Router, route, websocket_route
from bacalao.models.job import LabelSelectorRequirement
from bacalao.models.selectors import (
    SelectorError,
    format_requirement,
    matches,
    parse_selector,
)

# -- paging ---------------------------------------------------------------


def test_token_is_base64url_of_bacalhau_layout() -> None:
    token = PagingToken("created_at", True, 10, 20).encode()
    assert token == base64.urlsafe_b64encode(b"created_at:Y:10:20").decode().rstrip("=")
    assert "=" not in token


@given(
    st.text(
        alphabet=st.characters(blacklist_characters=":", blacklist_categories=("Cs",))
    ),
    st.booleans(),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
)
def test_token_round_trips(
    sort_by: str, reverse: bool, limit: int, offset: int
) -> None:
    token = PagingToken(sort_by, reverse, limit, offset)
    assert PagingToken.decode(token.encode()) == token


@pytest.mark.parametrize(
    "bad", ["!!", "YQ", "a:b", base64.b64encode(b"\xff\xfe").decode()]
)
def test_bad_tokens(bad: str) -> None:
    with pytest.raises(InvalidPagingToken, match="invalid paging token"):
        PagingToken.decode(bad)


def test_page_slice() -> None:
    page = Page("", False, 2, 0)
    items, token = page.slice([1, 2, 3])
    assert items == [1, 2]
    assert PagingToken.decode(token) == PagingToken("", False, 2, 2)
    assert Page("", False, 0, 1).slice([1, 2, 3]) == ([2, 3], "")


# -- selectors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("env=prod", {"env": "prod"}, True),
        ("env==prod", {"env": "dev"}, False),
        ("env!=prod", {}, True),
        ("env!=prod", {"env": "prod"}, False),
        ("zone in (a, b)", {"zone": "b"}, True),
        ("zone notin (a,b)", {"zone": "c"}, True),
        ("zone notin (a,b)", {}, True),
        ("gpu", {"gpu": ""}, True),
        ("!gpu", {"gpu": "1"}, False),
        ("mem>4", {"mem": "8"}, True),
        ("mem<4", {"mem": "8"}, False),
        ("mem>4", {"mem": "lots"}, False),
        ("mem>4", {}, False),
        ("a=1,b=2", {"a": "1", "b": "2"}, True),
        ("a=1,b=2", {"a": "1"}, False),
        ("example.com/role=web-1", {"example.com/role": "web-1"}, True),
        ("", {"anything": "x"}, True),
    ],
)
def test_selector_matching(text: str, labels: dict[str, str], expected: bool) -> None:
    assert matches(parse_selector(text), labels) is expected


@pytest.mark.parametrize(
    "bad",
    [
        "a in (",
        "a in b",
        "=b",
        "a b",
        "a,,b",
        "!",
        "n>x",
        "a in (b c)",
        "a=b=c",
        "(",
        ")",
    ],
)
def test_selector_errors(bad: str) -> None:
    with pytest.raises(SelectorError):
        parse_selector(bad)


def test_constraints_match_like_parsed_text() -> None:
    constraints = [
        LabelSelectorRequirement(Key="zone", Operator="in", Values=["a", "b"]),
        LabelSelectorRequirement(Key="gpu", Operator="exists"),
    ]
    assert matches(constraints, {"zone": "a", "gpu": "1"})
    assert not matches(constraints, {"zone": "a"})
    assert [format_requirement(c) for c in constraints] == ["zone in (a,b)", "gpu"]


_word = st.from_regex(r"[a-z][a-z0-9._/-]{0,8}", fullmatch=True)


@given(
    st.lists(
        st.tuples(_word, st.sampled_from(["=", "!=", "in", "notin", "", "!"]), _word),
        max_size=4,
    )
)
def test_format_then_parse_round_trips(parts: list[tuple[str, str, str]]) -> None:
    reqs = []
    for key, op, value in parts:
        operator = {"": "exists"}.get(op, op)
        values = [] if operator in ("exists", "!") else [value]
        reqs.append(LabelSelectorRequirement(Key=key, Operator=operator, Values=values))
    text = ",".join(format_requirement(r) for r in reqs)
    assert parse_selector(text) == reqs


@given(st.text(max_size=40))
def test_parse_selector_never_crashes(text: str) -> None:
    with contextlib.suppress(SelectorError):
        parse_selector(text)


# -- query ----------------------------------------------------------------


def test_query_values() -> None:
    query = Query(b"limit=5&reverse=T&labels=a%3D1&labels=b&empty=&x=%E2%9C%93")
    assert query.integer("limit") == 5
    assert query.boolean("reverse") is True
    assert query.all("labels") == ["a=1", "b"]
    assert query.boolean("empty", True) is True
    assert query.text("x") == "\u2713"
    assert query.integer("missing", 7) == 7


def test_query_too_many_fields() -> None:
    with pytest.raises(Exception, match="malformed query string"):
        Query("&".join(f"k{i}=v" for i in range(2000)))


# -- router ---------------------------------------------------------------


async def _nothing(request: object) -> object:
    return None


def test_router_prefers_static_segments() -> None:
    static = route("GET", "/jobs/diff", _nothing)
    param = route("GET", "/jobs/{id}", _nothing)
    router = Router([param, static])
    handler, params = router.match("GET", "/jobs/diff")
    assert handler is static.handler
    assert params == {}
    _, params = router.match("GET", "/jobs/j-1")
    assert params == {"id": "j-1"}


def test_router_errors() -> None:
    router = Router(
        [
            route(("PUT", "POST"), "/jobs", _nothing),
            websocket_route("/jobs/{id}/logs", _nothing),
        ]
    )
    with pytest.raises(MethodNotAllowed) as info:
        router.match("GET", "/jobs")
    assert info.value.allowed == ["POST", "PUT"]
    with pytest.raises(NotFound):
        router.match("GET", "/jobs/j-1/logs")
    assert router.match("WEBSOCKET", "/jobs/j-1/logs")[1] == {"id": "j-1"}
