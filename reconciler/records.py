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

Until then a stand-in ``__init__`` and descriptors standing for ``__dataclass_fields__`` and
``__dataclass_params__`` trigger the processing; once processed, none is left.
Not for: classes that define their own ``__init__`` (nothing would trigger the processing),
``slots=True`` (dataclasses then makes a new class), bases whose ``__init_subclass__`` has
effects (the copy dataclasses processes is a subclass too), or instances made without
``__init__`` before any was made (unpickling in a fresh process); use ``@dataclass`` there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import Field, FrozenInstanceError, dataclass, field, fields
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T", bound=type)
R = TypeVar("R")

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
    """Make ``cls`` the dataclass its ``@frozen_record`` asked for, if it is not yet (thread-safe).

    dataclasses processes a copy of the class (the same name, bases and body) and ``cls`` takes
    what it made, its ``__init__`` last: until then a thread making an instance runs the
    stand-in, which waits here, so no thread ever finds the class half made."""
    with _LOCK:
        options = cls.__dict__.get(_PENDING)
        if options is not None:
            _adopt(cls, dataclass(frozen=True, **options)(_copy_of(cls)))
    return cls


def blank(cls: type[R]) -> R:
    """An instance of ``cls`` (a ``@frozen_record`` or a dataclass) made without its
    ``__init__``, its class processed first: for the few hot paths that fill ``__dict__``
    themselves, in the order ``__init__`` stores the fields (so instances keep sharing their
    keys), to skip the frozen ``__init__``'s guarded assignment per field. The caller sets every
    field."""
    if _PENDING in cls.__dict__:
        process(cls)
    instance: R = object.__new__(cls)
    return instance


_OWN = frozenset({"__dict__", "__weakref__", "__init__"})  # what the class keeps as it is


def _copy_of(cls: type) -> type:
    body = {k: v for k, v in cls.__dict__.items() if k not in _OWN and k != _PENDING}
    body["__qualname__"] = cls.__qualname__
    return type(cls)(cls.__name__, cls.__bases__, body)


def _adopt(cls: type, made: type) -> None:
    """Give ``cls`` what dataclasses made of its copy, ``__init__`` last; the frozen
    ``__setattr__``/``__delattr__`` are made for ``cls`` itself, as dataclasses writes them."""
    for name, value in made.__dict__.items():
        if name not in _OWN:
            setattr(cls, name, value)
    for name in [n for n in cls.__dict__ if n not in made.__dict__ and n not in _OWN]:
        delattr(cls, name)  # the pending mark, and the field() defaults dataclasses removed
    names = tuple(f.name for f in fields(made))
    cls.__setattr__, cls.__delattr__ = _frozen(cls, names)  # type: ignore[method-assign]
    cls.__init__ = made.__dict__["__init__"]  # type: ignore[misc]


def _frozen(cls: type, names: tuple[str, ...]) -> tuple[Callable[..., None], Callable[..., None]]:
    """``__setattr__`` and ``__delattr__`` of a frozen dataclass (dataclasses' own, which
    name the class they were made for)."""
    owner: Any = cls  # mypy reads ``cls`` as narrowed below

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(owner, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(owner, self).__delattr__(name)

    __setattr__.__qualname__ = f"{cls.__qualname__}.__setattr__"
    __delattr__.__qualname__ = f"{cls.__qualname__}.__delattr__"
    return __setattr__, __delattr__


def _deferred_init(cls: type) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        process(cls)
        cls.__dict__["__init__"](self, *args, **kwargs)  # the dataclass's, now

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _defer(cls: T, options: dict[str, Any]) -> T:
    if "__init__" in cls.__dict__ or options.get("slots"):
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
