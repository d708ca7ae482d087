"""The URL table of every mounted service: (method, path) -> service, endpoint, variables.

For: matching a request to an endpoint, saying which requests mutate (for the request log
and the "commit then drop the response" fault), and the version check: a path under one of the
services' prefixes that no rule matches is ``InvalidURI``; any other path is
``InvalidVersion``. Two services declaring the same rule is an error when the table is built.
Not for: the admin endpoints (see :mod:`.admin`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from .errors import ErrorAnswer
from .service import MUTATING_METHODS, Endpoint, Mounted

_VARIABLE = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Route:
    key: str  # names the matched rule (cache keys); "" when none matched
    mounted: Mounted[Any] | None
    endpoint: Endpoint[Any] | None  # None: no rule matches
    variables: Mapping[str, str]
    mutating: bool


class Router:
    def __init__(self, mounted: Sequence[Mounted[Any]]) -> None:
        self._targets: dict[str, tuple[Mounted[Any], Endpoint[Any]]] = {}
        rules, shapes = [], set()
        for one in mounted:
            for prefix in one.service.prefixes:
                for endpoint in one.service.endpoints:
                    key = f"{endpoint.method} {prefix}{endpoint.path}"
                    shape = _VARIABLE.sub("<>", key)
                    if shape in shapes:
                        raise ValueError(f"{one.service.name}: {key} is already served")
                    shapes.add(shape)
                    self._targets[key] = (one, endpoint)
                    rules.append(
                        Rule(prefix + endpoint.path, methods=[endpoint.method], endpoint=key)
                    )
        self._adapter = Map(rules, strict_slashes=False, merge_slashes=False).bind("emulator")
        self._prefixes = tuple({p for one in mounted for p in one.service.prefixes})

    def match(self, method: str, path: str) -> Route:
        """The route for a request; an unmatched one mutates unless it is a GET."""
        try:
            key, variables = self._adapter.match(path, method=method)
        except HTTPException:  # NotFound, MethodNotAllowed, RequestRedirect
            return Route("", None, None, {}, method.upper() in MUTATING_METHODS)
        mounted, endpoint = self._targets[key]
        return Route(key, mounted, endpoint, variables, endpoint.mutating)

    def check_version(self, path: str) -> None:
        if not any(path == p or path.startswith(p + "/") for p in self._prefixes):
            raise ErrorAnswer("InvalidVersion")
