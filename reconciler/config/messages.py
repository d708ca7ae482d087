"""How a schema error is put into words, and where it points.

For: turning each jsonschema ``ValidationError`` into ``(Location, message)`` pairs that read
like ``cluster "prod" workers.count must be at least 0, got -1`` and point at the offending value
(at the key for an unknown key, at the mapping for a missing key); the words for a pattern
(``PATTERN_HINTS``) and the small helpers every message uses (``subject``, ``show``).
Not for: deciding what is an error (``schema``, ``validation``, ``checks``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reconciler.config.items import identity_keys, kind_of_section, label
from reconciler.config.schema import compiled_pattern
from reconciler.config.yamlload import Diagnostic, Document, JsonPath
from reconciler.model import Location
from reconciler.wording import describe, dotted, either, show

if TYPE_CHECKING:
    from jsonschema import ValidationError

# What each schema pattern means, in words; a test keeps this table and the schemas in step.
PATTERN_HINTS = {
    "^[a-z0-9]{4,30}$": "4-30 lowercase letters and digits",
    "^[A-Za-z][A-Za-z0-9_./-]{0,64}$": '1-65 letters, digits, "-", "_", "/" or "." starting with a letter',
    "^[A-Za-z][A-Za-z0-9_.-]{0,64}$": '1-65 letters, digits, "-", "_" or "." starting with a letter (no "/")',
    "^[A-Za-z0-9][A-Za-z0-9_./-]{0,64}$": '1-65 letters, digits, "-", "_", "/" or "." starting with a letter or digit',
    "^[A-Za-z_][A-Za-z0-9_]*$": "letters, digits and underscores, not starting with a digit",
    "^[a-z][a-z0-9-]{0,31}$": 'lowercase letters, digits and "-", such as bj',
    "^(local|https?://[^\\s/]+(/\\S*)?)$": '"local" or an http(s) URL',
    "^https?://[^\\s/]+(/\\S*)?$": "an http(s) URL",
    "^[0-9]+\\.[0-9]+\\.[0-9]+$": 'a Kubernetes version such as "1.20.8"',
    "^zone[A-Z]$": "a zone such as zoneA",
    "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$": "an IPv4 network in CIDR notation such as 172.16.0.0/16",
    "^[0-9]+$": 'a numeric code such as "10"',
    "^[0-9]+(\\.[0-9]+){1,3}$": 'a version such as "1.6.28"',
    "^vpc-[A-Za-z0-9]+$": "a VPC id such as vpc-a1b2c3d4e5f6",
    "^sbn-[A-Za-z0-9]+$": "a subnet id such as sbn-a1b2c3d4e5f6",
    "^(g|esg)-[A-Za-z0-9]+$": "a security group id such as g-a1b2c3d4e5f6 (esg- for an enterprise one)",
    "^m-[A-Za-z0-9]+$": "an image id such as m-gTpZ1k6n",
    "^[A-Z][A-Za-z0-9_]*$": "an instance type such as N3",
    "^\\$\\{var\\.[A-Za-z_][A-Za-z0-9_]*\\}$": 'a variable reference such as "${var.workers}"',
    "\\$\\{var\\.[A-Za-z_][A-Za-z0-9_]*\\}": 'text with a variable reference such as "shop-${var.env}"',
    "^[a-z][a-z0-9_]*\\.\\S+$": "an address, KIND.NAME",
    "^\\S*$": "an id without spaces",
    # CCR Enterprise
    "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$": "an instance id such as ccr-4lbqm4u4",
    "^(?![0-9]+$)[a-z0-9]+(?:[._-][a-z0-9]+)*$": 'lowercase letters and digits joined by single ".", "_" or "-", not all digits',
    "^(\\*|(?![0-9]+$)[a-z0-9]+(?:[._-][a-z0-9]+)*)$": 'a project name, or "*" for every project',
    "^[a-z0-9]+(?:[._-][a-z0-9]+)*$": 'lowercase letters and digits joined by single ".", "_" or "-"',
    "^[a-z0-9]+(?:[._/-][a-z0-9]+)*$": 'lowercase letters and digits joined by single ".", "_", "-" or "/"',
    "^[0-9]{1,3}(\\.[0-9]{1,3}){3}$": "an IPv4 address such as 192.168.0.9",
    "^[0-9]{1,3}(\\.[0-9]{1,3}){3}(/[0-9]{1,2})?$": "an IPv4 address or network such as 203.0.113.0/24",
    "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$": '1-128 letters, digits, ".", "_" or "-"',
}

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def schema_diagnostics(
    document: Document, jpath: JsonPath, error: ValidationError
) -> list[Diagnostic]:
    handler = _HANDLERS.get(str(error.validator), _fallback)
    return [
        Diagnostic.at(location, message) for location, message in handler(document, jpath, error)
    ]


Found = Iterable[tuple[Location, str]]


def _required(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    missing = [key for key in error.validator_value if key not in error.instance]
    owner = subject(document.data, jpath)
    for key in missing:
        yield document.value_at(jpath), f'{owner} is missing required key "{key}"'


def _additional(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    if "patternProperties" in error.schema:
        yield from _bad_names(document, jpath, error)
        return
    allowed = list(error.schema.get("properties", {}))
    for key in error.instance:
        if key not in allowed:
            yield (
                document.key_at((*jpath, key)),
                _unknown_key(document.data, jpath, str(key), allowed),
            )


def _bad_names(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    """A mapping whose keys are names (``variables:``, a v2 cluster's ``tags``): each key must
    match the name pattern."""
    patterns = list(error.schema["patternProperties"])
    what = (
        "variable name"
        if jpath == ("variables",)
        else f"{subject(document.data, jpath[:-1])} tag key"
    )
    for key in error.instance:
        if not any(compiled_pattern(pattern).search(str(key)) for pattern in patterns):
            hint = PATTERN_HINTS.get(patterns[0], f"expected to match {patterns[0]}")
            yield document.key_at((*jpath, key)), f"{what} {show(key)} is invalid: {hint}"


def _unknown_key(data: Any, jpath: JsonPath, key: str, allowed: list[str]) -> str:
    # case first: "podCidr" is podCIDR, though only 4 of its 7 letters match
    close = [name for name in allowed if name.lower() == key.lower()]
    import difflib  # only to word an error

    close = close or difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f'unknown key "{key}"; did you mean "{close[0]}"?'
    where = f" in {subject(data, jpath)}" if jpath else ""
    return f'unknown key "{key}"{where}; expected one of: {", ".join(allowed)}'


def _type(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    who = subject(document.data, jpath)
    if error.schema.get("$id") == "secret-ref.schema.json":
        yield (
            document.value_at(jpath),
            f"{who} must be a reference, not a literal: use {{env: NAME}} or {{file: PATH}}",
        )
        return
    expected = (
        error.validator_value
        if isinstance(error.validator_value, list)
        else [error.validator_value]
    )
    words = [_TYPE_WORDS[t] for t in expected if t != "null" or len(expected) == 1]
    message = f"{who} must be {' or '.join(words)}, got {describe(error.instance)}"
    if "string" in expected and isinstance(error.instance, int | float):
        message += "; put it in quotes"
    yield document.value_at(jpath), message


def _pattern_error(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    hint = PATTERN_HINTS.get(
        str(error.validator_value), f"expected to match {error.validator_value}"
    )
    yield (
        document.value_at(jpath),
        f"{subject(document.data, jpath)} {show(error.instance)} is invalid: {hint}",
    )


def _enum(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    options = [str(option) for option in error.validator_value]
    message = f"{subject(document.data, jpath)} {show(error.instance)} is invalid: expected {either(options)}"
    import difflib  # only to word an error

    close = difflib.get_close_matches(
        str(error.instance).lower(), [o.lower() for o in options], n=1
    )
    if close:
        message += f'; did you mean "{options[[o.lower() for o in options].index(close[0])]}"?'
    yield document.value_at(jpath), message


def _minimum(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    who = subject(document.data, jpath)
    yield (
        document.value_at(jpath),
        f"{who} must be at least {error.validator_value}, got {show(error.instance)}",
    )


def _maximum(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    who = subject(document.data, jpath)
    yield (
        document.value_at(jpath),
        f"{who} must be at most {error.validator_value}, got {show(error.instance)}",
    )


def _empty(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    yield document.value_at(jpath), f"{subject(document.data, jpath)} must not be empty"


def _unique(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    first: dict[str, Location] = {}
    what = "tag" if jpath and jpath[-1] == "tags" else "entry"
    owner = subject(document.data, jpath[:-1]) if len(jpath) > 1 else "the file"
    for index, value in enumerate(error.instance):
        key = json.dumps(value, sort_keys=True)
        here = document.value_at((*jpath, index))
        if key in first:
            also = first[key]
            yield (
                here,
                f"duplicate {what} {show(value)} in {owner}: also at line {also.line}, column {also.column}",
            )
        else:
            first[key] = here


def _property_count(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    known = list(error.schema.get("properties", {}))
    present = [key for key in error.instance if key in known]
    who = subject(document.data, jpath)
    choices = either([f'"{key}"' for key in known])
    if error.validator == "minProperties" and not error.instance:
        yield document.value_at(jpath), f"{who} needs {choices}"
    elif error.validator == "maxProperties" and len(present) > 1:
        yield document.value_at(jpath), f"{who} must have only one of {choices}"


def _fallback(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    yield document.value_at(jpath), f"{subject(document.data, jpath)}: {error.message}"


_HANDLERS = {
    "required": _required,
    "additionalProperties": _additional,
    "type": _type,
    "pattern": _pattern_error,
    "enum": _enum,
    "minimum": _minimum,
    "maximum": _maximum,
    "minItems": _empty,
    "minLength": _empty,
    "uniqueItems": _unique,
    "minProperties": _property_count,
    "maxProperties": _property_count,
}


def subject(data: Any, jpath: JsonPath) -> str:
    """Human words for the value at ``jpath``: ``cluster "prod" workers.count``, ``namespace name``."""
    if not jpath:
        return "the file"
    if jpath[0] == "variables" and len(jpath) > 1:
        return " ".join(filter(None, [f"variable {show(jpath[1])}", dotted(jpath[2:])]))
    kind = kind_of_section(str(jpath[0]))
    if kind is None or len(jpath) < 2:
        return " ".join(filter(None, [str(jpath[0]), dotted(jpath[1:])]))
    owner = label(kind, data[jpath[0]][jpath[1]])
    rest = jpath[2:]
    if len(rest) == 1 and rest[0] in identity_keys(kind):
        owner = kind
    if len(rest) == 2 and rest[0] == "tags":
        # a list of tags (repository) or a mapping of them (k8s_cluster)
        return f"{owner} tag" if isinstance(rest[1], int) else f"{owner} tag {show(rest[1])}"
    return f"{owner} {dotted(rest)}" if rest else owner


__all__ = ["PATTERN_HINTS", "describe", "dotted", "either", "schema_diagnostics", "show", "subject"]
