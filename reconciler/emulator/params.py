"""Reading typed values out of a JSON request body, BCE style.

For: the one place that says "wrong JSON type" (``InappropriateJSON``); unknown fields are
ignored, as BCE services do. ``None`` means absent or ``null``.
Not for: whether a value is allowed (the models decide, with their own codes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .error_answer import ErrorAnswer

Json = Mapping[str, Any]


def obj(value: Any) -> Json:
    """The body (or a nested value) as an object; an empty body counts as ``{}``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ErrorAnswer("InappropriateJSON", "expected a JSON object")
    return value


def opt_obj(body: Json, key: str) -> Json | None:
    value = body.get(key)
    return None if value is None else obj(value)


def opt_str(body: Json, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ErrorAnswer("InappropriateJSON", f"{key} must be a string")
    return value


def opt_bool(body: Json, key: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise ErrorAnswer("InappropriateJSON", f"{key} must be a boolean")
    return value


def opt_int(body: Json, key: str) -> int | None:
    value = body.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ErrorAnswer("InappropriateJSON", f"{key} must be an integer")
    return value


def opt_list(body: Json, key: str) -> list[Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, list):
        raise ErrorAnswer("InappropriateJSON", f"{key} must be a list")
    return value


def opt_code(body: Json, key: str) -> str | None:
    """A code sent as a string or as a number (``instanceType``: ``"10"`` or ``10``)."""
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | None):
        raise ErrorAnswer("InappropriateJSON", f"{key} must be a string or a number")
    return None if value is None else str(value)


def text(body: Json, key: str, default: str = "") -> str:
    value = opt_str(body, key)
    return default if value is None else value


def number(body: Json, key: str, default: int = 0) -> int:
    value = opt_int(body, key)
    return default if value is None else value


def object_list(body: Json, key: str) -> list[Json]:
    """A list of objects; absent is empty."""
    return [obj(item) for item in opt_list(body, key) or []]
