"""The JSON Schemas of a configuration and the validator built from them.

For: the schema documents, and cached Draft 2020-12 validators whose ``pattern`` anchors ``$``
at the end of the text as JSON Schema does (Python's ``$`` also matches before a final
newline). The documents are those written by hand in ``reconciler/schemas`` (the target, the
lifecycle, secret and variable references, environments) plus the generated ones: one per kind
from its field table (``Kind.json_schema``) and ``config.schema.json``, whose sections are the
registry's. ``reconciler schema`` writes them; the files committed under ``schemas/`` are what
it writes (a test keeps them so).

The shipped schemas accept ``"${var.NAME}"`` (or a string holding one) as an alternative
wherever editors would otherwise underline a variable: ``{"anyOf": [SCHEMA, {"$ref":
"variable-ref.schema.json"}]}``. The reconciler validates after substituting variables, so
:func:`checked_schemas` folds each such ``anyOf`` back into SCHEMA: a leftover reference is an
error, and every message reads as it would without variables.
Not for: wording the errors (``messages``) or the fast "surely valid" check (``fastpath``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported when a document needs it (see ``fastpath``)
    import jsonschema
    from jsonschema import ValidationError

from reconciler import kinds
from reconciler.kinds.fields import GENERATED, JSON_SCHEMA, section_schema

ROOT_SCHEMA = "config.schema.json"
TARGET_SCHEMA = "target.schema.json"
ENVIRONMENT_SCHEMA = "environment.schema.json"
VARIABLE_ALTERNATIVES = frozenset({"variable-ref.schema.json", "variable-string.schema.json"})


def written_documents() -> dict[str, bytes]:
    """The schemas written by hand, shipped in the package, by file name, as shipped."""
    # the package's own folder (pip installs packages unzipped): importlib.resources would
    # cost a plan about 4 ms of imports (tempfile, shutil) to find the same files
    folder = Path(__file__).resolve().parent.parent / "schemas"
    generated = generated_names()
    return {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if entry.name.endswith(".schema.json") and entry.name not in generated
    }


def generated_names() -> set[str]:
    return {ROOT_SCHEMA} | {k.schema_file for k in kinds.REGISTRY if k.section is not None}


def generated_documents() -> dict[str, dict[str, Any]]:
    """``config.schema.json`` and one schema per kind, from the registry."""
    declared = [k for k in kinds.REGISTRY if k.section is not None]
    documents = {k.schema_file: k.json_schema() for k in declared}
    documents[ROOT_SCHEMA] = config_schema(declared)
    return documents


def config_schema(declared: list[kinds.Kind]) -> dict[str, Any]:
    """One file of a configuration: the target, one section per kind, the variables."""
    sections = {
        k.config_section: section_schema(k.section, k.schema_file)
        for k in declared
        if k.section is not None
    }
    return {
        "$schema": JSON_SCHEMA,
        "$id": ROOT_SCHEMA,
        "$comment": GENERATED,
        "title": "cce-reconciler configuration",
        "description": "One file of a cce-reconciler configuration. Several files merge into "
        "one desired state; each section is optional in a file.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "target": {
                "$ref": TARGET_SCHEMA,
                "title": "Target",
                "description": "Where the resources live: region or endpoint. Declared once "
                "across all files.",
            },
            **sections,
            "imports": {
                "title": "Imports",
                "description": "Existing cloud objects to adopt by id, each as a declared "
                "address (written by reconciler import-terraform). Ignored once the address is in "
                "state.",
                "type": ["array", "null"],
                "items": {"$ref": "import.schema.json"},
            },
            "variables": {
                "title": "Variables",
                "description": "Input variables by name, used as ${var.NAME} in any value of "
                "any file. Each is declared once across the files; set them with --var "
                "NAME=VALUE, --var-file FILE, an environment file (--env) or RECONCILER_VAR_NAME.",
                "type": ["object", "null"],
                "patternProperties": {"^[A-Za-z_][A-Za-z0-9_]*$": {"$ref": "variable.schema.json"}},
                "additionalProperties": False,
            },
        },
    }


def schema_documents() -> dict[str, dict[str, Any]]:
    """Every schema of a configuration, by file name: as written, and as generated."""
    return dict(_documents(kinds.generation()))


@functools.cache
def _documents(generation: int) -> dict[str, dict[str, Any]]:
    written = {name: json.loads(raw) for name, raw in written_documents().items()}
    return {**written, **generated_documents()}


def schema_text(document: dict[str, Any]) -> bytes:
    """A generated schema as ``reconciler schema`` writes it."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def checked_schemas() -> dict[str, dict[str, Any]]:
    """The schemas as the reconciler applies them: variables already substituted."""
    return _checked(kinds.generation())


@functools.cache
def _checked(generation: int) -> dict[str, dict[str, Any]]:
    return {name: _without_variables(schema) for name, schema in _documents(generation).items()}


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


def validator(root: str = ROOT_SCHEMA) -> jsonschema.protocols.Validator:
    """The validator of one configuration file (or, with ``root``, of another shipped schema)."""
    return _validator(root, kinds.generation())


@functools.cache
def _validator(root: str, generation: int) -> jsonschema.protocols.Validator:
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
