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

Once the first page has announced the total, every other page is asked for at once (up to
``at_once`` requests: the transport's ``--parallelism``) and the pages are read and checked in
order, as if asked one after another; a list that fails its checks may have cost a few more
reads than it would have page by page.
Not for: sending the requests (the caller's ``fetch``) or parsing items (the caller's ``parse``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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
    at_once: int = 1,
) -> Listing[T]:
    """Every item of a list; ``fetch(page_no, page_size)`` returns one page's object."""
    moved: ShapeError | None = None
    for _ in range(LIST_ATTEMPTS):
        try:
            return _read_pages(
                fetch, page_size, shape, parse, identity, f"{method} {path}", at_once
            )
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
    at_once: int = 1,
) -> Listing[T]:
    found: list[T] = []
    seen: set[str] = set()
    request_ids: list[str] = []
    total: int | None = None
    key = shape.list_key
    asked: dict[int, Future[Reader]] = {}  # the pages after the first, asked for at once
    for page_no in range(1, 1_000_000):
        ahead = asked.pop(page_no, None)
        page = ahead.result() if ahead is not None else fetch(page_no, size)
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
        if page_no == 1 and at_once > 1:  # the total is known: every other page at once
            rest = range(2, 2 + math.ceil((count - len(found)) / size))
            asked = _ask_at_once(fetch, size, rest, at_once)
    raise AssertionError("unreachable: a million pages")


def _ask_at_once(
    fetch: Callable[[int, int], Reader], size: int, pages: range, at_once: int
) -> dict[int, Future[Reader]]:
    if not pages:
        return {}
    pool = ThreadPoolExecutor(min(len(pages), at_once), thread_name_prefix="pages")
    try:
        return {n: pool.submit(fetch, n, size) for n in pages}
    finally:
        pool.shutdown(wait=False)  # the pages still run; their threads end with them
