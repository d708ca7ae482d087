"""Pause Python's cyclic garbage collector while a large, acyclic structure is built.

For: the CPU-bound steps of a run that allocate hundreds of thousands of long-lived objects and
next to no reference cycles: loading the configuration, reading the state, building the live
state and the plan. Every collection re-scans all the objects built so far; at 10,000
resources that was a third of a plan's CPU time (see bench/). Reference counting frees objects
as usual during a pause; the collector resumes when the outermost pause ends. When a pause has
built many objects (``FREEZE_FROM``), one collection then frees the cycles it left and what is
alive is frozen (``gc.freeze``): the run's long-lived data (the configuration, the state, the
live state, the plan) is walked once, not again at every later full collection (at 100,000
resources those walks cost more than reading a saved plan itself). Reference counting still
frees frozen objects; a frozen object that later becomes part of a garbage cycle is not
reclaimed, and this data holds no cycles. Re-entrant and thread-safe (a counter under a lock),
usable as ``with paused_gc():`` or ``@paused_gc()``. ``paused_gc(collect=False)``, as the
outermost pause of a whole command whose data is dropped when it returns (``plan``), ends
without that collection: the data it built is freed by reference counting, the few cycles it
left by the next collections, and no walk of it is ever paid (at 10,000 resources the
collections between a plan's steps cost a tenth of its CPU).
Not for: long or I/O-heavy work (an apply), where cycles from exceptions and sockets pile up.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FREEZE_FROM = 200_000  # objects tracked since the last collection: about 20,000 resources
_lock = threading.Lock()
_depth = 0
_resume = False  # whether the collector was enabled when the outermost pause began
_collect = True  # whether the outermost pause collects and freezes when it ends


@contextmanager
def paused_gc(collect: bool = True) -> Iterator[None]:
    _enter(collect)
    try:
        yield
    finally:
        _leave()


def _enter(collect: bool) -> None:
    global _depth, _resume, _collect
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            _collect = collect
            gc.disable()
        _depth += 1


def _leave() -> None:
    global _depth
    with _lock:
        _depth -= 1
        if _depth == 0 and _resume:
            if _collect and gc.get_count()[0] >= FREEZE_FROM:
                gc.collect()
                gc.freeze()
            gc.enable()
