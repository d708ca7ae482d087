"""A kind declared by its field table (:mod:`reconciler.kinds.fields`), on the :class:`Kind`
interface: the CCR Enterprise kinds.

For: deriving from one declaration (``section``, ``identity``, ``title``, ``summary``,
``fields``) what other kinds write by hand: the spec built from a YAML entry (a generic
:class:`~reconciler.model.Spec`), ``desired_attrs``, ``secret_refs``, the fields that force a
replacement, the rotatable secrets, ``dependencies`` on the objects a field refers to, the JSON
Schema of an entry and ``export``'s YAML. A table kind overrides only what its API needs more.
Not for: reading or changing live objects (each kind's module).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from reconciler.kinds.base import Kind, LiveObject
from reconciler.kinds.fields import (
    IN_PLACE,
    REPLACE,
    Field,
    Section,
    SpecBuilder,
    change_table,
    export_values,
    field_at,
    kind_schema,
    section_schema,
    walk,
)
from reconciler.model import NOWHERE, Address, DesiredState, Location, SecretRef, Spec


class TableKind(Kind):
    """The behaviour a field table implies; a kind module declares the table."""

    spec_type = Spec
    section: ClassVar[Section]
    identity: ClassVar[tuple[str, ...]] = ("name",)
    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()
    _changes: ClassVar[dict[str, Field]]
    _builder: ClassVar[SpecBuilder]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return
        cls.config_section = cls.section.key
        cls._changes = change_table(cls.fields)
        cls._builder = SpecBuilder(cls.name, cls.identity, cls.fields)
        cls.replace_fields = frozenset(p for p, f in walk(cls.fields) if f.change is REPLACE)
        cls.rotatable_secrets = frozenset(
            p for p, f in walk(cls.fields) if f.secret and f.change is IN_PLACE
        )

    # --- the declaration, derived ----------------------------------------------------------

    @property
    def schema_file(self) -> str:
        """``ccr-project.schema.json``."""
        return self.name.replace("_", "-") + ".schema.json"

    def json_schema(self) -> dict[str, Any]:
        return kind_schema(self.schema_file, self.title, self.summary, self.fields)

    def section_schema(self) -> dict[str, Any]:
        return section_schema(self.section, self.schema_file)

    def build_spec(self, data: Mapping[str, Any], location: Location = NOWHERE) -> Spec:
        return self._builder.build(data, location)

    def field_at(self, path: str) -> Field | None:
        return field_at(self._changes, path)

    def identity_of(self, address: Address) -> dict[str, str]:
        """The identity keys' values of an address; the last may hold "/"."""
        parts = address.name.split("/", len(self.identity) - 1)
        return dict(zip(self.identity, parts, strict=False))

    # --- planning ----------------------------------------------------------------------------

    def desired_attrs(self, spec: Spec) -> dict[str, Any]:
        return dict(spec.attrs)

    def secret_refs(self, spec: Spec) -> dict[str, SecretRef]:
        return dict(spec.secrets)

    def forces_replacement(self, path: str) -> bool:
        found = self.field_at(path)
        return found is not None and found.change is REPLACE

    def dependencies(self, spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
        """The declared objects its fields refer to (``Field.refers_to``)."""
        values = {**self.identity_of(spec.address), **spec.attrs}
        wanted = (
            Address(one.refers_to, str(values[one.key]))
            for one in self.fields
            if one.refers_to and one.key in values
        )
        return tuple(a for a in wanted if a in desired.resources)

    def export_entry(self, live: LiveObject) -> dict[str, Any] | None:
        return export_values(self.fields, live.attrs, self.identity_of(live.address))
