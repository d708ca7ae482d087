"""Marker / maxKeys paging, shared by every list endpoint.

For: turning ``marker`` (alias ``maker``) and ``maxKeys`` into a request, and a fetched slice
of ``maxKeys + 1`` rows into a page. Markers are opaque to clients: they name the first item of
the next page (a name, or a sequence number), so a marker stays valid when items go away.
Not for: the wire field names (handlers serialise pages).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

DEFAULT_MAX_KEYS = 1000
START_MARKERS = frozenset({"", "-1"})
T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    marker: str = ""  # "" = from the start
    max_keys: int = DEFAULT_MAX_KEYS

    @property
    def from_start(self) -> bool:
        return self.marker in START_MARKERS

    @property
    def limit(self) -> int:
        """Rows to fetch: one more than a page, to know whether another page follows."""
        return self.max_keys + 1


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    marker: str
    max_keys: int
    next_marker: str = ""

    @property
    def is_truncated(self) -> bool:
        return self.next_marker != ""


def page_request(marker: str | None, max_keys: str | None) -> PageRequest:
    """Lenient like the service: a missing or unreadable maxKeys is the default; clamp to 1..1000."""
    try:
        keys = int(max_keys) if max_keys not in (None, "") else DEFAULT_MAX_KEYS
    except ValueError:
        keys = DEFAULT_MAX_KEYS
    return PageRequest(marker or "", min(max(keys, 1), DEFAULT_MAX_KEYS))


def cut(rows: Sequence[T], request: PageRequest, marker_of: Callable[[T], str]) -> Page[T]:
    """``rows`` were fetched with ``LIMIT request.limit``."""
    items = list(rows[: request.max_keys])
    following = marker_of(rows[request.max_keys]) if len(rows) > request.max_keys else ""
    return Page(items, request.marker, request.max_keys, following)
