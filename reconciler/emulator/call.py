"""What a handler receives: the model, the query, the route's variables and the raw body.

For: keeping handlers free of WSGI details: they read ``call.arg(...)``, ``call.json()``,
``call.page()`` and return a JSON-able dict (or ``None`` for an empty 200).
Not for: authentication, faults or serialisation (see :mod:`.app`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .error_answer import ErrorAnswer
from .models import Model
from .paging import PageRequest, page_request
from .params import Json, obj

Reply = dict[str, Any] | None


@dataclass(frozen=True)
class Call:
    model: Model
    args: Mapping[str, str]
    body: bytes = b""
    path: Mapping[str, str] = field(default_factory=dict)

    def arg(self, key: str) -> str | None:
        return self.args.get(key)

    def has_flag(self, key: str) -> bool:
        """``?scalingUp`` style keys, which carry no value."""
        return key in self.args

    def json(self) -> Json:
        """The body as a JSON object; an empty body is ``{}``."""
        if not self.body.strip():
            return {}
        try:
            return obj(json.loads(self.body))
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
            raise ErrorAnswer("MalformedJSON") from None

    def page(self) -> PageRequest:
        """``marker`` (or the Go SDK's ``maker``) and ``maxKeys``."""
        marker = self.args.get("marker", self.args.get("maker"))
        return page_request(marker, self.args.get("maxKeys"))


Handler = Callable[[Call], Reply]
