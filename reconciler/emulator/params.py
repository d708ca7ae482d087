"""Reading typed values out of a request (JSON body, query string), the way a service does.

For: every service's one place that says "wrong JSON type". A :class:`Reader` is a service's
dialect: which error a value of the wrong type gets, which error a body that is not a JSON
object gets, and whether keys are matched like Go's ``encoding/json`` (the exact key, else one
that differs only in case). Unknown fields are ignored, as BCE services do. ``None`` means
absent or ``null``. :data:`BCE_JSON` is the BCE v1 services' dialect (``InappropriateJSON``,
``MalformedJSON``, exact keys, an empty body is ``{}``).
Not for: whether a value is allowed (the models decide, with their service's codes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ErrorAnswer
from .paging import NumberedPage, NumberedPaging

Json = Mapping[str, Any]
MakeError = Callable[[str], ErrorAnswer]  # detail -> the answer


@dataclass(frozen=True)
class Reader:
    wrong_type: MakeError  # a value of the wrong JSON type (or a query value that is no number)
    malformed: MakeError  # a body that does not parse as JSON
    fold_case: bool = False  # Go's encoding/json: the exact key, else a case-insensitive match
    strict_body: bool = False  # an empty or non-object body is malformed (not ``{}``/wrong type)

    # -- the body ------------------------------------------------------------------------

    def body(self, raw: bytes) -> Json:
        """The body as a JSON object."""
        if not raw.strip():
            if self.strict_body:
                raise self.malformed("the body must be a JSON object")
            return {}
        try:
            data = json.loads(raw)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
            raise self.malformed("") from None
        if self.strict_body and not isinstance(data, Mapping):
            raise self.malformed("the body must be a JSON object")
        return self.obj(data)

    # -- values of a JSON object ---------------------------------------------------------

    def value(self, data: Json, key: str) -> Any:
        if key in data or not self.fold_case:
            return data.get(key)
        lower = key.lower()
        return next((v for k, v in data.items() if k.lower() == lower), None)

    def obj(self, value: Any, what: str = "") -> Json:
        """``value`` as an object; absent counts as ``{}``."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.wrong_type(f"{what} must be an object" if what else "expected a JSON object")
        return value

    def element(self, value: Any, what: str) -> Json:
        """A list element that must be an object (``null`` is not one)."""
        if not isinstance(value, Mapping):
            raise self.wrong_type(f"{what} must be an object")
        return value

    def opt_obj(self, data: Json, key: str, where: str = "") -> Json | None:
        value = self.value(data, key)
        return None if value is None else self.obj(value, f"{where}{key}")

    def section(self, data: Json, key: str, where: str = "") -> dict[str, Any]:
        """A nested object as a new dict; absent is empty."""
        return dict(self.opt_obj(data, key, where) or {})

    def opt_str(self, data: Json, key: str, where: str = "") -> str | None:
        return self._typed(data, key, where, str, "a string")

    def opt_bool(self, data: Json, key: str, where: str = "") -> bool | None:
        return self._typed(data, key, where, bool, "a boolean")

    def opt_int(self, data: Json, key: str, where: str = "") -> int | None:
        value = self.value(data, key)
        if isinstance(value, bool):
            raise self.wrong_type(f"{where}{key} must be an integer")
        return self._typed(data, key, where, int, "an integer")

    def opt_list(self, data: Json, key: str, where: str = "") -> list[Any] | None:
        return self._typed(data, key, where, list, "a list")

    def opt_code(self, data: Json, key: str, where: str = "") -> str | None:
        """A code sent as a string or as a number (``instanceType``: ``"10"`` or ``10``)."""
        value = self.value(data, key)
        if isinstance(value, bool) or not isinstance(value, str | int | None):
            raise self.wrong_type(f"{where}{key} must be a string or a number")
        return None if value is None else str(value)

    def text(self, data: Json, key: str, default: str = "", where: str = "") -> str:
        value = self.opt_str(data, key, where)
        return default if value is None else value

    def number(self, data: Json, key: str, default: int = 0, where: str = "") -> int:
        value = self.opt_int(data, key, where)
        return default if value is None else value

    def items(self, data: Json, key: str, where: str = "") -> list[Any]:
        """A list; absent is empty."""
        return self.opt_list(data, key, where) or []

    def object_list(self, data: Json, key: str, where: str = "") -> list[Json]:
        """A list of objects; absent is empty."""
        return [self.obj(item, f"{where}{key}[]") for item in self.items(data, key, where)]

    def strings(self, data: Json, key: str, where: str = "") -> list[str]:
        """A list of strings; absent is empty."""
        values = self.items(data, key, where)
        if not all(isinstance(v, str) for v in values):
            raise self.wrong_type(f"{where}{key} must be a list of strings")
        return values

    def _typed(self, data: Json, key: str, where: str, kind: type[Any], what: str) -> Any:
        value = self.value(data, key)
        if value is not None and not isinstance(value, kind):
            raise self.wrong_type(f"{where}{key} must be {what}")
        return value

    # -- the query string ----------------------------------------------------------------

    def int_arg(self, args: Mapping[str, str], key: str) -> int | None:
        value = args.get(key)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except ValueError:
            raise self.wrong_type(f"{key} must be an integer") from None

    def bool_arg(self, args: Mapping[str, str], *keys: str) -> bool:
        """A flag sent as ``true``/``false`` (absent is false); the first key present wins."""
        value = next((args.get(key) for key in keys if args.get(key) is not None), None)
        if not value:
            return False
        if value.lower() not in ("true", "false"):
            raise self.wrong_type(f"{keys[0]} must be true or false")
        return value.lower() == "true"

    def numbered_page(self, args: Mapping[str, str], paging: NumberedPaging) -> NumberedPage:
        """``pageNo`` / ``pageSize`` read by the service's paging rule."""
        page_no, page_size = self.int_arg(args, "pageNo"), self.int_arg(args, "pageSize")
        if (page_no or 0) < 0 or (page_size or 0) < 0:
            raise self.wrong_type("pageNo and pageSize must not be negative")
        return paging.page(page_no, page_size)


BCE_JSON = Reader(
    wrong_type=lambda detail: ErrorAnswer("InappropriateJSON", detail),
    malformed=lambda detail: ErrorAnswer("MalformedJSON", detail),
)
