"""A compiled "surely valid" check of a configuration file, for speed.

jsonschema spends ~50 us per resource walking the schemas (a third of a 10,000-resource plan).
A document that is valid needs no error messages, so the schemas are also compiled into plain
checks that answer "surely valid" (True) or "not sure" (False, jsonschema then decides and
explains). Sound by construction: a keyword not handled below disables the fast path as a
whole, and every check is at most as permissive as jsonschema's.

Not for: error messages (``messages``), or deciding validity alone (``validation`` always asks
jsonschema when this says "not sure").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from reconciler import kinds
from reconciler.config.schema import ROOT_SCHEMA, TARGET_SCHEMA, checked_schemas, compiled_pattern

Check = Callable[[Any], bool]
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default"})
_JSON_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


_PATTERNS = "patternProperties"


class _Unsupported(Exception):
    """The schemas use a keyword the fast path does not know: use jsonschema alone."""


def fast_check() -> Check | None:
    """The compiled check of one file, or None when the schemas use an unknown keyword."""
    return _fast_check(kinds.generation())


def fast_target_check() -> Check | None:
    """The compiled check of a ``target`` value alone (``target.schema.json``), or None."""
    return _fast_check(kinds.generation(), TARGET_SCHEMA)


@functools.cache
def _fast_check(generation: int, root: str = ROOT_SCHEMA) -> Check | None:
    schemas = {schema["$id"]: schema for schema in checked_schemas().values()}
    try:
        return _SchemaCompiler(schemas).ref(root)
    except _Unsupported:
        return None


class _SchemaCompiler:
    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self.compiled: dict[str, Check] = {}
        self.compiling: set[str] = set()

    def compile(self, schema: Any) -> Check:
        if isinstance(schema, bool):
            return (lambda _v: True) if schema else (lambda _v: False)
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema))
        fused = _fused(self, schema)
        if fused is not None:
            return fused
        checks = [self._keyword(schema, key) for key in schema if key not in _ANNOTATIONS]
        return _every([check for check in checks if check is not None])

    def ref(self, target: str) -> Check:
        if target not in self.schemas or target in self.compiling:
            raise _Unsupported(target)  # unknown, or a cycle
        if target not in self.compiled:
            self.compiling.add(target)
            self.compiled[target] = self.compile(self.schemas[target])
            self.compiling.discard(target)
        return self.compiled[target]

    def _keyword(self, schema: dict[str, Any], key: str) -> Check | None:
        arg = schema[key]
        if key == "additionalProperties" and ("properties" in schema or _PATTERNS in schema):
            return None  # checked with "properties" / "patternProperties"
        if key == _PATTERNS and "properties" in schema:
            return None  # checked with "properties"
        builder = _KEYWORDS.get(key)
        if builder is None:
            raise _Unsupported(key)
        return builder(self, schema, arg)


_FUSED_STRING = frozenset({"type", "pattern", "minLength", "maxLength"})
_FUSED_OBJECT = frozenset({"type", "properties", "additionalProperties", "required"})
_FUSED_ARRAY = frozenset({"type", "items", "minItems", "maxItems", "uniqueItems"})


def _fused(compiler: _SchemaCompiler, schema: dict[str, Any]) -> Check | None:
    """One check for the common shapes of a single type (a string with a pattern, an object
    with its properties, a list of items): the same answers as the keywords' checks in turn,
    with one call per value instead of one per keyword."""
    keywords = schema.keys() - _ANNOTATIONS
    kind = schema.get("type")
    if kind == "string" and keywords <= _FUSED_STRING and len(keywords) > 1:
        return _fused_string(schema)
    if kind == "object" and keywords <= _FUSED_OBJECT and "properties" in keywords:
        return _fused_object(compiler, schema)
    if kind == "array" and keywords <= _FUSED_ARRAY and "items" in keywords:
        return _fused_array(compiler, schema)
    return None


def _fused_string(schema: dict[str, Any]) -> Check:
    search = compiled_pattern(schema["pattern"]).search if "pattern" in schema else None
    shortest, longest = schema.get("minLength"), schema.get("maxLength")

    def check(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        if search is not None and search(value) is None:
            return False
        if shortest is not None and len(value) < shortest:
            return False
        return longest is None or len(value) <= longest

    return check


def _fused_object(compiler: _SchemaCompiler, schema: dict[str, Any]) -> Check:
    subs = {name: compiler.compile(sub) for name, sub in schema["properties"].items()}
    others = compiler.compile(schema.get("additionalProperties", True))
    required = tuple(schema.get("required", ()))

    members = _members(subs, others)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        for key in required:
            if key not in value:
                return False
        return members(value)

    return check


def _members(subs: dict[str, Check], others: Check) -> Check:
    """Each member of a mapping against its property's check, else ``others``."""

    def check(value: dict[str, Any]) -> bool:
        for key, item in value.items():
            sub = subs.get(key)
            if not (sub(item) if sub is not None else others(item)):
                return False
        return True

    return check


def _fused_array(compiler: _SchemaCompiler, schema: dict[str, Any]) -> Check:
    sub = compiler.compile(schema["items"])
    fewest, most = schema.get("minItems"), schema.get("maxItems")
    unique = bool(schema.get("uniqueItems"))

    def check(value: Any) -> bool:
        if not isinstance(value, list):
            return False
        size = len(value)
        if (fewest is not None and size < fewest) or (most is not None and size > most):
            return False
        for item in value:
            if not sub(item):
                return False
        if unique and size > 1:
            # only strings are compared here; 1, 1.0 and true are left to jsonschema
            return all(isinstance(v, str) for v in value) and len(set(value)) == size
        return True

    return check


def _every(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    if len(checks) == 3:
        first, second, third = checks
        return lambda value: first(value) and second(value) and third(value)

    def check(value: Any) -> bool:
        for one in checks:
            if not one(value):
                return False
        return True

    return check


def _fast_properties(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    """``properties``, ``patternProperties`` and ``additionalProperties`` of one schema."""
    subs = {name: compiler.compile(sub) for name, sub in schema.get("properties", {}).items()}
    patterns = [
        (compiled_pattern(pattern).search, compiler.compile(sub))
        for pattern, sub in schema.get(_PATTERNS, {}).items()
    ]
    others = compiler.compile(schema.get("additionalProperties", True))
    if patterns:
        return _with_patterns(subs, patterns, others)
    members = _members(subs, others)

    def check(value: Any) -> bool:
        return not isinstance(value, dict) or members(value)

    return check


def _with_patterns(
    subs: dict[str, Check], patterns: Sequence[tuple[Callable[[str], Any], Check]], others: Check
) -> Check:
    # a key named in "properties" must also pass every pattern it matches; "additionalProperties"
    # is for the keys that match neither
    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            sub = subs.get(key)
            if sub is not None and not sub(item):
                return False
            matched = sub is not None
            for search, pattern_check in patterns:
                if isinstance(key, str) and search(key):
                    matched = True
                    if not pattern_check(item):
                        return False
            if not matched and not others(item):
                return False
        return True

    return check


def _fast_additional(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    others = compiler.compile(arg)
    return lambda v: not isinstance(v, dict) or all(others(item) for item in v.values())


def _fast_type_check(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    names = arg if isinstance(arg, list) else [arg]
    if not all(name in _JSON_TYPES for name in names):
        raise _Unsupported(f"type {arg!r}")
    checks = [_JSON_TYPES[name] for name in names]
    if len(checks) == 1:
        return checks[0]
    return lambda value: any(check(value) for check in checks)


def _fast_required(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    required = tuple(arg)

    def check(value: Any) -> bool:
        if isinstance(value, dict):
            for key in required:
                if key not in value:
                    return False
        return True

    return check


def _fast_items_check(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    if "prefixItems" in schema:
        raise _Unsupported("prefixItems")
    sub = compiler.compile(arg)

    def check(value: Any) -> bool:
        if isinstance(value, list):
            for item in value:
                if not sub(item):
                    return False
        return True

    return check


def _fast_unique(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    def check(value: Any) -> bool:
        if not arg or not isinstance(value, list) or len(value) < 2:
            return True
        # only strings are compared here; 1, 1.0 and true are left to jsonschema
        return all(isinstance(v, str) for v in value) and len(set(value)) == len(value)

    return check


def _fast_pattern_check(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    search = compiled_pattern(arg).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _fast_enum(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    def check(value: Any) -> bool:
        if isinstance(value, dict | list):
            return False
        return any(type(value) is type(option) and value == option for option in arg)

    return check


def _fast_bound(sized: Callable[[Any], bool], measure: Callable[[Any], Any], at_least: bool) -> Any:
    def build(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
        def check(value: Any) -> bool:
            if not sized(value):
                return True
            return measure(value) >= arg if at_least else measure(value) <= arg

        return check

    return build


_KEYWORDS: dict[str, Callable[[_SchemaCompiler, dict[str, Any], Any], Check]] = {
    "type": _fast_type_check,
    "properties": _fast_properties,
    _PATTERNS: _fast_properties,
    "additionalProperties": _fast_additional,
    "required": _fast_required,
    "items": _fast_items_check,
    "uniqueItems": _fast_unique,
    "pattern": _fast_pattern_check,
    "enum": _fast_enum,
    "$ref": lambda compiler, schema, arg: compiler.ref(arg),
    "minimum": _fast_bound(_JSON_TYPES["number"], lambda v: v, at_least=True),
    "maximum": _fast_bound(_JSON_TYPES["number"], lambda v: v, at_least=False),
    "minLength": _fast_bound(_JSON_TYPES["string"], len, at_least=True),
    "maxLength": _fast_bound(_JSON_TYPES["string"], len, at_least=False),
    "minItems": _fast_bound(_JSON_TYPES["array"], len, at_least=True),
    "maxItems": _fast_bound(_JSON_TYPES["array"], len, at_least=False),
    "minProperties": _fast_bound(_JSON_TYPES["object"], len, at_least=True),
    "maxProperties": _fast_bound(_JSON_TYPES["object"], len, at_least=False),
}
