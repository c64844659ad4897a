"""Typed access to query parameters; a bad value is a 400 naming the parameter.

Values parse the way Bacalhau's Go server parses them: booleans as Go's
`strconv.ParseBool` does, integers as unsigned decimals within their range.
The last occurrence of a repeated parameter wins, except where a parameter
is read with `all` or `selector` (e.g. `labels`).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl

from ..models.job import LabelSelectorRequirement
from ..models.selectors import SelectorError, parse_selector
from .errors import BadRequest

UINT32_MAX = 2**32 - 1
INT64_MAX = 2**63 - 1
MAX_FIELDS = 1000

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


class Query:
    """The query string of one request."""

    def __init__(self, raw: bytes | str) -> None:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            pairs = parse_qsl(
                text,
                keep_blank_values=True,
                errors="replace",
                max_num_fields=MAX_FIELDS,
            )
        except ValueError as exc:
            raise BadRequest(f"malformed query string: {exc}") from exc
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def all(self, name: str) -> list[str]:
        """Every value given for `name`, in order."""
        return list(self._values.get(name, []))

    def text(self, name: str, default: str = "") -> str:
        values = self._values.get(name)
        return values[-1] if values else default

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        if name not in self or value == "":
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise _bad(name, value, "true or false")

    def integer(self, name: str, default: int = 0, *, maximum: int = UINT32_MAX) -> int:
        """A non-negative integer no larger than `maximum`."""
        value = self.text(name).strip()
        if name not in self or value == "":
            return default
        if not value.isascii() or not value.isdigit() or int(value) > maximum:
            raise _bad(name, value, f"an integer from 0 to {maximum}")
        return int(value)

    def selector(self, name: str = "labels") -> list[LabelSelectorRequirement]:
        """A label selector; repeated parameters are ANDed (joined by commas)."""
        text = ",".join(v for v in self.all(name) if v.strip())
        try:
            return parse_selector(text)
        except SelectorError as exc:
            message = f"invalid value for query parameter '{name}': {exc}"
            raise BadRequest(message) from exc

    def choice(self, name: str, choices: Iterable[str], default: str = "") -> str:
        options = list(choices)
        value = self.text(name, default)
        if value not in options:
            raise _bad(name, value, "one of " + ", ".join(repr(o) for o in options))
        return value


def _bad(name: str, value: str, expected: str) -> BadRequest:
    return BadRequest(
        f"invalid value for query parameter '{name}': {value!r} (expected {expected})"
    )


__all__ = ["INT64_MAX", "UINT32_MAX", "Query"]
