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
usable as ``with paused_gc():`` or ``@paused_gc()``.
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


@contextmanager
def paused_gc() -> Iterator[None]:
    _enter()
    try:
        yield
    finally:
        _leave()


def _enter() -> None:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1


def _leave() -> None:
    global _depth
    with _lock:
        _depth -= 1
        if _depth == 0 and _resume:
            if gc.get_count()[0] >= FREEZE_FROM:
                gc.collect()
                gc.freeze()
            gc.enable()
