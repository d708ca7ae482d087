"""Read one YAML configuration file into plain values plus the position of every value and key.

For: turning a file into JSON-like data (dict, list, str, int, float, bool, None) and two maps
keyed by JSON path (``("clusters", 0, "workers", "count")``): where each value starts and where
each mapping key starts, both 1-based, and the paths of the strings that hold ``${`` (variable
references, expanded by ``reconciler.config.variables``). It refuses input that is not one safe
YAML mapping:
oversized, binary or non-UTF-8 files, syntax errors, several documents, duplicate keys, unknown
tags and alias bombs. Problems come back as :class:`Diagnostic` values inside :class:`LoadError`.
A file in plain block style (most configurations) is read line by line (``read_block_yaml``);
any other goes to the full loader (libyaml's node tree and ``_Builder``), which alone refuses.
Not for: schema or semantic checks (the other stages of ``reconciler.config``) or secrets
(``reconciler.secrets``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from reconciler.model import Location
from reconciler.records import frozen_record

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ALIAS_NODES = 10_000  # nodes reached a second time through aliases, summed over a file
MAX_DEPTH = 64

JsonPath = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column

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


@frozen_record(order=True)
class Diagnostic:
    """One problem; ``line == 0`` means the whole path (it does not exist, holds no YAML ...).

    ``severity`` is ``error`` (the configuration is refused) or ``warning`` (it is not).
    """

    path: str
    line: int = 0
    column: int = 0
    message: str = field(default="")
    severity: str = field(default="error")

    @classmethod
    def at(cls, location: Location, message: str, severity: str = "error") -> Diagnostic:
        return cls(location.path, location.line, location.column, message, severity)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


class LoadError(Exception):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(map(str, diagnostics)))
        self.diagnostics = diagnostics


@frozen_record
class Document:
    """A file's top-level mapping and where each of its values and keys starts.

    Positions are kept as ``(line, column)`` pairs and become a :class:`Location` only when
    asked for: a large file has hundreds of thousands of them and few are ever shown.
    """

    path: str
    data: dict[str, Any]
    values: Mapping[JsonPath, Position]
    keys: Mapping[JsonPath, Position]
    templates: tuple[JsonPath, ...] = ()  # strings holding "${", in file order

    def value_at(self, jpath: JsonPath) -> Location:
        """The node at ``jpath``, or its nearest ancestor that exists."""
        found = self.values.get(jpath)
        if found is not None:
            return Location(self.path, *found)
        for end in range(len(jpath) - 1, -1, -1):
            found = self.values.get(jpath[:end])
            if found is not None:
                return Location(self.path, *found)
        return Location(self.path, 1, 1)

    def key_at(self, jpath: JsonPath) -> Location:
        """The key node of the mapping entry at ``jpath`` (the value for a list element)."""
        found = self.keys.get(jpath)
        return Location(self.path, *found) if found is not None else self.value_at(jpath)


EMPTY_CONFIG = (
    "file is empty: expected a mapping with target, users, namespaces, repositories or clusters"
)


def read_document(path: str, *, empty: str | None = EMPTY_CONFIG) -> Document:
    """Load ``path``; raise :class:`LoadError` with every problem found in it.

    An empty file is refused with the message ``empty``, or read as an empty mapping when
    ``empty`` is None (a file of variable values may hold none).
    """
    return parse_document(path, _read_text(path), empty=empty)


def parse_document(path: str, text: str, *, empty: str | None = EMPTY_CONFIG) -> Document:
    """:func:`read_document` of a text already read: by the block reader when it knows the
    text (positions beyond the entries read again when first asked for), else in full."""
    plain = read_block_yaml(text, positions=False)
    if plain is not None:  # the common case, several times faster; else the full loader
        data, values, keys, templates = plain
        source = _Positions(text)
        return Document(
            path,
            data,
            LazyPositions(values, EAGER_DEPTH, source, of_keys=False),
            LazyPositions(keys, 1, source, of_keys=True),
            tuple(templates),
        )
    return document_of(path, text, empty=empty)


def document_of(path: str, text: str, *, empty: str | None = EMPTY_CONFIG) -> Document:
    """The full loader: libyaml's node tree of ``text`` and the builder below; every refusal
    and diagnostic of :func:`read_document` is made here."""
    root = _compose(path, text)
    if root is None or (_is_null(root) and root.value in ("", "~")):
        if empty is None:
            return Document(path, {}, {}, {})
        raise _fail(path, 1, 1, empty)
    if not isinstance(root, MappingNode):
        where = _location(path, root)
        raise _fail(
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


def _fail(path: str, line: int, column: int, message: str) -> LoadError:
    return LoadError([Diagnostic(path, line, column, message)])


def _read_text(path: str) -> str:
    try:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            raise _too_large(path, size)
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LoadError([Diagnostic(path, 0, 0, f"cannot read: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise _too_large(path, len(raw))
    return _decode(path, raw)


def _too_large(path: str, size: int) -> LoadError:
    return _fail(path, 1, 1, f"file is too large ({size} bytes); the limit is 10 MB")


def _decode(path: str, raw: bytes) -> str:
    nul = raw.find(b"\0")
    if nul >= 0:
        line, column = _byte_position(raw, nul)
        raise _fail(
            path, line, column, "file contains binary data (a NUL byte); expected YAML text"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(raw, exc.start)
        bad = raw[exc.start]
        raise _fail(path, line, column, f"file is not valid UTF-8 (byte 0x{bad:02x})") from None
    return text.removeprefix("\ufeff")


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    prefix = raw[line_start:offset].decode("utf-8", errors="replace")
    return raw.count(b"\n", 0, offset) + 1, len(prefix) + 1


def _text_position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _compose(path: str, text: str) -> Node | None:
    """libyaml when present for speed; errors are re-read by the pure parser for stable text."""
    try:
        return _single_node(_FAST_LOADER, text)
    except (yaml.YAMLError, RecursionError):
        pass
    try:
        return _single_node(yaml.SafeLoader, text)
    except RecursionError:
        raise _fail(
            path, 1, 1, f"YAML is nested too deeply (more than {MAX_DEPTH} levels)"
        ) from None
    except yaml.reader.ReaderError as exc:
        line, column = _text_position(text, exc.position)
        raise _fail(
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


# --- the fast reader of plain block YAML ---------------------------------------------------
# Most configuration files use only block mappings and sequences with one value per line (plain
# scalars, one-line quoted strings, one-line flow lists and mappings of such scalars such as
# ``[v1, latest]`` and ``{env: NAME}``) and comments. ``read_block_yaml`` reads such a file
# into exactly what the full loader above makes of it (the same values, the same position of
# every value and key, the same ``${`` strings), about three times faster: it makes no node,
# event or mark object, since each line says where it is. It answers None for anything else
# (tabs, carriage returns, characters YAML refuses, anchors, aliases, tags, merge keys, quoted
# or complex keys, block scalars, multi-line values, nested flow collections, escapes in
# quotes, several documents, a duplicate key, unusual indentation, any line it does not
# recognise), and the full loader then reads the file: this reader never decides that a file
# is wrong, so every refusal and diagnostic stays the full loader's.
# ``tests/config/test_blockyaml.py`` checks it against the full loader on generated documents.

BlockRead = tuple[
    dict[str, Any], dict[JsonPath, Position], dict[JsonPath, Position], list[JsonPath]
]
_FAST_MAX_DEPTH = 48  # deeper files go to the full loader, which enforces MAX_DEPTH

# Characters outside YAML's printable set, tabs, and line breaks other than "\n" (CR, NEL,
# LS, PS) and a BOM inside the text: the full loader decides about them.
_UNUSUAL = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*\Z")  # a plain key that is only a string
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")  # what a plain scalar may not start with
_PLAIN_IF_FOLLOWED = frozenset("-?:")  # ... unless a character other than a space follows
_PLAIN_IN_FLOW = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@`\s][^,\[\]{}#:]*\Z")
_SINGLE = re.compile(r"'((?:[^']|'')*)'( *(?: #.*)?)\Z")
_DOUBLE = re.compile(r'"([^"\\]*)"( *(?: #.*)?)\Z')

_BUILT_TAGS = frozenset({_TAG + t for t in ("null", "bool", "int", "float")})
_RESOLVER = Resolver()
_NEEDS_RESOLVING = frozenset(Resolver.yaml_implicit_resolvers)


class _Other(Exception):
    """Not the subset this reader knows: the full loader reads the file."""


def read_block_yaml(text: str, *, positions: bool = True) -> BlockRead | None:
    """``(data, values, keys, templates)`` as the full loader would build them, or None.

    Without ``positions``, only the positions of the top-level mapping, its sections and their
    entries (paths of up to ``EAGER_DEPTH`` parts) and of the sections' keys are recorded: a
    spec's location is its entry's, and the rest is asked for only to report a problem
    (:class:`LazyPositions` reads the text again then)."""
    if _UNUSUAL.search(text):
        return None
    try:
        return _Reader(positions).read(text)
    except _Other:
        return None


EAGER_DEPTH = 2  # ("repositories", 7): every entry's position is recorded on the first read


class _Positions:
    """The positions of one text, read again (all of them) when first asked for."""

    def __init__(self, text: str) -> None:
        self.text: str | None = text
        self.read: tuple[dict[JsonPath, Position], dict[JsonPath, Position]] | None = None

    def all(self) -> tuple[dict[JsonPath, Position], dict[JsonPath, Position]]:
        if self.read is None:
            assert self.text is not None
            found = read_block_yaml(self.text)
            assert found is not None  # the same text read the first time
            self.read, self.text = (found[1], found[2]), None
        return self.read


class LazyPositions(Mapping[JsonPath, Position]):
    """Positions known for paths up to ``depth`` parts; the others read when first asked for."""

    def __init__(
        self, known: dict[JsonPath, Position], depth: int, source: _Positions, *, of_keys: bool
    ) -> None:
        self.known = known
        self.depth = depth
        self.source: _Positions | None = source
        self.of_keys = of_keys  # the positions of mapping keys, not of values

    def _all(self) -> dict[JsonPath, Position]:
        if self.source is not None:
            values, keys = self.source.all()
            self.known, self.source = (keys if self.of_keys else values), None
        return self.known

    def get(self, jpath: JsonPath, default: Any = None) -> Any:
        if len(jpath) > self.depth and self.source is not None:
            self._all()
        return self.known.get(jpath, default)

    def __getitem__(self, jpath: JsonPath) -> Position:
        found = self.get(jpath)
        if found is None:
            raise KeyError(jpath)
        return found

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class _Frame:
    """An open block collection: its indentation (0-based column), itself and its path."""

    __slots__ = ("column", "container", "jpath", "indentless")

    def __init__(self, column: int, container: Any, jpath: JsonPath, indentless: bool) -> None:
        self.column = column
        self.container = container
        self.jpath = jpath
        self.indentless = indentless  # a sequence at its mapping key's column


class _Reader:
    def __init__(self, positions: bool) -> None:
        self.positions = positions
        self.values: dict[JsonPath, Position] = {}
        self.keys: dict[JsonPath, Position] = {}
        self.templates: list[JsonPath] = []
        self.scalars: dict[str, Any] = {}

    def read(self, text: str) -> BlockRead:
        values, keys, templates = self.values, self.keys, self.templates
        every = self.positions  # else only up to EAGER_DEPTH (values) and 1 (keys)
        root: dict[str, Any] = {}
        stack: list[_Frame] = []
        # a key whose value is on the lines below: (mapping frame, key, value's path, mark)
        pending: tuple[_Frame, str, JsonPath, Position] | None = None
        known_keys: set[str] = set()
        scalar, value_of = self.scalar, self.value
        line_number = 0
        for line in text.split("\n"):
            line_number += 1
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                continue
            column = len(line) - len(content)
            dash = content[0] == "-" and content[1:2] == " "
            item_column = column
            if dash:
                content = content[1:].lstrip(" ")
                item_column = len(line) - len(content)
                if not content or content[0] == "#":
                    raise _Other  # "-" alone, its item on the lines below
            head, colon, tail = content.partition(":")
            key: str | None = None
            if colon and (not tail or tail[0] == " "):
                if head in known_keys:
                    key = head
                elif _KEY.match(head):
                    known_keys.add(head)
                    key = head
            if not stack:
                if column or dash or key is None:
                    raise _Other
                stack.append(_Frame(0, root, (), False))
                values[()] = (line_number, 1)
            elif pending is not None:
                owner, pending_key, value_path, mark = pending
                pending = None
                if column > owner.column or (column == owner.column and dash):
                    if len(value_path) > _FAST_MAX_DEPTH or not (dash or key is not None):
                        raise _Other  # too deep, or a scalar on the next line
                    nested: Any = [] if dash else {}
                    owner.container[pending_key] = nested
                    if every or len(value_path) <= EAGER_DEPTH:
                        values[value_path] = (line_number, column + 1)
                    stack.append(_Frame(column, nested, value_path, column == owner.column))
                else:
                    owner.container[pending_key] = None
                    if every or len(value_path) <= EAGER_DEPTH:
                        values[value_path] = mark
            frame = stack[-1]
            while column < frame.column or (
                frame.indentless and column == frame.column and not dash
            ):
                stack.pop()
                frame = stack[-1]  # the root has column 0: never empty
            if column != frame.column:
                raise _Other
            container = frame.container
            if dash:
                if container.__class__ is not list:
                    raise _Other
                item_path = (*frame.jpath, len(container))
                if key is None:
                    container.append(value_of(content, item_path, line_number, item_column))
                    continue
                if len(item_path) > _FAST_MAX_DEPTH:
                    raise _Other
                mapping: dict[str, Any] = {}
                container.append(mapping)
                if every or len(item_path) <= EAGER_DEPTH:
                    values[item_path] = (line_number, item_column + 1)
                frame = _Frame(item_column, mapping, item_path, False)
                stack.append(frame)
                container = mapping
                column = item_column
            elif key is None or container.__class__ is not dict:
                raise _Other
            if key in container:
                raise _Other  # a duplicate: the full loader words it
            rest = tail.lstrip(" ")
            first = rest[:1]
            if first and first not in _INDICATORS:  # a plain scalar: most values, inline
                plain = rest.partition(" #")[0] if "#" in rest else rest
                if plain[-1] == " ":
                    plain = plain.rstrip(" ")
                if ": " in plain or plain[-1] == ":":
                    raise _Other  # a mapping inside the value
                value = scalar(plain) if first in _NEEDS_RESOLVING else plain
                container[key] = value
                if every or len(frame.jpath) < EAGER_DEPTH:
                    here = (*frame.jpath, key)
                    values[here] = (line_number, len(line) - len(rest) + 1)
                    if every or not frame.jpath:
                        keys[here] = (line_number, column + 1)
                if value.__class__ is str and "${" in value:
                    templates.append((*frame.jpath, key))
                continue
            here = (*frame.jpath, key)
            if every or len(here) == 1:
                keys[here] = (line_number, column + 1)
            if not first or first == "#":
                # the value is on the lines below, or null: marked just after the colon
                container[key] = None
                pending = (frame, key, here, (line_number, column + len(key) + 2))
            else:
                container[key] = value_of(rest, here, line_number, len(line) - len(rest))
        if not stack:
            raise _Other  # empty, or only comments
        if pending is not None:
            owner, pending_key, value_path, mark = pending
            owner.container[pending_key] = None
            if every or len(value_path) <= EAGER_DEPTH:
                values[value_path] = mark
        return root, values, keys, templates

    def value(self, rest: str, jpath: JsonPath, line: int, column: int) -> Any:
        """The value written at ``column`` (0-based) of ``line``: ``rest`` is the line from there."""
        if self.positions or len(jpath) <= EAGER_DEPTH:
            self.values[jpath] = (line, column + 1)
        first = rest[0]
        if first == "[":
            return self.flow_list(rest, jpath, line, column)
        if first == "'" or first == '"':
            quoted = (_SINGLE if first == "'" else _DOUBLE).match(rest)
            if quoted is None:
                raise _Other
            text = quoted.group(1)
            if first == "'":
                text = text.replace("''", "'")
            if "${" in text:
                self.templates.append(jpath)
            return text
        if first == "{":
            return self.flow_mapping(rest, jpath, line, column)
        plain = (rest.partition(" #")[0] if "#" in rest else rest).rstrip(" ")
        if (
            (first in _INDICATORS and (first not in _PLAIN_IF_FOLLOWED or plain[1:2] in ("", " ")))
            or ": " in plain
            or plain[-1] == ":"
        ):
            raise _Other  # an indicator, or a mapping inside the value
        if first in _NEEDS_RESOLVING:
            value = self.scalar(plain)
            if value.__class__ is not str:
                return value
        if "${" in plain:
            self.templates.append(jpath)
        return plain

    def flow_list(self, rest: str, jpath: JsonPath, line: int, column: int) -> list[Any]:
        """``[a, 'b', "c"]`` on one line: plain or quoted scalars without commas."""
        body = rest.partition(" #")[0].rstrip(" ")
        if not body.endswith("]") or "#" in body:
            raise _Other
        inner = body[1:-1]
        if not inner.strip(" "):
            return []
        items: list[Any] = []
        if (
            not self.positions
            and len(jpath) >= EAGER_DEPTH
            and "'" not in inner
            and '"' not in inner
        ):
            for piece in inner.split(","):  # plain items, whose positions are not recorded now
                text = piece.strip(" ")
                if _PLAIN_IN_FLOW.match(text) is None:
                    raise _Other
                value = self.scalar(text) if text[0] in _NEEDS_RESOLVING else text
                if value.__class__ is str and "${" in value:
                    self.templates.append((*jpath, len(items)))
                items.append(value)
            return items
        offset = column + 1
        for piece in inner.split(","):
            start = offset + len(piece) - len(piece.lstrip(" "))
            items.append(self.flow_scalar(piece.strip(" "), (*jpath, len(items)), line, start))
            offset += len(piece) + 1
        return items

    def flow_mapping(self, rest: str, jpath: JsonPath, line: int, column: int) -> dict[str, Any]:
        """``{env: NAME}`` on one line: plain keys, plain or quoted scalars without commas."""
        body = rest.partition(" #")[0].rstrip(" ")
        if not body.endswith("}") or "#" in body:
            raise _Other
        inner = body[1:-1]
        mapping: dict[str, Any] = {}
        if not inner.strip(" "):
            return mapping
        offset = column + 1
        for piece in inner.split(","):
            head, colon, tail = piece.partition(":")
            key = head.strip(" ")
            if not colon or tail[:1] != " " or _KEY.match(key) is None or key in mapping:
                raise _Other
            here = (*jpath, key)
            if self.positions:
                self.keys[here] = (line, offset + len(head) - len(head.lstrip(" ")) + 1)
            start = offset + len(head) + 1 + len(tail) - len(tail.lstrip(" "))
            mapping[key] = self.flow_scalar(tail.strip(" "), here, line, start)
            offset += len(piece) + 1
        return mapping

    def flow_scalar(self, text: str, jpath: JsonPath, line: int, column: int) -> Any:
        """A scalar inside ``[...]`` or ``{...}``, written at ``column`` (0-based)."""
        if self.positions or len(jpath) <= EAGER_DEPTH:
            self.values[jpath] = (line, column + 1)
        first = text[:1]
        if first == "'" or first == '"':
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != first:
                raise _Other
            if first == '"':
                if '"' in inner or "\\" in inner:
                    raise _Other
            elif "'" in inner.replace("''", ""):
                raise _Other
            else:
                inner = inner.replace("''", "'")
            value: Any = inner
        elif _PLAIN_IN_FLOW.match(text) is None:
            raise _Other
        else:
            value = self.scalar(text) if first in _NEEDS_RESOLVING else text
        if value.__class__ is str and "${" in value:
            self.templates.append(jpath)
        return value

    def scalar(self, text: str) -> Any:
        """A plain scalar's value, as the full loader resolves and constructs it."""
        try:
            return self.scalars[text]
        except KeyError:
            pass
        tag = _RESOLVER.resolve(ScalarNode, text, (True, False))
        if tag == _STR_TAG or tag == _TIMESTAMP_TAG:
            value: Any = text
        elif tag in _BUILT_TAGS:
            value = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, ScalarNode(tag, text))
        else:
            raise _Other  # "<<", "=": the full loader words it
        self.scalars[text] = value
        return value
