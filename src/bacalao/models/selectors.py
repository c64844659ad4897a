"""Kubernetes-style label selectors: parse the text form, match label maps.

The text form is what `?labels=` and `--constraints` take; the parsed form
is a list of `LabelSelectorRequirement` (a job's `Constraints`). Both the API
(filtering jobs and nodes) and the scheduler (job constraints against node
labels) call `matches`.

Grammar: requirements separated by commas, each one of

    key=value   key==value   key!=value   key in (a,b)   key notin (a,b)
    key         !key         key>5        key<5

`!=` and `notin` also match when the key is absent, as in Kubernetes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .job import LabelSelectorRequirement


class SelectorError(ValueError):
    """Raised by `parse_selector` for text that is not a label selector."""


_TOKEN = re.compile(r"\s*(==|!=|=|!|<|>|\(|\)|,|[^\s=!<>(),]+)")
_WORDS = {"in", "notin"}
_SYMBOLS = {"=": "=", "==": "==", "!=": "!=", ">": "gt", "<": "lt"}


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # pragma: no cover - the pattern matches any char
            raise SelectorError(f"cannot read {text[pos:]!r}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive-descent parser over the tokens of one selector."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise SelectorError(f"{self.text!r} ends too early")
        self.pos += 1
        return token

    def word(self, what: str) -> str:
        token = self.take()
        if token in "(),=!<>" or token in ("==", "!="):
            raise SelectorError(f"expected {what} but found {token!r} in {self.text!r}")
        return token

    def parse(self) -> list[LabelSelectorRequirement]:
        requirements = []
        while self.peek() is not None:
            requirements.append(self.requirement())
            if self.peek() is not None and self.take() != ",":
                raise SelectorError(
                    f"expected ',' between requirements in {self.text!r}"
                )
        return requirements

    def requirement(self) -> LabelSelectorRequirement:
        if self.peek() == "!":
            self.take()
            return _requirement(self.word("a label key"), "!", [])
        key = self.word("a label key")
        op = self.peek()
        if op is None or op == ",":
            return _requirement(key, "exists", [])
        self.take()
        if op in _WORDS:
            return _requirement(key, op, self.value_set())
        if op in _SYMBOLS:
            return _requirement(key, _SYMBOLS[op], [self.value()])
        raise SelectorError(f"unknown operator {op!r} after {key!r} in {self.text!r}")

    def value(self) -> str:
        token = self.peek()
        if token is None or token in (",", ")"):
            return ""
        return self.word("a value")

    def value_set(self) -> list[str]:
        if self.take() != "(":
            raise SelectorError(f"expected '(' after in/notin in {self.text!r}")
        values = [self.value()]
        while (token := self.take()) == ",":
            values.append(self.value())
        if token != ")":
            raise SelectorError(f"expected ')' to close the value set in {self.text!r}")
        return values


def _requirement(key: str, op: str, values: list[str]) -> LabelSelectorRequirement:
    if op in ("gt", "lt") and not _is_int(values[0]):
        raise SelectorError(f"{key} {op} needs an integer, not {values[0]!r}")
    return LabelSelectorRequirement(Key=key, Operator=op, Values=values)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def parse_selector(text: str) -> list[LabelSelectorRequirement]:
    """The requirements of a selector such as `env=prod,zone in (a,b)`."""
    return _Parser(text).parse()


def requirement_matches(
    req: LabelSelectorRequirement, labels: Mapping[str, str]
) -> bool:
    """Whether `labels` satisfies one requirement (Kubernetes semantics)."""
    op, present = req.Operator, req.Key in labels
    value = labels.get(req.Key, "")
    if op == "exists":
        return present
    if op == "!":
        return not present
    if op in ("=", "==", "in"):
        return present and value in req.Values
    if op in ("!=", "notin"):
        return not present or value not in req.Values
    if op in ("gt", "lt") and present and _is_int(value) and req.Values:
        if not _is_int(req.Values[0]):
            return False
        have, want = int(value), int(req.Values[0])
        return have > want if op == "gt" else have < want
    return False


def matches(
    requirements: Iterable[LabelSelectorRequirement], labels: Mapping[str, str]
) -> bool:
    """Whether `labels` satisfies every requirement (an empty list matches)."""
    return all(requirement_matches(req, labels) for req in requirements)


def format_requirement(req: LabelSelectorRequirement) -> str:
    """The text form of one requirement, e.g. `zone in (a,b)`."""
    if req.Operator == "exists":
        return req.Key
    if req.Operator == "!":
        return f"!{req.Key}"
    if req.Operator in ("in", "notin"):
        return f"{req.Key} {req.Operator} ({','.join(req.Values)})"
    symbol = {"gt": ">", "lt": "<"}.get(req.Operator, req.Operator)
    return f"{req.Key}{symbol}{req.Values[0] if req.Values else ''}"


__all__ = [
    "SelectorError",
    "format_requirement",
    "matches",
    "parse_selector",
    "requirement_matches",
]
