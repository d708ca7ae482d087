"""Strict reading of lists paged by ``pageNo`` / ``pageSize`` with an announced total, shared by
the CCE v2 client (``totalCount`` inside a wrapper object) and the CCR Enterprise client
(``total`` at the top level of the answer).

For: every page until the announced total is in, and never a shorter list: a page longer than
asked (unless it is the whole list at once), a short page before the total, more items than the
total, a total beyond ``MAX_LIST_ITEMS``, an item listed twice on one page, or a page that echoes
another page number is a :class:`~reconciler.errors.ShapeError`. An item seen on two pages or a
total that moves between pages means the list changed while it was read: the listing starts
over, at most ``LIST_ATTEMPTS`` times, then fails with ``ShapeError``. A ``null`` list is taken
as empty only when the shape allows it and the total says 0. The answer is a
:class:`~reconciler.client.v1_types.Listing` naming the requests that answered it.
Not for: sending the requests (the caller's ``fetch``) or parsing items (the caller's ``parse``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from reconciler.client.answers import Reader
from reconciler.client.v1_types import Listing
from reconciler.errors import ShapeError

T = TypeVar("T")

LIST_ATTEMPTS = 3
MAX_LIST_ITEMS = 100_000  # per list: a total beyond it is a server that never ends


@dataclass(frozen=True)
class PageShape:
    """Where a paged answer keeps its parts: the list, the total, and (when the service echoes
    it) the page number."""

    list_key: str
    total_key: str
    page_no_key: str | None = None
    null_is_empty: bool = False  # a ``null`` list with a total of 0 is the empty list


class _ListMoved(Exception):
    """The list changed between two pages (a moved total or an item seen twice); ``error``
    says how, for when it keeps happening."""

    def __init__(self, error: ShapeError) -> None:
        super().__init__(error.message)
        self.error = error


def read_all_pages(
    fetch: Callable[[int, int], Reader],
    page_size: int,
    shape: PageShape,
    parse: Callable[[Reader], T],
    identity: Callable[[T], str],
    *,
    method: str = "GET",
    path: str = "",
) -> Listing[T]:
    """Every item of a list; ``fetch(page_no, page_size)`` returns one page's object."""
    moved: ShapeError | None = None
    for _ in range(LIST_ATTEMPTS):
        try:
            return _read_pages(fetch, page_size, shape, parse, identity, f"{method} {path}")
        except _ListMoved as exc:
            moved = exc.error
    assert moved is not None
    raise ShapeError(
        f"{moved.message}; the list changed while it was read, {LIST_ATTEMPTS} times in a row",
        status=moved.status,
        request_id=moved.request_id,
        method=moved.method or method,
        path=moved.path or path,
    )


def _read_pages(
    fetch: Callable[[int, int], Reader],
    size: int,
    shape: PageShape,
    parse: Callable[[Reader], T],
    identity: Callable[[T], str],
    where: str,
) -> Listing[T]:
    found: list[T] = []
    seen: set[str] = set()
    request_ids: list[str] = []
    total: int | None = None
    key = shape.list_key
    for page_no in range(1, 1_000_000):
        page = fetch(page_no, size)
        request_ids.append(page.origin.request_id)
        count = page.integer(shape.total_key)
        if count < 0 or count > MAX_LIST_ITEMS:
            raise page.error(shape.total_key, f"{count} is outside 0..{MAX_LIST_ITEMS:,}")
        if shape.page_no_key is not None and page.integer(shape.page_no_key) != page_no:
            raise page.error(shape.page_no_key, f"page {page_no} was asked for")
        if total is not None and count != total:
            raise _ListMoved(page.error(shape.total_key, f"moved from {total} to {count}"))
        total = count
        null_is_empty = shape.null_is_empty and count == 0
        items = [parse(item) for item in page.objects(key, null_is_empty=null_is_empty)]
        whole = page_no == 1 and len(items) == count  # a server that ignores paging
        if len(items) > size and not whole:
            raise page.error(key, f"{len(items)} items, pageSize {size}")
        on_page: set[str] = set()
        for item in items:
            name = identity(item)
            if name in on_page:
                raise page.error(
                    key,
                    f"{name} is listed twice on page {page_no}; a list that repeats an "
                    "object is not counted",
                )
            on_page.add(name)
            if name in seen:
                raise _ListMoved(page.error(key, f"{name} is listed on page {page_no} and before"))
            seen.add(name)
        found.extend(items)
        if len(found) >= count:
            if len(found) > count:
                raise page.error(shape.total_key, f"{count}, but {len(found)} items listed")
            return Listing(found, where, request_ids)
        if len(items) < size:
            raise page.error(
                key,
                f"page {page_no} holds {len(items)} of pageSize {size}, "
                f"but only {len(found)} of {shape.total_key} {count} are read",
            )
    raise AssertionError("unreachable: a million pages")
