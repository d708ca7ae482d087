"""The JSON Schemas shipped in ``reconciler/schemas`` and the validator built from them.

For: loading the schema documents, and cached Draft 2020-12 validators whose ``pattern``
anchors ``$`` at the end of the text as JSON Schema does (Python's ``$`` also matches before a
final newline).

The shipped schemas accept ``"${var.NAME}"`` (or a string holding one) as an alternative
wherever editors would otherwise underline a variable: ``{"anyOf": [SCHEMA, {"$ref":
"variable-ref.schema.json"}]}``. The reconciler validates after substituting variables, so
:func:`checked_schemas` folds each such ``anyOf`` back into SCHEMA: a leftover reference is an
error, and every message reads as it would without variables.
Not for: wording the errors (``messages``) or the fast "surely valid" check (``fastpath``).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported when a document needs it (see ``fastpath``)
    import jsonschema
    from jsonschema import ValidationError

ROOT_SCHEMA = "config.schema.json"
ENVIRONMENT_SCHEMA = "environment.schema.json"
VARIABLE_ALTERNATIVES = frozenset({"variable-ref.schema.json", "variable-string.schema.json"})


def schema_documents() -> dict[str, dict[str, Any]]:
    """Every schema shipped in the package, by file name."""
    folder = importlib.resources.files("reconciler") / "schemas"
    return {
        entry.name: json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".schema.json")
    }


@functools.cache
def checked_schemas() -> dict[str, dict[str, Any]]:
    """The schemas as the reconciler applies them: variables already substituted."""
    return {name: _without_variables(schema) for name, schema in schema_documents().items()}


def _without_variables(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_without_variables(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    folded = {key: _without_variables(value) for key, value in schema.items()}
    alternatives = folded.get("anyOf")
    if (
        isinstance(alternatives, list)
        and len(alternatives) == 2
        and alternatives[1].get("$ref") in VARIABLE_ALTERNATIVES
    ):
        del folded["anyOf"]
        folded.update(alternatives[0])
    return folded


@functools.cache
def validator(root: str = ROOT_SCHEMA) -> jsonschema.protocols.Validator:
    """The validator of one configuration file (or, with ``root``, of another shipped schema)."""
    import jsonschema  # about 50 ms: only for a document the fast check is not sure of
    import referencing
    from referencing.jsonschema import DRAFT202012

    # jsonschema picks the validator class of a referenced schema from its "$schema"; without
    # it every $ref stays on the class below, whose "pattern" anchors like JSON Schema does.
    schemas = {
        name: {key: value for key, value in schema.items() if key != "$schema"}
        for name, schema in checked_schemas().items()
    }
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (schema["$id"], DRAFT202012.create_resource(schema)) for schema in schemas.values()
    )
    validator_class = jsonschema.validators.extend(
        jsonschema.Draft202012Validator, {"pattern": _pattern}
    )
    return validator_class(schemas[root], registry=registry)


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """JSON Schema's ``$`` is the end of the text; Python's also matches before a final newline."""
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not compiled_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def compiled_pattern(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)
