"""Strict readers for JSON answers, and Go's ``omitempty`` for request bodies, shared by the
typed clients that follow an official Go SDK (CCE v2, CCR Enterprise).

For: reading one JSON object of an answer with getters that raise
:class:`~reconciler.errors.ShapeError` naming the method, path, key path and request id when a
key the client relies on is missing, ``null`` or of the wrong type. A key the real service may
leave out is read with the ``opt_*`` getters as ``None``, never as a made-up default.
Not for: HTTP (:mod:`.transport`) or paging (:mod:`.pages`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from reconciler.errors import ShapeError
from reconciler.records import frozen_record


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


@frozen_record
class Origin:
    """Where an answer came from, for the errors that name it."""

    method: str
    path: str
    status: int
    request_id: str


class Reader:
    """One JSON object of an answer, at key path ``at``; getters raise ``ShapeError``."""

    def __init__(self, data: Any, origin: Origin, at: str = "") -> None:
        self.origin = origin
        self.at = at
        if not isinstance(data, Mapping):
            raise self._shape_error(
                at or "the answer", f"expected a JSON object, got {_kind(data)}"
            )
        self.data: Mapping[str, Any] = data

    def error(self, key: str, problem: str) -> ShapeError:
        """A ShapeError about ``key`` of this object (for checks made by the caller)."""
        return self._shape_error(self._path(key), problem)

    def _shape_error(self, key_path: str, problem: str) -> ShapeError:
        o = self.origin
        return ShapeError(
            f"unexpected answer: {key_path}: {problem}",
            status=o.status,
            request_id=o.request_id,
            method=o.method,
            path=o.path,
        )

    def _path(self, key: str) -> str:
        return f"{self.at}.{key}" if self.at else key

    def _get(self, key: str, expected: type, name: str) -> Any:
        value = self.data.get(key)
        if value is None:
            raise self.error(key, "missing" if key not in self.data else "null")
        wrong_bool = isinstance(value, bool) and expected is not bool  # bool is an int subtype
        if wrong_bool or not isinstance(value, expected):
            raise self.error(key, f"expected {name}, got {_kind(value)}")
        return value

    def text(self, key: str, *, nonempty: bool = False) -> str:
        value: str = self._get(key, str, "a string")
        if nonempty and not value:
            raise self.error(key, "empty")
        return value

    def integer(self, key: str) -> int:
        value: int = self._get(key, int, "an integer")
        return value

    def boolean(self, key: str) -> bool:
        value: bool = self._get(key, bool, "a boolean")
        return value

    def obj(self, key: str) -> Reader:
        return Reader(self._get(key, Mapping, "an object"), self.origin, self._path(key))

    def optional(self, key: str) -> bool:
        """True when ``key`` is present and not null (for keys the service may omit)."""
        return self.data.get(key) is not None

    def opt_text(self, key: str) -> str | None:
        return self.text(key) if self.optional(key) else None

    def opt_integer(self, key: str) -> int | None:
        return self.integer(key) if self.optional(key) else None

    def opt_obj(self, key: str) -> Reader | None:
        return self.obj(key) if self.optional(key) else None

    def opt_boolean(self, key: str) -> bool | None:
        return self.boolean(key) if self.optional(key) else None

    def text_map(self, key: str) -> dict[str, str]:
        """An optional object of strings (labels, annotations): absent or null is empty."""
        found = self.opt_obj(key)
        if found is None:
            return {}
        return {k: found.text(k) for k in found.data}

    def count(self, key: str) -> int:
        """An integer that counts something (replicas, nodes): never negative."""
        value = self.integer(key)
        if value < 0:
            raise self.error(key, f"{value} is negative, not a count")
        return value

    def opt_count(self, key: str) -> int | None:
        return self.count(key) if self.optional(key) else None

    def opt_objects(self, key: str) -> list[Reader]:
        """A list of objects the service may leave out or answer ``null`` (a Go nil slice)."""
        return self.objects(key) if self.optional(key) else []

    def objects(self, key: str, *, null_is_empty: bool = False) -> list[Reader]:
        """A list of objects; ``null`` only when the caller knows the list is empty."""
        if null_is_empty and key in self.data and self.data[key] is None:
            return []
        values: list[Any] = self._get(key, list, "a list")
        return [Reader(v, self.origin, f"{self._path(key)}[{i}]") for i, v in enumerate(values)]

    def raw(self) -> Mapping[str, Any]:
        value: Mapping[str, Any] = frozen(self.data)
        return value


def put_omitempty(body: dict[str, Any], key: str, value: Any) -> None:
    """Go's ``omitempty``: leave out None, False, 0, "" and empty lists and objects."""
    if value is None or value is False:
        return
    if isinstance(value, str | list | tuple | dict) and not value:
        return
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return
    body[key] = value


def frozen(value: Any) -> Any:
    """A deep read-only copy of parsed JSON: objects become mappings, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(frozen(v) for v in value)
    return value
