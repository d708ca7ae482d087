"""The full YAML loader: libyaml's node tree of a file, built into values and positions.

For: any configuration file the block reader of ``reconciler.config.yamlload`` does not know
(flow style, anchors and aliases, tags, merge keys, block scalars, anything unusual), and every
refusal and diagnostic of a file: syntax errors, several documents, duplicate keys, unknown tags,
alias bombs, nesting too deep; also one YAML value given on the command line; and the value of a
plain scalar the block reader does not resolve itself. It imports PyYAML, which costs a plan
~14 ms of start-up, so ``yamlload`` imports it only when a file needs it.
Not for: reading files from disk or the checks of the later stages of ``reconciler.config``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from reconciler.config.documents import (
    EMPTY_CONFIG,
    Diagnostic,
    Document,
    JsonPath,
    LoadError,
    Position,
    fail,
    text_position,
)
from reconciler.model import Location

MAX_ALIAS_NODES = 10_000  # nodes reached a second time through aliases, summed over a file
MAX_DEPTH = 64

_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _TAG + "merge"
_STR_TAG = _TAG + "str"
_TIMESTAMP_TAG = _TAG + "timestamp"
_SCALAR_TAGS = {_TAG + t for t in ("null", "bool", "int", "float", "str", "timestamp")}
_CONSTRUCTOR = SafeConstructor()
ALIAS = "*"  # YAML's alias indicator: a text without it has no node reached twice


class _CachingLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml when present; a scalar's implicit tag is memoised per file, because keys and
    common values repeat thousands of times in a large configuration and ``resolve`` is Python.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[str, str] = {}

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is not ScalarNode or self.yaml_path_resolvers:
            return str(super().resolve(kind, value, implicit))
        if not implicit[0]:
            return _STR_TAG  # quoted or block text: a string, as PyYAML's resolver says
        tag = self._tags.get(value)  # a plain scalar's tag depends on its text alone
        if tag is None:
            tag = self._tags[value] = super().resolve(kind, value, implicit)
        return tag


_FAST_LOADER: type[yaml.SafeLoader] = _CachingLoader


def document_of(path: str, text: str, *, empty: str | None = EMPTY_CONFIG) -> Document:
    """The full loader: libyaml's node tree of ``text`` and the builder below; every refusal
    and diagnostic of :func:`read_document` is made here."""
    root = _compose(path, text)
    if root is None or (_is_null(root) and root.value in ("", "~")):
        if empty is None:
            return Document(path, {}, {}, {})
        raise fail(path, 1, 1, empty)
    if not isinstance(root, MappingNode):
        where = _location(path, root)
        raise fail(
            path,
            where.line,
            where.column,
            f"the top level must be a mapping, not {_node_kind(root)}",
        )
    return _Builder(path, aliases=ALIAS in text).document(root)


def parse_value(text: str, where: str) -> Any:
    """One YAML value written on the command line (``[a, b]``, ``{k: v}``, ``3``), with the same
    safety rules as a file; problems are reported against ``where`` (e.g. ``--var``)."""
    try:
        root = _compose(where, text)
    except LoadError as exc:
        raise LoadError([Diagnostic(where, 0, 0, d.message) for d in exc.diagnostics]) from None
    if root is None:
        return None
    builder = _Builder(where, aliases=ALIAS in text)
    try:
        value = builder.build(root, ())
    except _Refused as exc:
        raise LoadError([Diagnostic(where, 0, 0, exc.message)]) from None
    if builder.problems:
        raise LoadError([Diagnostic(where, 0, 0, d.message) for d in builder.problems])
    return value


def _compose(path: str, text: str) -> Node | None:
    """libyaml when present for speed; errors are re-read by the pure parser for stable text."""
    try:
        return _single_node(_FAST_LOADER, text)
    except (yaml.YAMLError, RecursionError):
        pass
    try:
        return _single_node(yaml.SafeLoader, text)
    except RecursionError:
        raise fail(
            path, 1, 1, f"YAML is nested too deeply (more than {MAX_DEPTH} levels)"
        ) from None
    except yaml.reader.ReaderError as exc:
        line, column = text_position(text, exc.position)
        raise fail(
            path, line, column, f"character U+{exc.character:04X} is not allowed in YAML"
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise LoadError([_syntax_diagnostic(path, exc)]) from None


def _single_node(loader_class: type[yaml.SafeLoader], text: str) -> Node | None:
    loader = loader_class(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _syntax_diagnostic(path: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Diagnostic(path, line, column, _syntax_message(exc))


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "syntax error"
    if exc.context == "expected a single document in the stream":
        return "more than one YAML document in this file; put each document in its own file"
    if "'\\t'" in problem or "tab" in problem:
        return "invalid YAML: tab character; indent with spaces (YAML does not allow tabs here)"
    context = exc.context_mark
    if problem.startswith("expected <block end>, but found") and context is not None:
        # a line indented deeper or shallower than the entries of the list or mapping it is in
        return (
            "invalid YAML: this line's indentation does not match the lines above it: indent "
            "it as its siblings (the list or mapping it would continue starts at line "
            f"{context.line + 1}, column {context.column + 1})"
        )
    if problem == "mapping values are not allowed here":
        return (
            'invalid YAML: a "key: value" where a plain value was expected: check the '
            'indentation of this line, or quote a value that holds ": "'
        )
    if exc.context and context is not None and exc.problem_mark is not None:
        if (context.line, context.column) != (exc.problem_mark.line, exc.problem_mark.column):
            return f"invalid YAML: {problem} ({exc.context} at line {context.line + 1}, column {context.column + 1})"
    return f"invalid YAML: {problem}"


def _location(path: str, node: Node) -> Location:
    return Location(path, *_position(node))


def _position(node: Node) -> Position:
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + "null"


def _node_kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    if _is_null(node):
        return "null"
    return f"a scalar ({node.value!r})"


class _Refused(Exception):
    """Stop building: the file is hostile or absurd (alias bomb, recursion, depth)."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(message)
        self.location = location
        self.message = message


class _Builder:
    """Builds plain values from a composed node tree, recording positions by JSON path.

    Aliased nodes are shared in the tree; expanding them is what a "billion laughs" file
    exploits, so every node reached a second time counts towards ``MAX_ALIAS_NODES``.
    """

    def __init__(self, path: str, aliases: bool = True) -> None:
        self.path = path
        self.aliases = aliases  # False: no alias in the text, so no node is counted twice
        self.values: dict[JsonPath, Position] = {}
        self.keys: dict[JsonPath, Position] = {}
        self.problems: list[Diagnostic] = []
        self.templates: list[JsonPath] = []
        self.seen: set[int] = set()
        self.active: set[int] = set()
        self.alias_nodes = 0

    def document(self, root: MappingNode) -> Document:
        try:
            data = self.build(root, ())
        except _Refused as exc:
            raise LoadError([Diagnostic.at(exc.location, exc.message)]) from None
        if self.problems:
            raise LoadError(sorted(self.problems))
        return Document(self.path, data, self.values, self.keys, tuple(self.templates))

    def build(self, node: Node, jpath: JsonPath) -> Any:
        mark = node.start_mark
        self.values[jpath] = (mark.line + 1, mark.column + 1)
        if self.aliases:
            self._count(node, len(jpath))
        elif len(jpath) > MAX_DEPTH:
            self._count(node, len(jpath))  # refuses it
        if type(node) is ScalarNode:
            tag = node.tag
            value = node.value if tag == _STR_TAG else self._scalar(node)
            if type(value) is str and "${" in value:
                self.templates.append(jpath)
            return value
        if not self.aliases:
            return self._collection(node, jpath)
        self.active.add(id(node))
        try:
            return self._collection(node, jpath)
        finally:
            self.active.discard(id(node))

    def _collection(self, node: Node, jpath: JsonPath) -> Any:
        if isinstance(node, SequenceNode):
            return [self.build(item, (*jpath, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        return self._mapping(node, jpath)

    def _count(self, node: Node, depth: int) -> None:
        if id(node) in self.active:
            raise _Refused(
                self._where(node), "recursive alias: a node that contains itself is not allowed"
            )
        if depth > MAX_DEPTH:
            raise _Refused(
                self._where(node), f"YAML is nested too deeply (more than {MAX_DEPTH} levels)"
            )
        if id(node) not in self.seen:
            self.seen.add(id(node))
            return
        self.alias_nodes += 1
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise _Refused(
                self._where(node),
                f"aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?); refusing to expand them",
            )

    def _where(self, node: Node) -> Location:
        return _location(self.path, node)

    def _scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR_TAG or tag == _TIMESTAMP_TAG:
            return node.value
        if tag in _SCALAR_TAGS:
            return _CONSTRUCTOR.construct_object(node)
        shown = tag.replace(_TAG, "!!", 1) if tag.startswith(_TAG) else tag
        self.problems.append(Diagnostic.at(self._where(node), f"unsupported YAML tag {shown}"))
        return node.value

    def _mapping(self, node: MappingNode, jpath: JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: list[tuple[ScalarNode, Node]] = []
        keys, build = self.keys, self.build
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self._merge_entries(value_node))
            elif type(key_node) is ScalarNode and key_node.value not in result:
                key = key_node.value  # the common case of _check_key and _put, inline
                here = (*jpath, key)
                mark = key_node.start_mark
                keys[here] = (mark.line + 1, mark.column + 1)
                result[key] = build(value_node, here)
            elif self._check_key(key_node, result, jpath):
                self._put(result, key_node, value_node, jpath)
        for key_node, value_node in merged:
            if key_node.value not in result:
                self._put(result, key_node, value_node, jpath)
        return result

    def _put(
        self, result: dict[str, Any], key_node: ScalarNode, value_node: Node, jpath: JsonPath
    ) -> None:
        key = key_node.value
        here = (*jpath, key)
        mark = key_node.start_mark
        self.keys[here] = (mark.line + 1, mark.column + 1)
        result[key] = self.build(value_node, here)

    def _check_key(self, key_node: Node, result: dict[str, Any], jpath: JsonPath) -> bool:
        if not isinstance(key_node, ScalarNode):
            self.problems.append(
                Diagnostic.at(
                    self._where(key_node),
                    f"a mapping key must be a plain string, not {_node_kind(key_node)}",
                )
            )
            return False
        if key_node.value not in result:
            return True
        first = self.keys.get((*jpath, key_node.value))
        if first is not None:
            line, column = first
            message = f'duplicate key "{key_node.value}": also at line {line}, column {column}'
            self.problems.append(Diagnostic.at(self._where(key_node), message))
            return False
        return True

    def _merge_entries(self, node: Node) -> Iterator[tuple[ScalarNode, Node]]:
        """``<<: *base`` or ``<<: [*a, *b]``; earlier sources win, explicit keys win over all."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, MappingNode):
                where = _location(self.path, source)
                self.problems.append(
                    Diagnostic.at(where, "a merge key (<<) needs a mapping or a list of mappings")
                )
                continue
            self._count(source, 0)
            nested = [value for key, value in source.value if key.tag == _MERGE_TAG]
            for key_node, value_node in source.value:
                if isinstance(key_node, ScalarNode) and key_node.tag != _MERGE_TAG:
                    yield key_node, value_node
            for value_node in nested:
                yield from self._merge_entries(value_node)


_BUILT_TAGS = frozenset({_TAG + t for t in ("null", "bool", "int", "float")})
_RESOLVER = Resolver()
# The first characters of the plain scalars PyYAML's resolver may give another tag than str
# (``yamlload`` keeps its own copy of this set; a test checks the two are equal).
IMPLICIT_FIRST_CHARACTERS = frozenset(Resolver.yaml_implicit_resolvers)


class NotPlain(Exception):
    """A plain scalar that is a merge key ("<<") or a value key ("="): the full loader words it."""


def plain_scalar(text: str) -> Any:
    """A plain scalar's value, as the full loader resolves and constructs it."""
    tag = _RESOLVER.resolve(ScalarNode, text, (True, False))
    if tag == _STR_TAG or tag == _TIMESTAMP_TAG:
        return text
    if tag in _BUILT_TAGS:
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, ScalarNode(tag, text))
    raise NotPlain(text)
