"""Relay connections over the read models, ordered by ``created_position``.

Cursors are opaque (base64 of the row's creation position in the log), so they
stay valid while rows are added and never skip or repeat a row.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Generic, TypeVar

import strawberry

from domain.errors import InvalidInput

T = TypeVar("T")

_CURSOR_RE = re.compile(r"^pos:(\d{1,19})$")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Rows matching the filter, on every page.")

    @strawberry.field(description="The nodes of this page, without edges.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"pos:{position}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The creation position after which a page starts (0: from the beginning)."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    match = _CURSOR_RE.match(text)
    if match is None:
        raise InvalidInput("after is not a cursor this API returned", field="after")
    return int(match.group(1))


def page_size(first: int | None, maximum: int) -> int:
    """``first`` checked against the hard cap; absent means the cap."""
    if first is None:
        return maximum
    if first < 0:
        raise InvalidInput("first must not be negative", field="first")
    if first > maximum:
        raise InvalidInput(
            f"first must be at most {maximum} (got {first}); page with after",
            field="first",
            max_page_size=maximum,
        )
    return first
