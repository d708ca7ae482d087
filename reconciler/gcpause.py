"""Pause Python's cyclic garbage collector while a large, acyclic structure is built.

For: the CPU-bound steps of a run that allocate hundreds of thousands of long-lived objects and
next to no reference cycles: loading the configuration, reading the state, building the live
state and the plan. Every collection re-scans all the objects built so far; at 10,000
resources that was a third of a plan's CPU time (see bench/). Reference counting frees objects
as usual during a pause; the collector resumes when the outermost pause ends. When a pause has
built many objects (``FREEZE_FROM``), they are frozen (``gc.freeze``) before the collector
resumes: the run's long-lived data (the configuration, the state, the live state, the plan) is
then never walked by a collection. Without that, the first collection after each phase walked
everything the phase built (20-30 ms at 10,000 resources, several per plan), and a collection
before freezing cost as much again. Reference counting still frees frozen objects; only a
reference cycle that became garbage during a pause is kept (a few hundred objects per plan at
10,000 resources, measured with ``gc.collect()``), until :func:`settle`, which a long-running
process (``watch``) calls when idle. Re-entrant and thread-safe (a counter under a lock),
usable as ``with paused_gc():`` or ``@paused_gc()``.
Not for: long or I/O-heavy work (an apply), where cycles from exceptions and sockets pile up.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FREEZE_FROM = 10_000  # objects tracked since the last collection: about 1,000 resources
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
                gc.freeze()
            gc.enable()


def settle() -> None:
    """Collect what earlier pauses froze, unless a pause is under way: for a long-running
    process, between runs (one collection over everything, so not on a run's path)."""
    with _lock:
        if _depth == 0:
            gc.unfreeze()
            gc.collect()
