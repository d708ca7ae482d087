"""``@frozen_record``: a frozen dataclass whose generated methods are made when first used.

For: the frozen value types of the model, the plan, the state, the kinds and the client's
wire. ``@frozen_record`` and ``@frozen_record(order=True)`` are ``@dataclass(frozen=True)``
and ``@dataclass(frozen=True, order=True)`` with one difference: ``dataclasses`` processes the
class the first time it is instantiated or its fields are asked for (``dataclasses.fields``,
``is_dataclass``, ``replace``, a dataclass that inherits from it), not when its module is
imported. Python 3.11 compiles each generated method of a dataclass on its own, about 0.6 ms
a class, and a run makes instances of only some of the program's record types: ``reconciler
plan`` of a configuration in sync imported about a hundred and made instances of half; the
other half now cost nothing. Once processed, the class is exactly what ``@dataclass(frozen=True,
...)`` makes (the same methods, fields, ``__match_args__`` and errors).

Not for: classes that define their own ``__init__`` (nothing would trigger the processing),
``slots=True`` (dataclasses then makes a new class), or instances made without ``__init__``
(unpickling in a fresh process); use ``@dataclass`` there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import Field, dataclass, field
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T", bound=type)

_FIELDS = "__dataclass_fields__"
_PARAMS = "__dataclass_params__"
_PENDING = "__frozen_record_pending__"  # the dataclass options of a class not yet processed
_LOCK = threading.RLock()  # one thread processes a class; a base is processed within its heir's


class _Deferred:
    """``__dataclass_fields__`` or ``__dataclass_params__`` of a class not processed yet:
    reading it (``fields``, ``is_dataclass``, a subclass's processing) processes the class."""

    def __init__(self, cls: type, name: str) -> None:
        self.cls, self.name = cls, name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        made = process(self.cls)
        return made.__dict__[self.name]


def process(cls: T) -> T:
    """Make ``cls`` the dataclass its ``@frozen_record`` asked for, if it is not yet (thread-safe)."""
    with _LOCK:
        options = cls.__dict__.get(_PENDING)
        if options is not None:
            for name in (_PENDING, _FIELDS, _PARAMS, "__init__"):
                delattr(cls, name)
            dataclass(frozen=True, **options)(cls)
    return cls


def _deferred_init(cls: type) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        process(cls)
        cls.__dict__["__init__"](self, *args, **kwargs)  # the dataclass's, now

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _defer(cls: T, options: dict[str, Any]) -> T:
    if "__init__" in cls.__dict__ or options.get("slots") or options.get("init") is False:
        raise TypeError(f"{cls.__qualname__}: @frozen_record needs the __init__ dataclasses makes")
    setattr(cls, _PENDING, options)
    setattr(cls, _FIELDS, _Deferred(cls, _FIELDS))
    setattr(cls, _PARAMS, _Deferred(cls, _PARAMS))
    cls.__init__ = _deferred_init(cls)  # type: ignore[misc]
    return cls


@overload
def frozen_record(cls: T, /) -> T: ...


@overload
def frozen_record(*, order: bool = False, kw_only: bool = False) -> Callable[[T], T]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def frozen_record(
    cls: T | None = None, /, *, order: bool = False, kw_only: bool = False
) -> T | Callable[[T], T]:
    """``@dataclass(frozen=True)`` (``order``, ``kw_only`` as there), processed on first use."""
    options = {"order": order, "kw_only": kw_only}
    if cls is None:
        return lambda c: _defer(c, options)
    return _defer(cls, options)
