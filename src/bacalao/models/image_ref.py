"""Docker image references, checked at submission as the registry would.

The grammar is the one Docker's `distribution/reference` package
documents: `[domain[:port]/]path[:tag][@digest]`, where each path component
is lowercase letters and digits joined by `.`, `_`, `__` or dashes, a tag
is at most 128 word characters, dots and dashes (not starting with either),
and a digest is `algorithm:hex` (32 hex digits or more). A name is at most
255 characters. A reference outside it can never be pulled, so a job that
names one is refused at once with the field at fault instead of failing
on the compute node.
"""

from __future__ import annotations

import re

MAX_NAME = 255
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_HOST_PART = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_DOMAIN = rf"(?:{_HOST_PART}(?:\.{_HOST_PART})*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
_TAG = r"\w[\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}"
_REFERENCE = re.compile(rf"(?P<name>{_NAME})(?::{_TAG})?(?:@{_DIGEST})?", re.ASCII)
HINT = "[registry/]name[:tag][@digest] with a lowercase name, e.g. busybox:1.37.0"


def check_image_reference(text: str) -> str:
    """`text` if it is a well-formed image reference; `ValueError` otherwise."""
    found = _REFERENCE.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not a valid image reference ({HINT})")
    if len(found["name"]) > MAX_NAME:
        raise ValueError(f"the image name is longer than {MAX_NAME} characters")
    return text


__all__ = ["MAX_NAME", "check_image_reference"]
