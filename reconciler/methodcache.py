"""Keep the methods ``dataclasses`` generates, compiled, from one run to the next.

For: start-up. ``dataclasses`` writes each method it gives a class (``__init__``, ``__eq__``,
``__hash__``, ``__repr__``, a frozen class's ``__setattr__`` ...) as Python source and compiles
it with ``exec`` when the class is processed: about 70 µs a method, 0.6 ms a class, 30 ms of a
plan's start-up over the ~50 classes it makes. Python keeps the byte-code of modules in
``__pycache__``, not of these. Once :func:`install` ran (``reconciler/__init__.py`` does), the
``exec`` that ``dataclasses`` calls finds the code of a source text it compiled in an earlier
run in a cache file beside the package's own byte-code, and compiles only what is new; the
cache is written when the process ends, when something was new and Python may write byte-code
(not under ``PYTHONDONTWRITEBYTECODE``, as for ``.pyc`` files). The code is the one ``exec``
would compile from the same text (``compile(text, "<string>", "exec")``), so the classes are
the same; the file holds the Python version's magic number and is ignored when it does not
match, cannot be read or is damaged. A missing or read-only folder only means no cache.
Not for: any other ``exec``; a Python whose ``dataclasses`` does not compile through ``exec``
(then nothing is intercepted and nothing changes).
"""

from __future__ import annotations

import atexit
import builtins
import dataclasses
import importlib.util
import marshal
import os
import sys
import threading
from pathlib import Path
from types import CodeType
from typing import Any

MAX_ENTRIES = 4000  # beyond this, the file keeps only the sources this run used
_lock = threading.Lock()
_cache: dict[str, CodeType] = {}
_used: set[str] = set()
_path: Path | None = None
_new = 0  # sources compiled in this run
_registered = False


def default_path() -> Path:
    """The cache file in this package's ``__pycache__``, per Python version."""
    tag = sys.implementation.cache_tag or "python"
    return Path(__file__).parent / "__pycache__" / f"dataclass-methods.{tag}.marshal"


def install(path: Path | None = None) -> None:
    """Serve ``dataclasses``' ``exec`` from the cache at ``path`` (``default_path()``)."""
    global _path, _registered
    with _lock:
        _path = path or default_path()
        _cache.clear()
        _cache.update(_read(_path))
        _used.clear()
        if not _registered:
            atexit.register(save)
            _registered = True
    dataclasses.exec = _exec  # type: ignore[attr-defined]  # a module global wins over builtins


def stats() -> tuple[int, int]:
    """(sources found in the cache, sources compiled) so far in this run."""
    with _lock:
        return len(_used) - _new, _new


def _exec(source: Any, globals: Any = None, locals: Any = None) -> None:
    global _new
    if isinstance(source, str):
        text, source = source, _cache.get(source)
        compiled = source is None
        if source is None:
            source = compile(text, "<string>", "exec")
        with _lock:
            _cache[text] = source
            _used.add(text)
            _new += compiled
    builtins.exec(source, globals, locals)


def _read(path: Path) -> dict[str, CodeType]:
    try:
        raw = path.read_bytes()
    except OSError:
        return {}
    magic = importlib.util.MAGIC_NUMBER
    if not raw.startswith(magic):
        return {}
    try:
        found = marshal.loads(raw[len(magic) :])
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, CodeType)}


def save() -> None:
    """Write the cache when this run compiled something new (atexit); never raises."""
    with _lock:
        if _path is None or not _new or sys.dont_write_bytecode:
            return
        keep = _cache if len(_cache) <= MAX_ENTRIES else {k: _cache[k] for k in _used}
        data = importlib.util.MAGIC_NUMBER + marshal.dumps(dict(keep))
        path = _path
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass
