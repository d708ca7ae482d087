"""Input variables: their declarations in the files, and the value each one ends up with.

For: reading ``variables:`` blocks (NAME -> ``{type, default?, description?}``, each name declared
once across the files) and the values set from, lowest precedence first:

    1. the declaration's ``default``
    2. the environment variable ``RECONCILER_VAR_<NAME>``
    3. the environment file's ``variables:`` (``--env NAME``)
    4. each ``--var-file FILE`` (a YAML mapping NAME: value), in the order given
    5. each ``--var NAME=VALUE``, in the order given

as in Terraform. Text values (``--var``, ``RECONCILER_VAR_``) are parsed as the declared type; a
value from YAML must already have it. A value is a plain value: it never refers to variables,
so there are no cycles. A value for an undeclared name is an error on the command line, a
warning in a file, and ignored in the environment (as Terraform does with ``TF_VAR_``).
Not for: putting values into the configuration (``expansion``); secrets, which stay references.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.config.messages import describe, show
from reconciler.config.yamlload import Diagnostic, Document, LoadError, parse_value, read_document
from reconciler.model import Location
from reconciler.records import frozen_record

ENV_PREFIX = "RECONCILER_VAR_"
TYPES = ("string", "integer", "number", "boolean", "list", "map")
DECLARATION_KEYS = frozenset({"type", "default", "description"})
TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "list": "a list",
    "map": "a mapping",
}
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
REFERENCE = re.compile(r"\$\{var\.[A-Za-z_][A-Za-z0-9_]*\}")
_INTEGER = re.compile(r"[-+]?[0-9]+\Z")
_NUMBER = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\Z")
_FLOW_EXAMPLES = {"list": "[a, b]", "map": "{key: value}"}


@frozen_record
class Value:
    """A variable's value and where it was set, in words for messages: ``--var``,
    ``RECONCILER_VAR_workers``, ``vars.yaml:2:10``, ``its default at config.yaml:4:14``."""

    value: Any
    origin: str


@frozen_record
class Declaration:
    name: str
    type: str | None  # None when the declaration is malformed (the schema says how)
    location: Location  # the name under variables:
    default: Value | None = None


@dataclass
class Variables:
    """Every declared variable, the value each ends up with, and the names whose value is
    unusable (malformed declaration, a bad value, no value): their uses are not reported again.
    """

    declarations: dict[str, Declaration] = field(default_factory=dict)
    values: dict[str, Value] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    complete: bool = True  # False when a file could not be read or a variables: block is broken

    def close_to(self, name: str) -> str | None:
        import difflib  # only to word an error

        close = difflib.get_close_matches(name, list(self.declarations), n=1)
        return close[0] if close else None

    def undeclared(self, name: str, *, ignored: bool = False) -> str:
        """``variable "wrokers" is not declared; did you mean "workers"?``"""
        close = self.close_to(name)
        text = f"variable {show(name)} is not declared"
        if ignored:
            text += ", so this value is ignored"
        elif not close:
            text += ' under "variables:" in any file'
        return text + (f'; did you mean "{close}"?' if close else "")


@frozen_record
class Sources:
    """Where values come from, besides the defaults (see the module docstring for the order)."""

    environment: Document | None = None
    var_files: Sequence[str] = ()
    var_args: Sequence[str] = ()
    environ: Mapping[str, str] = field(default_factory=dict)
    environment_unread: bool = False  # an environment was asked for and could not be read


def resolve(
    documents: Sequence[Document], sources: Sources, *, load_failed: bool
) -> tuple[Variables, list[Diagnostic]]:
    """The declarations and the final values; errors and warnings about both.

    When a file failed to load or a ``variables:`` block is not a mapping, some declarations
    are unknown: names that look undeclared are then not reported.
    """
    variables = Variables()
    variables.complete = not load_failed and all(
        isinstance(document.data.get("variables"), dict | None) for document in documents
    )
    problems: list[Diagnostic] = []
    for document in documents:
        problems.extend(_declare(document, variables))
    _Resolver(variables, problems, report_undeclared=variables.complete).run(sources)
    return variables, problems


def _declare(document: Document, variables: Variables) -> Iterator[Diagnostic]:
    block = document.data.get("variables")
    if not isinstance(block, dict):
        return
    for name, spec in block.items():
        if not NAME.match(name):
            continue  # the schema words it
        here = document.key_at(("variables", name))
        first = variables.declarations.get(name)
        if first is not None:
            yield Diagnostic.at(here, f'variable "{name}" declared twice: also at {first.location}')
            continue
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind not in TYPES or not set(spec) <= DECLARATION_KEYS:
            kind = None  # malformed: the schema words it, and its uses are not reported again
        default = None
        if isinstance(spec, dict) and "default" in spec:
            where = document.value_at(("variables", name, "default"))
            default = Value(spec["default"], f"its default at {where}")
            problem = _problem(kind, spec["default"], "default")
            if problem:
                yield Diagnostic.at(where, f'variable "{name}" {problem}')
                variables.broken.add(name)
        variables.declarations[name] = Declaration(name, kind, here, default)
        if kind is None:
            variables.broken.add(name)


def _problem(kind: str | None, value: Any, what: str = "value") -> str | None:
    """What is wrong with a value from YAML for a variable of type ``kind``."""
    reference = _reference_in(value)
    if reference:
        return (
            f"{what} refers to {show(reference)}: a variable's {what} is a plain value "
            "and cannot refer to variables"
        )
    if kind is None or _has_type(kind, value):
        return None
    message = f"{what} must be {TYPE_WORDS[kind]}, got {describe(value)}"
    if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        message += "; put it in quotes"
    return message


def _has_type(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, list if kind == "list" else dict)


def _reference_in(value: Any) -> str | None:
    if isinstance(value, str):
        found = REFERENCE.search(value)
        return found.group(0) if found else None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        found_inside = _reference_in(item)
        if found_inside:
            return found_inside
    return None


def parse_text(kind: str | None, text: str) -> tuple[Any, str | None]:
    """A value given as text (``--var``, ``RECONCILER_VAR_``) as its declared type, or why not."""
    if kind is None or kind == "string":
        return text, None
    stripped = text.strip()
    if kind == "integer" and _INTEGER.match(stripped):
        return int(stripped), None
    if kind == "number" and _NUMBER.match(stripped):
        return (int(stripped) if _INTEGER.match(stripped) else float(stripped)), None
    if kind == "boolean" and stripped.lower() in ("true", "false"):
        return stripped.lower() == "true", None
    if kind in _FLOW_EXAMPLES:
        try:
            value = parse_value(text, "text")
        except LoadError:
            value = None
        if _has_type(kind, value):
            return value, None
        return None, (
            f"must be {TYPE_WORDS[kind]}, got {show(text)}: "
            f"write it as YAML or JSON flow text such as {_FLOW_EXAMPLES[kind]}"
        )
    return None, f"must be {TYPE_WORDS[kind]}, got {show(text)}"


class _Resolver:
    """Applies the sources in precedence order; a later value replaces an earlier one."""

    def __init__(
        self, variables: Variables, problems: list[Diagnostic], *, report_undeclared: bool
    ) -> None:
        self.variables = variables
        self.problems = problems
        self.report_undeclared = report_undeclared
        self.source_unread = False  # a value may be missing only because its file is unreadable

    def run(self, sources: Sources) -> None:
        for name, declaration in self.variables.declarations.items():
            if declaration.default is not None and name not in self.variables.broken:
                self.variables.values[name] = declaration.default
        self.source_unread = sources.environment_unread
        self._environ(sources.environ)
        if sources.environment is not None:
            self._environment_file(sources.environment)
        for path in sources.var_files:
            self._var_file(path)
        for argument in sources.var_args:
            self._var_argument(argument)
        self._missing()

    def _set(self, name: str, value: Value) -> None:
        self.variables.values[name] = value

    def _bad(self, name: str, diagnostic: Diagnostic) -> None:
        self.problems.append(diagnostic)
        self.variables.broken.add(name)

    def _environ(self, environ: Mapping[str, str]) -> None:
        for name, declaration in self.variables.declarations.items():
            source = ENV_PREFIX + name
            text = environ.get(source)
            if text is not None:
                self._text(declaration, text, source)

    def _text(self, declaration: Declaration, text: str, source: str) -> None:
        name = declaration.name
        value, problem = parse_text(declaration.type, text)
        problem = problem or _reference_problem(text)
        if problem:
            self._bad(name, Diagnostic(source, 0, 0, f'variable "{name}" {problem}'))
        else:
            self._set(name, Value(value, source))

    def _var_argument(self, argument: str) -> None:
        name, equals, text = argument.partition("=")
        if not equals:
            message = f"{show(argument)} is not NAME=VALUE"
            self.problems.append(Diagnostic("--var", 0, 0, message))
            return
        declaration = self.variables.declarations.get(name)
        if declaration is None:
            if self.report_undeclared:
                self.problems.append(Diagnostic("--var", 0, 0, self.variables.undeclared(name)))
            return
        self._text(declaration, text, "--var")

    def _environment_file(self, document: Document) -> None:
        block = document.data.get("variables")
        if isinstance(block, dict):
            self._values_of(document, ("variables",), block)

    def _var_file(self, path: str) -> None:
        try:
            document = read_document(path, empty=None)
        except LoadError as exc:
            self.problems.extend(exc.diagnostics)
            self.source_unread = True
            return
        self._values_of(document, (), document.data)

    def _values_of(self, document: Document, at: tuple[str, ...], block: dict[str, Any]) -> None:
        for name, value in block.items():
            declaration = self.variables.declarations.get(name)
            if declaration is None:
                if self.report_undeclared:
                    self._unused(document.key_at((*at, name)), name)
                continue
            where = document.value_at((*at, name))
            problem = _problem(declaration.type, value)
            if problem:
                self._bad(name, Diagnostic.at(where, f'variable "{name}" {problem}'))
            else:
                self._set(name, Value(value, str(where)))

    def _unused(self, where: Location, name: str) -> None:
        message = self.variables.undeclared(name, ignored=True)
        self.problems.append(Diagnostic.at(where, message, "warning"))

    def _missing(self) -> None:
        if self.source_unread:
            return
        for name, declaration in self.variables.declarations.items():
            if name in self.variables.values or name in self.variables.broken:
                continue
            message = (
                f'variable "{name}" has no value: give it a default, or set it with '
                f"--var {name}=VALUE, a --var-file, an environment file or {ENV_PREFIX}{name}"
            )
            self._bad(name, Diagnostic.at(declaration.location, message))


def _reference_problem(text: str) -> str | None:
    reference = _reference_in(text)
    if reference is None:
        return None
    return (
        f"value refers to {show(reference)}: a variable's value is a plain value "
        "and cannot refer to variables"
    )
