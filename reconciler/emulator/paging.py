"""The two ways BCE services page a list, shared by every service.

For: marker paging (BCE v1): ``marker`` (alias ``maker``) and ``maxKeys`` into a
:class:`PageRequest`, a fetched slice of ``maxKeys + 1`` rows into a :class:`Page`, and the
page's wire fields (:func:`marker_fields`). Markers are opaque to clients: they name the first
item of the next page (a name, or a sequence number), so a marker stays valid when items go
away. Numbered paging (CCE v2, CCR): ``pageNo`` / ``pageSize`` with a service's defaults and
cap (:class:`NumberedPaging`) into a :class:`NumberedPage` that cuts a list.
Not for: reading the query string (:mod:`.params`) or a list's other wire fields (handlers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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


def marker_fields(page: Page[Any]) -> dict[str, Any]:
    """The paging fields of a marker-paged answer."""
    return {
        "marker": page.marker,
        "isTruncated": page.is_truncated,
        "nextMarker": page.next_marker,
        "maxKeys": page.max_keys,
    }


@dataclass(frozen=True)
class NumberedPage:
    """``pageNo`` / ``pageSize`` as answered; either 0 means "all"."""

    page_no: int
    page_size: int

    def cut(self, items: list[T]) -> list[T]:
        if self.page_no == 0 or self.page_size == 0:
            return items
        start = (self.page_no - 1) * self.page_size
        return items[start : start + self.page_size]


@dataclass(frozen=True)
class NumberedPaging:
    """A list's rule: what an absent (or 0) ``pageNo`` / ``pageSize`` is, and the largest size."""

    default_no: int
    default_size: int
    max_size: int

    def page(self, page_no: int | None, page_size: int | None) -> NumberedPage:
        return NumberedPage(
            page_no or self.default_no, min(page_size or self.default_size, self.max_size)
        )
