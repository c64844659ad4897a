"""Inline inputs: RFC 2397 data URLs in, the same bytes out."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bacalao.models.data_url import decode_data_url, encode_data_url

media_types = st.sampled_from(
    [
        "application/octet-stream",
        "text/plain",
        "application/wasm",
        "text/plain;charset=utf-8",
    ]
)


@given(st.binary(max_size=500), media_types)
def test_round_trip(data: bytes, media_type: str) -> None:
    url = encode_data_url(data, media_type)
    assert url.startswith(f"data:{media_type};base64,")
    assert decode_data_url(url) == data


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("data:,Hello%2C%20World%21", b"Hello, World!"),
        ("data:text/plain;base64,SGVsbG8sIFdvcmxkIQ==", b"Hello, World!"),
        ("data:,", b""),
        ("data:;base64,", b""),
        ("data:text/plain,a,b", b"a,b"),
    ],
)
def test_decodes_rfc2397_examples(url: str, data: bytes) -> None:
    assert decode_data_url(url) == data


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://example.com/x",
        "data:no-comma",
        "DATA,x",
        "data:;base64,!!!!",
        "data:;base64,abc",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="data: URL"):
        decode_data_url(url)


@given(
    st.text(max_size=100)
    | st.text(max_size=100).map(lambda s: "data:" + s)
    | st.text(max_size=100).map(lambda s: "data:;base64," + s)
)
def test_any_text_decodes_or_raises_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        decode_data_url(text)
