"""Strict reading of lists paged by ``pageNo`` / ``pageSize`` with an announced total, shared by
the CCE v2 client (``totalCount`` inside a wrapper object) and the CCR Enterprise client
(``total`` at the top level of the answer).

For: every page until the announced total is in, and never a shorter list: a page longer than
asked (unless it is the whole list at once), a short page before the total, more items than the
total, or a page that echoes another page number is a :class:`~reconciler.errors.ShapeError`.
An item seen twice or a total that moves between pages means the list changed while it was
read: the listing starts over, at most ``LIST_ATTEMPTS`` times, then fails with
``BadResponseError``. A ``null`` list is taken as empty only when the total says 0.
Not for: sending the requests (the caller's ``fetch``) or parsing items (the caller's ``parse``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from reconciler.client.answers import Reader
from reconciler.errors import BadResponseError

T = TypeVar("T")

LIST_ATTEMPTS = 3


@dataclass(frozen=True)
class PageShape:
    """Where a paged answer keeps its parts: the list, the total, and (when the service echoes
    it) the page number."""

    list_key: str
    total_key: str
    page_no_key: str | None = None


class _ListMoved(Exception):
    """The list changed between two pages (a moved total or an item seen twice)."""


def read_all_pages(
    fetch: Callable[[int, int], Reader],
    page_size: int,
    shape: PageShape,
    parse: Callable[[Reader], T],
    identity: Callable[[T], str],
    *,
    method: str = "GET",
    path: str = "",
) -> tuple[T, ...]:
    """Every item of a list; ``fetch(page_no, page_size)`` returns one page's object."""
    for _ in range(LIST_ATTEMPTS):
        try:
            return _read_pages(fetch, page_size, shape, parse, identity)
        except _ListMoved:
            continue
    raise BadResponseError(
        f"the list changed while it was read, {LIST_ATTEMPTS} times in a row",
        method=method,
        path=path,
    )


def _read_pages(
    fetch: Callable[[int, int], Reader],
    size: int,
    shape: PageShape,
    parse: Callable[[Reader], T],
    identity: Callable[[T], str],
) -> tuple[T, ...]:
    found: list[T] = []
    seen: set[str] = set()
    total: int | None = None
    key = shape.list_key
    for page_no in range(1, 1_000_000):
        page = fetch(page_no, size)
        count = page.integer(shape.total_key)
        if count < 0:
            raise page.error(shape.total_key, f"{count} is negative")
        if shape.page_no_key is not None and page.integer(shape.page_no_key) != page_no:
            raise page.error(shape.page_no_key, f"page {page_no} was asked for")
        if total is not None and count != total:
            raise _ListMoved
        total = count
        items = [parse(item) for item in page.objects(key, null_is_empty=count == 0)]
        whole = page_no == 1 and len(items) == count  # a server that ignores paging
        if len(items) > size and not whole:
            raise page.error(key, f"{len(items)} items, pageSize {size}")
        for item in items:
            if identity(item) in seen:
                raise _ListMoved
            seen.add(identity(item))
        found.extend(items)
        if len(found) >= count:
            if len(found) > count:
                raise page.error(shape.total_key, f"{count}, but {len(found)} items listed")
            return tuple(found)
        if len(items) < size:
            raise page.error(
                key,
                f"page {page_no} holds {len(items)} of pageSize {size}, "
                f"but only {len(found)} of {shape.total_key} {count} are read",
            )
    raise AssertionError("unreachable: a million pages")
