"""The resource entries of the configuration files, and how to name one in a message.

For: :class:`Item`, one entry of one file with its position, found under the section of its
kind; the sections and the keys that make up an address come from the kinds' declarations
(``reconciler.kinds``: ``Kind.section``, ``Kind.identity``).
Not for: checking the entries (``validation``, ``checks``) or building specs (``specs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from reconciler.config.yamlload import Document, JsonPath
from reconciler.kinds import kind_named, sections
from reconciler.kinds.fields import address_name
from reconciler.model import Location


def kind_of_section(section: str) -> str | None:
    """The kind a top-level key declares (None: it declares none)."""
    kind = sections().get(section)
    return kind.name if kind is not None else None


def declared_kinds(documents: list[Document]) -> set[str]:
    """The kinds ``documents`` declare at least one entry of (a section that is a non-empty
    list), before any check: each entry of a valid configuration is a resource of its kind."""
    return {
        kind
        for document in documents
        for section, entries in document.data.items()
        if isinstance(entries, list) and entries and (kind := kind_of_section(section))
    }


def declared_names(documents: list[Document], kind: str) -> list[str]:
    """The address names of ``kind``'s entries in ``documents`` whose keys are strings, before
    any check (a plan's early refresh expects the registry user the files declare)."""
    wanted = kind_named(kind)
    return [
        name
        for document in documents
        for section, declaring in sections().items()
        if declaring is wanted and isinstance(entries := document.data.get(section), list)
        for entry in entries
        if isinstance(entry, dict) and (name := address_name(wanted.identity, entry)) is not None
    ]


def identity_keys(kind: str) -> tuple[str, ...]:
    return kind_named(kind).identity


class Item(NamedTuple):
    """One entry of a resource list, e.g. ``namespaces[2]`` of one file, and its ``identity``:
    the name part of its address (``team-a/api`` for a repository), None while not well
    formed. A tuple: a configuration of 100,000 entries makes 100,000 of them."""

    kind: str
    document: Document
    jpath: JsonPath
    data: dict[str, Any]
    identity: str | None

    def at(self, *sub: str | int) -> Location:
        return self.document.value_at((*self.jpath, *sub))

    @property
    def label(self) -> str:
        """``namespace "team-a"``, or just the kind while the entry has no well-formed name."""
        return self.kind if self.identity is None else f'{self.kind} "{self.identity}"'


def identity(kind: str, data: Mapping[str, Any]) -> str | None:
    """The name part of the address (``team-a/api`` for a repository), if well formed."""
    return address_name(kind_named(kind).identity, data)


def label(kind: str, data: Any) -> str:
    """``namespace "team-a"``, or just the kind while the entry has no well-formed name."""
    name = identity(kind, data) if isinstance(data, dict) else None
    return kind if name is None else f'{kind} "{name}"'


def items_of(document: Document) -> list[Item]:
    found: list[Item] = []
    new = tuple.__new__  # Item(...) without its Python-level __new__: one per entry adds up
    for section, kind in sections().items():
        entries = document.data.get(section)
        if isinstance(entries, list):
            name, keys = kind.name, kind.identity
            found.extend(
                new(Item, (name, document, (section, index), entry, address_name(keys, entry)))
                for index, entry in enumerate(entries)
                if isinstance(entry, dict)
            )
    return found
