"""``${var.NAME}`` in the configuration: each reference replaced by its variable's value.

For: rewriting the strings of a document that hold ``${`` (``Document.templates``, found while
reading) before the schema sees them. ``"${var.workers}"`` alone becomes the value itself, with
its type; inside text (``"shop-${var.env}"``) the value is written in (a string, number or
boolean; a list or map cannot be); ``$${`` is a literal ``${``. A value is inserted as it is,
never expanded again. Positions stay those of the string, so a problem found later points at
the use, and :meth:`Expansion.explain` says which variable the value came from and drops what
follows from a reference already reported. Mapping keys and the ``variables:`` blocks are
never expanded.
Not for: declarations and values (``variables``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Iterable
from dataclasses import replace
from typing import Any

from reconciler.config.messages import show
from reconciler.config.variables import Value, Variables
from reconciler.config.yamlload import Diagnostic, Document, JsonPath

LITERAL_SECTIONS = frozenset({"variables"})
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)(\}?)")  # an escaped "$${", or a reference
_WHOLE = re.compile(r"\$\{var\.([A-Za-z_][A-Za-z0-9_]*)\}\Z")
_INNER = re.compile(r"var\.([A-Za-z_][A-Za-z0-9_]*)\Z")

Spot = tuple[str, int, int]  # path, line, column of a diagnostic or a use


class _Unusable(Exception):
    """A reference that cannot be expanded; ``message`` is None when already reported."""

    def __init__(self, message: str | None) -> None:
        super().__init__(message)
        self.message = message


class Expansion:
    """Expands documents one by one, remembering each use and each unusable reference."""

    def __init__(self, variables: Variables, *, report_undeclared: bool = True) -> None:
        self.variables = variables
        self.report_undeclared = report_undeclared
        self.origins: dict[Spot, list[str]] = {}
        self.unusable: set[Spot] = set()
        self.problems: list[Diagnostic] = []

    def document(self, document: Document, *, only: Collection[str] | None = None) -> Document:
        """``document`` with its references expanded (in place: it comes fresh from the file),
        outside the ``variables:`` block and, when ``only`` is given, inside those sections."""
        for jpath in document.templates:
            section = str(jpath[0])
            if section in LITERAL_SECTIONS or (only is not None and section not in only):
                continue
            self._expand(document, jpath)
        return replace(document, templates=())

    def explain(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        """Name the variables behind a value found wrong, and drop the consequences of a
        reference that could not be expanded (it is reported once, at the reference)."""
        explained = []
        for diagnostic in diagnostics:
            spot = (diagnostic.path, diagnostic.line, diagnostic.column)
            if spot in self.unusable:
                continue
            uses = self.origins.get(spot)
            if uses:
                diagnostic = replace(
                    diagnostic, message=f"{diagnostic.message} ({', '.join(uses)})"
                )
            explained.append(diagnostic)
        return explained

    def _expand(self, document: Document, jpath: JsonPath) -> None:
        parent: Any = document.data
        for part in jpath[:-1]:
            parent = parent[part]
        where = document.value_at(jpath)
        spot = (where.path, where.line, where.column)
        try:
            value, used = self._render(parent[jpath[-1]])
        except _Unusable as exc:
            self.unusable.add(spot)
            if exc.message:
                self.problems.append(Diagnostic.at(where, exc.message))
            return
        parent[jpath[-1]] = value
        uses = self.origins.setdefault(spot, [])
        for name in used:
            origin = f'variable "{name}" from {self.variables.values[name].origin}'
            if origin not in uses:
                uses.append(origin)

    def _render(self, text: str) -> tuple[Any, list[str]]:
        whole = _WHOLE.match(text)
        if whole:
            name = whole.group(1)
            return copy.deepcopy(self._value(name).value), [name]
        pieces: list[str] = []
        used: list[str] = []
        end = 0
        for token in _TOKEN.finditer(text):
            pieces.append(text[end : token.start()])
            end = token.end()
            if token.group(1) is None:
                pieces.append("${")
                continue
            name = self._name(token)
            pieces.append(_as_text(name, self._value(name).value))
            used.append(name)
        pieces.append(text[end:])
        return "".join(pieces), used

    def _name(self, token: re.Match[str]) -> str:
        inner = _INNER.match(token.group(1))
        if inner is None or not token.group(2):
            raise _Unusable(
                f"invalid reference {show(token.group(0))}: expected ${{var.NAME}} "
                "(write $${ for a literal ${)"
            )
        return inner.group(1)

    def _value(self, name: str) -> Value:
        variables = self.variables
        if name not in variables.declarations:
            raise _Unusable(variables.undeclared(name) if self.report_undeclared else None)
        value = variables.values.get(name)
        if value is None or name in variables.broken:
            raise _Unusable(None)  # the declaration or the value is reported already
        return value


def _as_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise _Unusable(
        f'variable "{name}" is {show(value)}: only a string, number or boolean can be put '
        f'inside text; use "${{var.{name}}}" alone as the whole value'
    )
