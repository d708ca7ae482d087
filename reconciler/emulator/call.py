"""What a handler receives: its service's model, the query, the path variables and the body.

For: keeping handlers free of WSGI details: they read ``call.arg(...)``, ``call.json()``,
``call.page()`` (marker paging), ``call.numbered_page(...)``, typed values through
``call.read`` (the service's :class:`.params.Reader`), and return a JSON-able dict (or ``None``
for an empty 200).
Not for: authentication, faults or serialisation (see :mod:`.app`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .paging import NumberedPage, NumberedPaging, PageRequest, page_request
from .params import BCE_JSON, Json, Reader

M = TypeVar("M")
Reply = dict[str, Any] | None


@dataclass(frozen=True)
class Call(Generic[M]):
    model: M
    args: Mapping[str, str]
    body: bytes = b""
    path: Mapping[str, str] = field(default_factory=dict)
    read: Reader = BCE_JSON

    def arg(self, key: str) -> str | None:
        return self.args.get(key)

    def has_flag(self, key: str) -> bool:
        """``?scalingUp`` style keys, which carry no value."""
        return key in self.args

    def json(self) -> Json:
        """The body as a JSON object (what an empty one is depends on the service)."""
        return self.read.body(self.body)

    def int_arg(self, key: str) -> int | None:
        return self.read.int_arg(self.args, key)

    def bool_arg(self, *keys: str) -> bool:
        return self.read.bool_arg(self.args, *keys)

    def page(self) -> PageRequest:
        """Marker paging: ``marker`` (or the Go SDK's ``maker``) and ``maxKeys``."""
        marker = self.args.get("marker", self.args.get("maker"))
        return page_request(marker, self.args.get("maxKeys"))

    def numbered_page(self, paging: NumberedPaging) -> NumberedPage:
        return self.read.numbered_page(self.args, paging)


Handler = Callable[[Call[M]], Reply]
