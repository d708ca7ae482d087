"""Each file against the JSON Schema, remembering where the errors are.

For: :class:`Checked`, which runs every document through the fast check and, when that is not
sure, through jsonschema; it words each error once (``messages``) and keeps where errors were
found, so that the semantic checks skip values already reported as malformed.
Not for: the schemas themselves (``schema``) or the rules across files (``checks``).
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.config.fastpath import fast_check
from reconciler.config.items import Item, items_of
from reconciler.config.messages import schema_diagnostics
from reconciler.config.schema import validator
from reconciler.config.yamlload import Diagnostic, Document, JsonPath
from reconciler.kinds import kind_named


class Checked:
    """The documents' resource entries, and which entries or sections failed the schema; what
    a kind's ``config_problems`` looks at (``kinds.base.ConfigView``)."""

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        self.items = [item for document in documents for item in items_of(document)]
        self.errors: set[tuple[str, JsonPath]] = set()
        self.around_errors: set[tuple[str, JsonPath]] = set()
        self._by_kind: dict[str, list[Item]] = {}
        for item in self.items:
            self._by_kind.setdefault(item.kind, []).append(item)

    def schema_errors(self, document: Document) -> list[Diagnostic]:
        found: list[Diagnostic] = []
        fast = fast_check()
        if fast is not None and fast(document.data):
            return found
        seen: set[tuple[JsonPath, str]] = set()
        for error in validator().iter_errors(document.data):
            jpath = tuple(error.absolute_path)
            self.errors.add((document.path, jpath))
            self.around_errors.update((document.path, jpath[:end]) for end in range(len(jpath) + 1))
            if (jpath, str(error.validator)) not in seen:
                seen.add((jpath, str(error.validator)))
                found.extend(schema_diagnostics(document, jpath, error))
        return found

    def clean(self, item: Item, *sub: str | int) -> bool:
        """No schema error at the item's value ``sub``, inside it, or at any of its parents."""
        path, jpath = item.document.path, (*item.jpath, *sub)
        if (path, jpath) in self.around_errors:
            return False
        return not any((path, jpath[:end]) in self.errors for end in range(len(jpath)))

    def valid(self, item: Item, *sub: str | int) -> bool:
        """No schema error at the item's value ``sub`` or inside it. Unlike :meth:`clean`, an
        error about the entry as a whole (a missing or an unknown key) does not count: it says
        nothing about this value."""
        return (item.document.path, (*item.jpath, *sub)) not in self.around_errors

    def items_of(self, kind: str) -> Sequence[Item]:
        return self._by_kind.get(kind, [])

    def section_of(self, kind: str) -> str:
        return kind_named(kind).config_section

    def section_broken(self, section: str) -> bool:
        return any(jpath == (section,) for _, jpath in self.errors)
