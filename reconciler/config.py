"""YAML files -> JSON Schema -> semantic checks -> one :class:`DesiredState`.

For: finding the configuration files under the given paths, checking each against the schemas
shipped in ``reconciler/schemas`` and then against the rules a schema cannot express (addresses
unique across files, one registry user, declared namespaces, CIDRs, one target), collecting
every problem as ``PATH:LINE:COLUMN: error: message`` before raising :class:`ConfigError`; and
``config_digest``, the fingerprint a saved plan keeps of the desired content.
Not for: reading YAML safely (``reconciler.yamlload``), reading secret values
(``reconciler.secrets``; only with ``check_secrets=True``), or anything that needs the network.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import importlib.resources
import ipaddress
import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import jsonschema
import referencing
from jsonschema import ValidationError
from referencing.jsonschema import DRAFT202012

from reconciler.client.credentials import endpoint_problem
from reconciler.errors import ConfigError, SecretError
from reconciler.gcpause import paused_gc
from reconciler.model import (
    Address,
    ClusterSpec,
    DesiredState,
    Lifecycle,
    Location,
    NamespaceSpec,
    RepositorySpec,
    Resource,
    SecretRef,
    Target,
    UserSpec,
    WorkersSpec,
    frozen_mapping,
)
from reconciler.secrets import resolve_secret
from reconciler.yamlload import Diagnostic, Document, JsonPath, LoadError, read_document

__all__ = [
    "config_digest",
    "find_files",
    "load_desired_state",
    "resolve_secret",
    "schema_documents",
]

SECTIONS = {
    "users": "user",
    "namespaces": "namespace",
    "repositories": "repository",
    "clusters": "cluster",
}
IDENTITY = {
    "user": ("username",),
    "namespace": ("name",),
    "repository": ("namespace", "name"),
    "cluster": ("name",),
}
YAML_SUFFIXES = (".yaml", ".yml")
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "user": ("password",),
    "cluster": ("workers", "adminPassword"),
}

# What each schema pattern means, in words; a test keeps this table and the schemas in step.
PATTERN_HINTS = {
    "^[a-z0-9]{4,30}$": "4-30 lowercase letters and digits",
    "^[A-Za-z][A-Za-z0-9_./-]{0,64}$": '1-65 letters, digits, "-", "_", "/" or "." starting with a letter',
    "^[A-Za-z][A-Za-z0-9_.-]{0,64}$": '1-65 letters, digits, "-", "_" or "." starting with a letter (no "/")',
    "^[A-Za-z0-9][A-Za-z0-9_./-]{0,64}$": '1-65 letters, digits, "-", "_", "/" or "." starting with a letter or digit',
    "^[A-Za-z_][A-Za-z0-9_]*$": "letters, digits and underscores, not starting with a digit",
    "^[a-z][a-z0-9-]{0,31}$": 'lowercase letters, digits and "-", such as bj',
    "^(local|https?://[^\\s/]+(/\\S*)?)$": '"local" or an http(s) URL',
    "^[0-9]+\\.[0-9]+\\.[0-9]+$": 'a Kubernetes version such as "1.20.8"',
    "^zone[A-Z]$": "a zone such as zoneA",
    "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$": "an IPv4 network in CIDR notation such as 172.16.0.0/16",
    "^[0-9]+$": 'a numeric code such as "10"',
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


@paused_gc()
def load_desired_state(paths: Sequence[str], *, check_secrets: bool = False) -> DesiredState:
    """Read every YAML file under ``paths`` into one desired state, or raise :class:`ConfigError`.

    A path is a file (read whatever its name) or a directory (``*.yaml`` / ``*.yml`` below it,
    recursively, sorted, hidden entries skipped). Secret references are resolved only when
    ``check_secrets`` is true; otherwise the environment is never read.
    """
    paths = list(paths) or ["."]
    files, diagnostics = find_files(paths)
    documents = _read_all(files, diagnostics)
    checked = _Checked(documents)
    for document in documents:
        diagnostics.extend(checked.schema_errors(document))
    base_dir = _base_dir(paths[0])
    diagnostics.extend(_semantic_errors(checked, load_failed=len(documents) < len(files)))
    if check_secrets:
        diagnostics.extend(
            _secret_errors([item for item in checked.items if checked.clean(item)], base_dir)
        )
    if diagnostics:
        raise ConfigError([str(d) for d in sorted(diagnostics)])
    return _desired_state(documents, checked.items, base_dir, tuple(files))


def config_digest(state: DesiredState) -> str:
    """sha256 of the desired content; independent of file order, key order and tag order."""
    content = {
        "target": _canonical(state.target),
        "resources": {str(address): _canonical(spec) for address, spec in state.resources.items()},
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: sorted(_canonical(getattr(value, f.name)))
            if f.name == "tags"
            else _canonical(getattr(value, f.name))
            for f in fields(value)
            if f.name != "location"
        }
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


# -- files -----------------------------------------------------------------------------------


def find_files(paths: Sequence[str]) -> tuple[list[str], list[Diagnostic]]:
    """The files to read, each once, and a diagnostic for each path that yields none."""
    files: list[str] = []
    problems: list[Diagnostic] = []
    seen: set[str] = set()
    for path in paths:
        found, problem = _files_of(path)
        if problem:
            problems.append(Diagnostic(path, 0, 0, problem))
        for file in found:
            real = os.path.realpath(file)
            if real not in seen:
                seen.add(real)
                files.append(file)
    return files, problems


def _files_of(path: str) -> tuple[list[str], str | None]:
    if os.path.isdir(path):
        found = _yaml_files_under(path)
        return found, None if found else "no YAML files (*.yaml, *.yml) in this directory"
    if os.path.isfile(path):
        return [path], None
    if os.path.exists(path):
        return [], "not a regular file or directory"
    return [], "no such file or directory"


def _yaml_files_under(directory: str) -> list[str]:
    found: list[tuple[tuple[str, ...], str]] = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                full = os.path.normpath(os.path.join(root, name))
                found.append((tuple(os.path.relpath(full, directory).split(os.sep)), full))
    return [full for _, full in sorted(found)]


def _read_all(files: list[str], diagnostics: list[Diagnostic]) -> list[Document]:
    documents = []
    for file in files:
        try:
            documents.append(read_document(file))
        except LoadError as exc:
            diagnostics.extend(exc.diagnostics)
    return documents


def _base_dir(first: str) -> str:
    if os.path.isdir(first):
        return os.path.normpath(first)
    return os.path.dirname(os.path.normpath(first)) or "."


# -- schema ----------------------------------------------------------------------------------


def schema_documents() -> dict[str, dict[str, Any]]:
    """Every schema shipped in the package, by file name."""
    folder = importlib.resources.files("reconciler") / "schemas"
    return {
        entry.name: json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".schema.json")
    }


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    # jsonschema picks the validator class of a referenced schema from its "$schema"; without
    # it every $ref stays on the class below, whose "pattern" anchors like JSON Schema does.
    schemas = {
        name: {key: value for key, value in schema.items() if key != "$schema"}
        for name, schema in schema_documents().items()
    }
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (schema["$id"], DRAFT202012.create_resource(schema)) for schema in schemas.values()
    )
    validator_class = jsonschema.validators.extend(
        jsonschema.Draft202012Validator, {"pattern": _pattern}
    )
    return validator_class(schemas["config.schema.json"], registry=registry)


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """JSON Schema's ``$`` is the end of the text; Python's also matches before a final newline."""
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


# -- schema fast path ------------------------------------------------------------------------
#
# jsonschema spends ~50 us per resource walking the schemas (a third of a 10,000-resource plan).
# A document that is valid needs no error messages, so the schemas are also compiled into plain
# checks that answer "surely valid" (True) or "not sure" (False, jsonschema then decides and
# explains). Sound by construction: a keyword not handled below disables the fast path as a
# whole, and every check is at most as permissive as jsonschema's.

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


class _Unsupported(Exception):
    """The schemas use a keyword the fast path does not know: use jsonschema alone."""


@functools.cache
def _fast_check() -> Check | None:
    schemas = {schema["$id"]: schema for schema in schema_documents().values()}
    try:
        return _SchemaCompiler(schemas).compile(schemas["config.schema.json"])
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
        if key == "additionalProperties" and "properties" in schema:
            return None  # checked with "properties"
        builder = _KEYWORDS.get(key)
        if builder is None:
            raise _Unsupported(key)
        return builder(self, schema, arg)


def _every(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:
        for one in checks:
            if not one(value):
                return False
        return True

    return check


def _fast_properties(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    subs = {name: compiler.compile(sub) for name, sub in arg.items()}
    extra = schema.get("additionalProperties", True)
    others = compiler.compile(extra)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            sub = subs.get(key)
            if not (sub(item) if sub is not None else others(item)):
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
    return lambda v: not isinstance(v, dict) or all(key in v for key in arg)


def _fast_items_check(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    if "prefixItems" in schema:
        raise _Unsupported("prefixItems")
    sub = compiler.compile(arg)
    return lambda v: not isinstance(v, list) or all(sub(item) for item in v)


def _fast_unique(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    def check(value: Any) -> bool:
        if not arg or not isinstance(value, list) or len(value) < 2:
            return True
        # only strings are compared here; 1, 1.0 and true are left to jsonschema
        return all(isinstance(v, str) for v in value) and len(set(value)) == len(value)

    return check


def _fast_pattern_check(compiler: _SchemaCompiler, schema: dict[str, Any], arg: Any) -> Check:
    search = _compiled(arg).search
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


@dataclass(frozen=True)
class _Item:
    """One entry of a resource list, e.g. ``namespaces[2]`` of one file."""

    kind: str
    document: Document
    jpath: JsonPath
    data: dict[str, Any]

    def at(self, *sub: str | int) -> Location:
        return self.document.value_at((*self.jpath, *sub))

    @property
    def identity(self) -> str | None:
        return _identity(self.kind, self.data)

    @property
    def label(self) -> str:
        return _label(self.kind, self.data)


def _identity(kind: str, data: Mapping[str, Any]) -> str | None:
    """The name part of the address (``team-a/api`` for a repository), if well formed."""
    parts = [data.get(key) for key in IDENTITY[kind]]
    if not all(isinstance(part, str) for part in parts):
        return None
    return "/".join(str(part) for part in parts)


def _label(kind: str, data: Any) -> str:
    identity = _identity(kind, data) if isinstance(data, dict) else None
    return kind if identity is None else f'{kind} "{identity}"'


class _Checked:
    """The documents' resource entries, and which entries or sections failed the schema."""

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        self.items = [item for document in documents for item in _items_of(document)]
        self.errors: set[tuple[str, JsonPath]] = set()
        self.around_errors: set[tuple[str, JsonPath]] = set()

    def schema_errors(self, document: Document) -> list[Diagnostic]:
        found: list[Diagnostic] = []
        fast = _fast_check()
        if fast is not None and fast(document.data):
            return found
        seen: set[tuple[JsonPath, str]] = set()
        for error in _validator().iter_errors(document.data):
            jpath = tuple(error.absolute_path)
            self.errors.add((document.path, jpath))
            self.around_errors.update((document.path, jpath[:end]) for end in range(len(jpath) + 1))
            if (jpath, str(error.validator)) not in seen:
                seen.add((jpath, str(error.validator)))
                found.extend(_schema_diagnostics(document, jpath, error))
        return found

    def clean(self, item: _Item, *sub: str | int) -> bool:
        """No schema error at the item's value ``sub``, inside it, or at any of its parents."""
        path, jpath = item.document.path, (*item.jpath, *sub)
        if (path, jpath) in self.around_errors:
            return False
        return not any((path, jpath[:end]) in self.errors for end in range(len(jpath)))

    def section_broken(self, section: str) -> bool:
        return any(jpath == (section,) for _, jpath in self.errors)


def _items_of(document: Document) -> Iterator[_Item]:
    for section, kind in SECTIONS.items():
        entries = document.data.get(section)
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                if isinstance(entry, dict):
                    yield _Item(kind, document, (section, index), entry)


def _schema_diagnostics(
    document: Document, jpath: JsonPath, error: ValidationError
) -> list[Diagnostic]:
    handler = _HANDLERS.get(str(error.validator), _fallback)
    return [
        Diagnostic.at(location, message) for location, message in handler(document, jpath, error)
    ]


Found = Iterable[tuple[Location, str]]


def _required(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    missing = [key for key in error.validator_value if key not in error.instance]
    owner = _subject(document.data, jpath)
    for key in missing:
        yield document.value_at(jpath), f'{owner} is missing required key "{key}"'


def _additional(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    allowed = list(error.schema.get("properties", {}))
    for key in error.instance:
        if key not in allowed:
            yield (
                document.key_at((*jpath, key)),
                _unknown_key(document.data, jpath, str(key), allowed),
            )


def _unknown_key(data: Any, jpath: JsonPath, key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f'unknown key "{key}"; did you mean "{close[0]}"?'
    where = f" in {_subject(data, jpath)}" if jpath else ""
    return f'unknown key "{key}"{where}; expected one of: {", ".join(allowed)}'


def _type(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    subject = _subject(document.data, jpath)
    if error.schema.get("$id") == "secret-ref.schema.json":
        yield (
            document.value_at(jpath),
            f"{subject} must be a reference, not a literal: use {{env: NAME}} or {{file: PATH}}",
        )
        return
    expected = (
        error.validator_value
        if isinstance(error.validator_value, list)
        else [error.validator_value]
    )
    words = [_TYPE_WORDS[t] for t in expected if t != "null" or len(expected) == 1]
    message = f"{subject} must be {' or '.join(words)}, got {_describe(error.instance)}"
    if "string" in expected and isinstance(error.instance, int | float):
        message += "; put it in quotes"
    yield document.value_at(jpath), message


def _pattern_error(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    hint = PATTERN_HINTS.get(
        str(error.validator_value), f"expected to match {error.validator_value}"
    )
    yield (
        document.value_at(jpath),
        f"{_subject(document.data, jpath)} {_show(error.instance)} is invalid: {hint}",
    )


def _enum(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    options = [str(option) for option in error.validator_value]
    message = f"{_subject(document.data, jpath)} {_show(error.instance)} is invalid: expected {_either(options)}"
    close = difflib.get_close_matches(
        str(error.instance).lower(), [o.lower() for o in options], n=1
    )
    if close:
        message += f'; did you mean "{options[[o.lower() for o in options].index(close[0])]}"?'
    yield document.value_at(jpath), message


def _minimum(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    subject = _subject(document.data, jpath)
    yield (
        document.value_at(jpath),
        f"{subject} must be at least {error.validator_value}, got {_show(error.instance)}",
    )


def _empty(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    yield document.value_at(jpath), f"{_subject(document.data, jpath)} must not be empty"


def _unique(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    first: dict[str, Location] = {}
    what = "tag" if jpath and jpath[-1] == "tags" else "entry"
    owner = _subject(document.data, jpath[:-1]) if len(jpath) > 1 else "the file"
    for index, value in enumerate(error.instance):
        key = json.dumps(value, sort_keys=True)
        here = document.value_at((*jpath, index))
        if key in first:
            also = first[key]
            yield (
                here,
                f"duplicate {what} {_show(value)} in {owner}: also at line {also.line}, column {also.column}",
            )
        else:
            first[key] = here


def _property_count(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    known = list(error.schema.get("properties", {}))
    present = [key for key in error.instance if key in known]
    subject = _subject(document.data, jpath)
    choices = _either([f'"{key}"' for key in known])
    if error.validator == "minProperties" and not error.instance:
        yield document.value_at(jpath), f"{subject} needs {choices}"
    elif error.validator == "maxProperties" and len(present) > 1:
        yield document.value_at(jpath), f"{subject} must have only one of {choices}"


def _fallback(document: Document, jpath: JsonPath, error: ValidationError) -> Found:
    yield document.value_at(jpath), f"{_subject(document.data, jpath)}: {error.message}"


_HANDLERS = {
    "required": _required,
    "additionalProperties": _additional,
    "type": _type,
    "pattern": _pattern_error,
    "enum": _enum,
    "minimum": _minimum,
    "minItems": _empty,
    "minLength": _empty,
    "uniqueItems": _unique,
    "minProperties": _property_count,
    "maxProperties": _property_count,
}


def _subject(data: Any, jpath: JsonPath) -> str:
    """Human words for the value at ``jpath``: ``cluster "prod" workers.count``, ``namespace name``."""
    if not jpath:
        return "the file"
    kind = SECTIONS.get(str(jpath[0]))
    if kind is None or len(jpath) < 2:
        return " ".join(filter(None, [str(jpath[0]), _dotted(jpath[1:])]))
    owner = _label(kind, data[jpath[0]][jpath[1]])
    rest = jpath[2:]
    if len(rest) == 1 and rest[0] in IDENTITY[kind]:
        owner = kind
    if len(rest) == 2 and rest[0] == "tags":
        return f"{owner} tag"
    return f"{owner} {_dotted(rest)}" if rest else owner


def _dotted(jpath: JsonPath) -> str:
    text = ""
    for part in jpath:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 70 else value[:67] + "...", ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "a mapping"
    return str(value)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"a string {_show(value)}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"a number {_show(value)}"
    return _show(value)


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


# -- semantic checks -------------------------------------------------------------------------


def _semantic_errors(checked: _Checked, *, load_failed: bool) -> Iterator[Diagnostic]:
    yield from _duplicate_addresses(checked.items)
    yield from _more_than_one_user(checked.items)
    if not checked.section_broken("namespaces"):
        yield from _undeclared_namespaces(checked.items)
    yield from _container_nets(
        [
            item
            for item in checked.items
            if item.kind == "cluster" and checked.clean(item, "containerNet")
        ]
    )
    yield from _targets(checked.documents, load_failed=load_failed)


def _duplicate_addresses(items: list[_Item]) -> Iterator[Diagnostic]:
    places: dict[tuple[str, str], list[_Item]] = defaultdict(list)
    for item in items:
        identity = item.identity
        if identity is not None:
            places[(item.kind, identity)].append(item)
    for same in places.values():
        times = "twice" if len(same) == 2 else "more than once"
        for item in same[1:]:
            yield Diagnostic.at(item.at(), f"{item.label} declared {times}: also at {same[0].at()}")


def _more_than_one_user(items: list[_Item]) -> Iterator[Diagnostic]:
    by_name: dict[str, _Item] = {}
    for item in items:
        if item.kind == "user" and item.identity is not None:
            by_name.setdefault(item.identity, item)
    users = list(by_name.values())
    for item in users[1:]:
        message = (
            f"{item.label}: only one registry user is allowed per account "
            f"(Cce.MoreThanOneUserPerAccount); {users[0].label} is declared at {users[0].at()}"
        )
        yield Diagnostic.at(item.at(), message)


def _undeclared_namespaces(items: list[_Item]) -> Iterator[Diagnostic]:
    declared = [item.identity for item in items if item.kind == "namespace" and item.identity]
    known = set(declared)
    for item in items:
        namespace = item.data.get("namespace")
        if item.kind != "repository" or not isinstance(namespace, str) or namespace in known:
            continue
        message = f'{item.label} refers to namespace "{namespace}", which is not declared under namespaces'
        close = difflib.get_close_matches(namespace, declared, n=1)
        if close:
            message += f'; did you mean "{close[0]}"?'
        yield Diagnostic.at(item.at("namespace"), message)


def _container_nets(items: list[_Item]) -> Iterator[Diagnostic]:
    for item in items:
        text = item.data.get("containerNet")
        if item.kind == "cluster" and isinstance(text, str):
            problem = _cidr_problem(text)
            if problem:
                yield Diagnostic.at(
                    item.at("containerNet"),
                    f"{item.label} containerNet {_show(text)} is invalid: {problem}",
                )


def _cidr_problem(text: str) -> str | None:
    try:
        ipaddress.IPv4Network(text, strict=True)
    except ipaddress.NetmaskValueError:
        return "the prefix length must be 0-32"
    except ValueError as exc:
        if "host bits set" not in str(exc):
            return "not an IPv4 network"
        return f"host bits are set; did you mean {ipaddress.IPv4Network(text, strict=False)}?"
    return None


def _targets(documents: list[Document], *, load_failed: bool) -> Iterator[Diagnostic]:
    declared = [document for document in documents if "target" in document.data]
    for document in declared[1:]:
        first = declared[0].key_at(("target",))
        yield Diagnostic.at(document.key_at(("target",)), f"target declared twice: also at {first}")
    if documents and not declared and not load_failed:
        message = 'no target declared: add "target:" with "region" or "endpoint" to one file'
        yield Diagnostic(documents[0].path, 1, 1, message)
    for document in declared[:1]:
        endpoint = (
            document.data["target"].get("endpoint")
            if isinstance(document.data["target"], dict)
            else None
        )
        # the schema words a non-http(s) value; this catches a bad host or port in one
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            continue
        problem = endpoint_problem(endpoint)
        if problem:
            yield Diagnostic.at(
                document.value_at(("target", "endpoint")),
                f"{problem}; use local or scheme://host[:port]",
            )


def _secret_errors(items: list[_Item], base_dir: str) -> Iterator[Diagnostic]:
    for item in items:
        jpath = SECRET_FIELDS.get(item.kind, ())
        ref = _dig(item.data, jpath)
        if not jpath or not isinstance(ref, dict):
            continue
        try:
            resolve_secret(_secret(ref), base_dir)
        except SecretError as exc:
            yield Diagnostic.at(item.at(*jpath), f"{item.label} {_dotted(jpath)}: {exc}")


def _dig(data: Any, jpath: Sequence[str]) -> Any:
    for key in jpath:
        data = data.get(key) if isinstance(data, dict) else None
    return data


# -- desired state ---------------------------------------------------------------------------


def _desired_state(
    documents: list[Document], items: list[_Item], base_dir: str, files: tuple[str, ...]
) -> DesiredState:
    resources: dict[Address, Resource] = {}
    for item in items:
        spec = _BUILDERS[item.kind](item.data, item.at())
        resources[spec.address] = spec
    return DesiredState(
        target=_target(documents),
        resources=dict(sorted(resources.items(), key=_address_key)),
        base_dir=base_dir,
        files=files,
    )


def _address_key(entry: tuple[Address, Resource]) -> tuple[str, str]:
    # the order of Address itself, without a Python-level __lt__ per comparison
    return entry[0].kind, entry[0].name


def _target(documents: list[Document]) -> Target:
    for document in documents:
        if "target" in document.data:
            data = document.data["target"]
            return Target(
                region=data.get("region"),
                endpoint=data.get("endpoint"),
                location=document.value_at(("target",)),
            )
    return Target()


def _secret(data: Mapping[str, Any]) -> SecretRef:
    return SecretRef(env=data.get("env"), file=data.get("file"))


_UNDECLARED_LIFECYCLE = Lifecycle()


def _lifecycle(data: Mapping[str, Any]) -> Lifecycle:
    protect = (data.get("lifecycle") or {}).get("protect")
    return _UNDECLARED_LIFECYCLE if protect is None else Lifecycle(protect=protect)


def _user(data: dict[str, Any], location: Location) -> UserSpec:
    return UserSpec(data["username"], _secret(data["password"]), _lifecycle(data), location)


def _namespace(data: dict[str, Any], location: Location) -> NamespaceSpec:
    return NamespaceSpec(data["name"], bool(data.get("public", False)), _lifecycle(data), location)


def _repository(data: dict[str, Any], location: Location) -> RepositorySpec:
    return RepositorySpec(
        namespace=data["namespace"],
        name=data["name"],
        tags=tuple(data["tags"]),
        description=data.get("description"),
        lifecycle=_lifecycle(data),
        location=location,
    )


def _cluster(data: dict[str, Any], location: Location) -> ClusterSpec:
    return ClusterSpec(
        name=data["name"],
        version=data["version"],
        main_available_zone=data["mainAvailableZone"],
        container_net=data["containerNet"],
        workers=_workers(data["workers"]),
        deploy_mode=data.get("deployMode", "BCC"),
        comment=data.get("comment"),
        advanced_options=frozen_mapping(data.get("advancedOptions")),
        lifecycle=_lifecycle(data),
        location=location,
    )


def _workers(data: dict[str, Any]) -> WorkersSpec:
    admin = data.get("adminPassword")
    return WorkersSpec(
        count=int(data["count"]),
        instance_type=str(data["instanceType"]),
        cpu=int(data["cpu"]),
        memory=int(data["memory"]),
        image_id=data["imageId"],
        subnet_uuid=data["subnetUuid"],
        security_group_id=data["securityGroupId"],
        product_type=data.get("productType", "postpay"),
        image_type=data.get("imageType", "common"),
        logical_zone=data.get("logicalZone"),
        root_disk_size_gb=_optional_int(data.get("rootDiskSizeInGb")),
        root_disk_storage_type=data.get("rootDiskStorageType"),
        admin_password=_secret(admin) if admin is not None else None,
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


_BUILDERS: dict[str, Callable[[dict[str, Any], Location], Resource]] = {
    "user": _user,
    "namespace": _namespace,
    "repository": _repository,
    "cluster": _cluster,
}
