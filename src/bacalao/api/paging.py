"""Paging: Bacalhau's `NextToken` and the page a list request asks for.

A token is `SortBy:Y|N:Limit:Offset` (Y = reversed) encoded as base64url
without padding, exactly as Bacalhau's `models.PagingToken`, so its clients
can page through our lists. When a request carries `next_token`, the
token's sort, direction and limit override the other query parameters.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from .errors import BadRequest, InvalidPagingToken
from .query import UINT32_MAX, Query

T = TypeVar("T")


@dataclass(frozen=True)
class PagingToken:
    """Where the next page starts: sort key, direction, page size, offset."""

    sort_by: str
    reverse: bool
    limit: int
    offset: int

    def encode(self) -> str:
        raw = (
            f"{self.sort_by}:{'Y' if self.reverse else 'N'}:{self.limit}:{self.offset}"
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> PagingToken:
        try:
            padded = token + "=" * (-len(token) % 4)
            raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise InvalidPagingToken(token, "failed to decode paging token") from exc
        parts = raw.split(":")
        if len(parts) != 4:
            raise InvalidPagingToken(token, "invalid number of parts")
        sort_by, reverse, limit, offset = parts
        if not (_uint32(limit) and _uint32(offset)):
            raise InvalidPagingToken(token, "malformed token")
        return cls(sort_by, reverse == "Y", int(limit), int(offset))


def _uint32(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) <= UINT32_MAX


@dataclass(frozen=True)
class Page:
    """What one list request asks for. `limit` 0 means no limit."""

    order_by: str
    reverse: bool
    limit: int
    offset: int

    @property
    def size(self) -> int:
        """The page size to ask a store for (no limit is the largest uint32)."""
        return self.limit or UINT32_MAX

    def next_token(self, returned: int) -> str:
        """The token of the page after this one, which held `returned` items."""
        token = PagingToken(
            self.order_by, self.reverse, self.limit, self.offset + returned
        )
        return token.encode()

    def slice(self, items: Sequence[T]) -> tuple[list[T], str]:
        """This page of `items` and the token of the next page ("" if none)."""
        end = self.offset + self.size
        chosen = list(items[self.offset : end])
        return chosen, self.next_token(len(chosen)) if len(items) > end else ""


def page_from_query(
    query: Query, *, default_limit: int = 0, order_by: str = ""
) -> Page:
    """The page a request asks for: `limit`, `order_by`, `reverse`, `next_token`."""
    page = Page(
        order_by=query.text("order_by", order_by),
        reverse=query.boolean("reverse"),
        limit=query.integer("limit", default_limit),
        offset=0,
    )
    token = query.text("next_token")
    if not token:
        return page
    try:
        parsed = PagingToken.decode(token)
    except InvalidPagingToken as exc:
        raise BadRequest(
            f"invalid value for query parameter 'next_token': {exc}",
            hint="pass the NextToken of the previous page unchanged",
        ) from exc
    return Page(parsed.sort_by, parsed.reverse, parsed.limit, parsed.offset)


__all__ = ["InvalidPagingToken", "Page", "PagingToken", "page_from_query"]
