"""A kind's field table: one row per YAML key, from which everything else about the key follows.

A kind module declares, on its :class:`~reconciler.kinds.base.Kind` subclass::

    class NamespaceKind(Kind):
        name = "namespace"                    # the address is namespace.NAME
        section = Section("namespaces", "Namespaces", "Image registry namespaces.")
        identity = ("name",)                  # the keys whose values, joined by "/", name it
        title = "Namespace"                   # its JSON Schema's title and description
        summary = "An image registry namespace (address namespace.<name>)."
        fields = (
            Field("name", "Name", "1-65 letters ...", text(NAME_PATTERN), required=True),
            Field("public", "Public", "Whether anyone may pull ...", boolean(), default=False,
                  change=REPLACE, wire="public"),
        )

and the rest is derived from that declaration, never spelled again (Terraform core asks a
provider for its schema and never names an attribute):

- the config section and the address of each entry (``config.items``);
- the kind's JSON Schema and its entry in ``config.schema.json`` (``Kind.json_schema``; the
  published files under ``schemas/`` are written by ``reconciler schema``);
- the spec built from a YAML entry (``build_spec``): declared values with the defaults filled
  in, normalised (``normalize``), keyed by their YAML key, which is also the attribute's name in
  plans, state and ``export``; secrets kept apart as references;
- what a change does (``forces_replacement``, ``change_refusal``, the rotatable secrets), what
  removing a key does (a key with a default goes back to it, one without is no longer managed),
  what must exist first (``dependencies``: the ``refers_to`` fields), the checks that each such
  reference names a declared object, and ``export``'s YAML for a live object
  (``export_entry``);
- the reference tables of docs/configuration.md and the README (``reconciler.kinds.reference``).

A field's columns:

``key``          the YAML key; also the attribute's name in plans, state and export
``title``, ``description``  for editors (the schema's title and description)
``type``         the JSON Schema fragment of a valid value (``text``, ``integer``, ``boolean``,
                 ``choice`` or a literal mapping); the published schema also accepts a variable
                 reference where a value is not free text (see ``variables``)
``required``     the key must be declared
``default``      what a key left out means, and what removing it resets the object to; a key
                 without one is left unmanaged when removed (the plan warns)
``change``       what changing the value does: ``IN_PLACE`` (the kind's ``update``),
                 ``REPLACE`` (the API cannot change it: delete and create), ``CREATE_ONLY``
                 (secrets only: sent when the object is created, never compared after) or
                 ``REFUSED`` (the plan refuses the change, saying ``why``)
``why``          the reason of a refusal, or a note on the change for the reference tables
``secret``       a ``{env: NAME}`` / ``{file: PATH}`` reference, never a value; kept out of the
                 attributes (``IN_PLACE``: compared with state's hash and set again on change)
``read_only``    reported by the API, never declared (absent from the schema)
``wire``         where the API carries the value (``masterConfig.clusterHA``): what the kind's
                 reads and request bodies map the key to, said once beside it
``fields``       a nested mapping's own table (a v1 cluster's ``workers``)
``normalize``    the declared value as compared with the live one (a CIDR's network, a set)
``doc``          the reference table's "format" cell, Markdown (default: the description)
``placeholder``  what ``export`` writes when the API does not report the value (for a secret:
                 the name of the environment variable in ``{env: NAME}``)
``rule``         what the API requires of a secret's value beyond its type, knowable before any
                 request (``value -> problem | None``): the plan refuses a value that breaks it
                 and ``validate --check-secrets`` reports it, with the same words
``refers_to``    the kind whose declared name this value is (a repository's namespace): a
                 dependency, checked to be declared (with a did-you-mean)
``address_only`` part of the address, not an attribute (an instance group's cluster)
``variables``    which ``${var...}`` form the published schema accepts besides the type:
                 ``VARIABLE_STRING`` (text with references) for a pattern or an enum of
                 strings, ``VARIABLE_REF`` (a whole value) for other non-text types, none for
                 free text; ``AUTO`` works it out from ``type``

Not for: reading or changing live objects (the kind's methods) or the rules across entries
that a table cannot say (``Kind.config_problems``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.model import (
    NOWHERE,
    Address,
    Lifecycle,
    Location,
    SecretRef,
    Spec,
)

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
SECRET_REF = "secret-ref.schema.json"
LIFECYCLE_REF = "lifecycle.schema.json"
VARIABLE_REF = "variable-ref.schema.json"  # a whole value: "${var.NAME}"
VARIABLE_STRING = "variable-string.schema.json"  # text with "${var.NAME}" inside
GENERATED = "Generated from reconciler/kinds by `reconciler schema --out schemas`; edit the kind."


class OnChange(StrEnum):
    """What changing a declared value does."""

    IN_PLACE = "in place"
    REPLACE = "replace"
    CREATE_ONLY = "create-only"
    REFUSED = "refused"


IN_PLACE, REPLACE, CREATE_ONLY, REFUSED = (
    OnChange.IN_PLACE,
    OnChange.REPLACE,
    OnChange.CREATE_ONLY,
    OnChange.REFUSED,
)


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()
AUTO = "auto"


@dataclass(frozen=True)
class Field:
    """One YAML key of a kind (see the module docstring for each column)."""

    key: str
    title: str
    description: str
    type: Mapping[str, Any] = field(default_factory=dict)
    required: bool = False
    default: Any = NO_DEFAULT
    change: OnChange = REPLACE
    why: str = ""
    secret: bool = False
    read_only: bool = False
    wire: str = ""
    fields: tuple[Field, ...] = ()
    normalize: Callable[[Any], Any] | None = None
    doc: str = ""
    placeholder: Any = None
    rule: Callable[[str], str | None] | None = None
    refers_to: str = ""
    address_only: bool = False
    variables: str = AUTO  # VARIABLE_REF, VARIABLE_STRING, "" (free text) or AUTO

    def __post_init__(self) -> None:
        if self.change is CREATE_ONLY and not self.secret:
            raise ValueError(f"{self.key}: only a secret is create-only")
        if self.change is REFUSED and not self.why:
            raise ValueError(f"{self.key}: a refused change needs its reason in `why`")
        if self.secret and self.change not in (IN_PLACE, CREATE_ONLY):
            raise ValueError(f"{self.key}: a secret is rotated in place or create-only")
        if self.rule is not None and not self.secret:
            raise ValueError(f"{self.key}: a value rule is for a secret (the schema says the rest)")

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    @property
    def declared(self) -> bool:
        """True when the YAML may hold this key."""
        return not self.read_only

    @property
    def attribute(self) -> bool:
        """True when the value is one of the spec's compared attributes."""
        return not (self.secret or self.read_only or self.address_only)

    @property
    def variable_form(self) -> str:
        """Which variable reference the published schema also accepts here ("": none)."""
        if self.variables != AUTO:
            return self.variables
        if self.secret or self.fields:
            return ""
        if "enum" in self.type:
            return (
                VARIABLE_STRING
                if all(isinstance(o, str) for o in self.type["enum"])
                else (VARIABLE_REF)
            )
        types = self.type.get("type")
        names = types if isinstance(types, list) else [types]
        if "string" in names:
            return VARIABLE_STRING if "pattern" in self.type else ""
        return VARIABLE_REF


@dataclass(frozen=True)
class Section:
    """The YAML list that declares a kind, and how editors describe it."""

    key: str  # "namespaces"
    title: str
    description: str


# --- the type fragments ---------------------------------------------------------------------


def text(pattern: str | None = None, *, min_length: int | None = None) -> dict[str, Any]:
    """A string; with a pattern, also a ``${var...}`` string in the published schema."""
    out: dict[str, Any] = {"type": "string"}
    if pattern is not None:
        out["pattern"] = pattern
    if min_length is not None:
        out["minLength"] = min_length
    return out


def integer(minimum: int | None = None, maximum: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    return out


def boolean() -> dict[str, Any]:
    return {"type": "boolean"}


def choice(*options: str | int) -> dict[str, Any]:
    return {"enum": list(options)}


def with_variables(fragment: Mapping[str, Any], form: str = VARIABLE_STRING) -> dict[str, Any]:
    """``fragment`` or a variable reference: for schemas nested inside a field's type."""
    return {"anyOf": [dict(fragment), {"$ref": form}]}


# --- walking a table ------------------------------------------------------------------------


def walk(fields: Sequence[Field], prefix: str = "") -> Iterator[tuple[str, Field]]:
    """``(dotted path, field)`` for every field, a nested mapping before its own fields."""
    for one in fields:
        path = f"{prefix}{one.key}"
        yield path, one
        yield from walk(one.fields, f"{path}.")


def change_table(fields: Sequence[Field]) -> dict[str, Field]:
    """dotted path -> field, for what a change at that path does."""
    return dict(walk(fields))


def field_at(table: Mapping[str, Field], path: str) -> Field | None:
    """The field that owns ``path``: itself, or the nearest declared parent (``tags.team`` is
    ``tags``)."""
    while path:
        found = table.get(path)
        if found is not None:
            return found
        path = path.rpartition(".")[0]
    return None


# --- YAML -> spec ---------------------------------------------------------------------------


def address_name(identity: Sequence[str], data: Mapping[str, Any]) -> str | None:
    """The name part of the address (``team-a/api``), or None while a key is not a string."""
    if len(identity) == 1:
        name = data.get(identity[0])
        return str(name) if isinstance(name, str) else None
    parts = [data.get(key) for key in identity]
    for part in parts:
        if not isinstance(part, str):
            return None
    return "/".join([str(part) for part in parts])


_UNDECLARED_LIFECYCLE = Lifecycle()


def lifecycle_of(data: Mapping[str, Any]) -> Lifecycle:
    block = data.get("lifecycle")
    if not block:
        return _UNDECLARED_LIFECYCLE
    protect, reconcile = block.get("protect"), block.get("reconcile")
    if protect is None and reconcile is None:
        return _UNDECLARED_LIFECYCLE
    return Lifecycle(protect=protect, reconcile=reconcile)


def secret_ref(data: Mapping[str, Any]) -> SecretRef:
    return SecretRef(env=data.get("env"), file=data.get("file"))


class SpecBuilder:
    """Builds the specs of one kind from valid YAML entries (they passed the schema).

    The table is compiled once into steps, one per declared key: a config of 10,000 entries
    builds 10,000 specs, so the per-entry work is a loop over tuples."""

    def __init__(self, kind: str, identity: Sequence[str], fields: Sequence[Field]) -> None:
        self.kind = kind
        self.identity = tuple(identity)
        self.steps = _steps(fields, "")

    def build(self, data: Mapping[str, Any], location: Location = NOWHERE) -> Spec:
        secrets: dict[str, SecretRef] = {}
        attrs = _attributes(self.steps, data, secrets)
        identity = self.identity
        name = data[identity[0]] if len(identity) == 1 else "/".join([data[k] for k in identity])
        return Spec(Address(self.kind, name), attrs, secrets, lifecycle_of(data), location)


# A step: (key, what it is, its secret path, its default, its normalisation, a mapping's steps).
_PLAIN, _SECRET, _NESTED = 0, 1, 2
_Step = tuple[str, int, str, Any, Callable[[Any], Any] | None, tuple[Any, ...]]


def _steps(fields: Sequence[Field], prefix: str) -> tuple[_Step, ...]:
    steps: list[_Step] = []
    for one in fields:
        if not one.declared or one.address_only:
            continue
        mode = _SECRET if one.secret else _NESTED if one.fields else _PLAIN
        inner = _steps(one.fields, f"{prefix}{one.key}.") if one.fields else ()
        steps.append((one.key, mode, prefix + one.key, one.default, one.normalize, inner))
    return tuple(steps)


def _attributes(
    steps: tuple[_Step, ...], data: Mapping[str, Any], secrets: dict[str, SecretRef]
) -> dict[str, Any]:
    """The declared values with defaults filled in and normalised; undeclared values without a
    default, and empty mappings, are left out (they are not compared). ``data`` passed the
    schema: no value is null."""
    attrs: dict[str, Any] = {}
    get = data.get
    for key, mode, path, default, normalize, inner in steps:
        value = get(key, default)
        if value is NO_DEFAULT:
            continue
        if mode == _SECRET:
            secrets[path] = secret_ref(value)
            continue
        if mode == _NESTED:
            value = _attributes(inner, value, secrets)
        if normalize is not None:
            value = normalize(value)
        if value.__class__ is dict and not value:
            continue
        attrs[key] = value
    return attrs


# --- live object -> YAML (export) -----------------------------------------------------------


def export_values(
    fields: Sequence[Field],
    attrs: Mapping[str, Any],
    identity: Mapping[str, str],
) -> dict[str, Any]:
    """The YAML mapping that declares an object with these live attributes: every declared
    key the API reported (empty optional values left out), ``placeholder`` where it did not,
    ``{env: NAME}`` for a secret with a placeholder, and address-only keys from ``identity``."""
    entry: dict[str, Any] = {}
    for one in fields:
        if not one.declared:
            continue
        if one.address_only:
            entry[one.key] = identity[one.key]
            continue
        if one.secret:
            if one.placeholder is not None:
                entry[one.key] = {"env": one.placeholder}
            continue
        value = attrs.get(one.key)
        if one.fields and isinstance(value, Mapping):
            value = export_values(one.fields, value, identity) or None
        if _empty(value):
            if one.placeholder is None:
                continue
            value = one.placeholder
        entry[one.key] = value
    return entry


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | Mapping | list | tuple) and not value)


# --- JSON Schema ----------------------------------------------------------------------------

LIFECYCLE_PROPERTY = {
    "$ref": LIFECYCLE_REF,
    "title": "Lifecycle",
    "description": "Protection against deletion and replacement.",
}


def object_schema(fields: Sequence[Field], *, lifecycle: bool = False) -> dict[str, Any]:
    """``type: object`` with one property per declared field, unknown keys refused."""
    declared = [f for f in fields if f.declared]
    out: dict[str, Any] = {"type": "object", "additionalProperties": False}
    required = [f.key for f in declared if f.required]
    if required:
        out["required"] = required
    properties = {f.key: property_schema(f) for f in declared}
    if lifecycle:
        properties["lifecycle"] = dict(LIFECYCLE_PROPERTY)
    out["properties"] = properties
    return out


def property_schema(one: Field) -> dict[str, Any]:
    if one.secret:
        return {"$ref": SECRET_REF, "title": one.title, "description": one.description}
    out: dict[str, Any] = {"title": one.title, "description": one.description}
    if one.has_default:
        out["default"] = one.default
    if one.fields:
        out.update(object_schema(one.fields))
    elif one.variable_form:
        out["anyOf"] = [dict(one.type), {"$ref": one.variable_form}]
    else:
        out.update(one.type)
    return out


def kind_schema(
    file_name: str, title: str, summary: str, fields: Sequence[Field]
) -> dict[str, Any]:
    """The JSON Schema of one entry of a kind's section."""
    return {
        "$schema": JSON_SCHEMA,
        "$id": file_name,
        "$comment": GENERATED,
        "title": title,
        "description": summary,
        **object_schema(fields, lifecycle=True),
    }


def section_schema(section: Section, file_name: str) -> dict[str, Any]:
    """The kind's entry in ``config.schema.json``: a list of entries (or nothing)."""
    return {
        "title": section.title,
        "description": section.description,
        "type": ["array", "null"],
        "items": {"$ref": file_name},
    }
