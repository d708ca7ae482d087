"""A configuration file as read: its values, where each value and key starts, and its problems.

For: the records both YAML readers make (:class:`Document`, :class:`Diagnostic`,
:class:`LoadError`) and the helpers that place a problem in a file. Not for: reading YAML
(``reconciler.config.yamlload`` reads plain block YAML itself and hands any other file to the
full loader, ``reconciler.config.yamlfull``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any

from reconciler.model import Location
from reconciler.records import frozen_record

JsonPath = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column

EMPTY_CONFIG = (
    "file is empty: expected a mapping with target, users, namespaces, repositories or clusters"
)


@frozen_record(order=True)
class Diagnostic:
    """One problem; ``line == 0`` means the whole path (it does not exist, holds no YAML ...).

    ``severity`` is ``error`` (the configuration is refused) or ``warning`` (it is not).
    """

    path: str
    line: int = 0
    column: int = 0
    message: str = field(default="")
    severity: str = field(default="error")

    @classmethod
    def at(cls, location: Location, message: str, severity: str = "error") -> Diagnostic:
        return cls(location.path, location.line, location.column, message, severity)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


class LoadError(Exception):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(map(str, diagnostics)))
        self.diagnostics = diagnostics


@frozen_record
class Document:
    """A file's top-level mapping and where each of its values and keys starts.

    Positions are kept as ``(line, column)`` pairs and become a :class:`Location` only when
    asked for: a large file has hundreds of thousands of them and few are ever shown.
    """

    path: str
    data: dict[str, Any]
    values: Mapping[JsonPath, Position]
    keys: Mapping[JsonPath, Position]
    templates: tuple[JsonPath, ...] = ()  # strings holding "${", in file order

    def value_at(self, jpath: JsonPath) -> Location:
        """The node at ``jpath``, or its nearest ancestor that exists."""
        found = self.values.get(jpath)
        if found is not None:
            return Location(self.path, *found)
        for end in range(len(jpath) - 1, -1, -1):
            found = self.values.get(jpath[:end])
            if found is not None:
                return Location(self.path, *found)
        return Location(self.path, 1, 1)

    def key_at(self, jpath: JsonPath) -> Location:
        """The key node of the mapping entry at ``jpath`` (the value for a list element)."""
        found = self.keys.get(jpath)
        return Location(self.path, *found) if found is not None else self.value_at(jpath)


def fail(path: str, line: int, column: int, message: str) -> LoadError:
    """One problem at ``path:line:column``, ready to raise."""
    return LoadError([Diagnostic(path, line, column, message)])


def text_position(text: str, offset: int) -> Position:
    """The 1-based line and column of ``offset`` in ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1
