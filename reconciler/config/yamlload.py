"""Read one YAML configuration file into plain values plus the position of every value and key.

For: turning a file into JSON-like data (dict, list, str, int, float, bool, None) and two maps
keyed by JSON path (``("clusters", 0, "workers", "count")``): where each value starts and where
each mapping key starts, both 1-based, and the paths of the strings that hold ``${`` (variable
references, expanded by ``reconciler.config.variables``). It refuses input that is not one safe
YAML mapping:
oversized, binary or non-UTF-8 files, syntax errors, several documents, duplicate keys, unknown
tags and alias bombs. Problems come back as :class:`Diagnostic` values inside :class:`LoadError`.
A file in plain block style (most configurations) is read line by line (``read_block_yaml``);
any other goes to the full loader (``reconciler.config.yamlfull``: libyaml's node tree), which
alone refuses, and which is imported only then: PyYAML costs ~14 ms of start-up.
Not for: schema or semantic checks (the other stages of ``reconciler.config``) or secrets
(``reconciler.secrets``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from reconciler.config.documents import (
    EMPTY_CONFIG,
    Diagnostic,
    Document,
    JsonPath,
    LoadError,
    Position,
    fail,
)

__all__ = [
    "EMPTY_CONFIG",
    "Diagnostic",
    "Document",
    "JsonPath",
    "LoadError",
    "Position",
    "document_of",
    "parse_document",
    "parse_value",
    "read_block_yaml",
    "read_document",
]

MAX_FILE_BYTES = 10 * 1024 * 1024
ALIAS = "*"  # YAML's alias indicator: a text without it has no node reached twice


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
    """The full loader's reading of ``text`` (``reconciler.config.yamlfull.document_of``)."""
    from reconciler.config import yamlfull

    return yamlfull.document_of(path, text, empty=empty)


def parse_value(text: str, where: str) -> Any:
    """One YAML value written on the command line (``[a, b]``, ``{k: v}``, ``3``), with the same
    safety rules as a file; problems are reported against ``where`` (e.g. ``--var``)."""
    from reconciler.config import yamlfull

    return yamlfull.parse_value(text, where)


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
    return fail(path, 1, 1, f"file is too large ({size} bytes); the limit is 10 MB")


def _decode(path: str, raw: bytes) -> str:
    nul = raw.find(b"\0")
    if nul >= 0:
        line, column = _byte_position(raw, nul)
        raise fail(path, line, column, "file contains binary data (a NUL byte); expected YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(raw, exc.start)
        bad = raw[exc.start]
        raise fail(path, line, column, f"file is not valid UTF-8 (byte 0x{bad:02x})") from None
    return text.removeprefix("\ufeff")


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    prefix = raw[line_start:offset].decode("utf-8", errors="replace")
    return raw.count(b"\n", 0, offset) + 1, len(prefix) + 1


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
# LS, PS) and a BOM inside the text: the full loader decides about them. Most files are ASCII,
# and the pattern for any text takes ~5 ms to compile, so it is made only for a text that needs it.
_UNUSUAL_IN_ASCII = re.compile("[^\n\x20-\x7e]")


@cache
def _unusual() -> re.Pattern[str]:
    return re.compile(
        "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
    )


_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*\Z")  # a plain key that is only a string
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")  # what a plain scalar may not start with
_PLAIN_IF_FOLLOWED = frozenset("-?:")  # ... unless a character other than a space follows
_PLAIN_IN_FLOW = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@`\s][^,\[\]{}#:]*\Z")
_SINGLE = re.compile(r"'((?:[^']|'')*)'( *(?: #.*)?)\Z")
_DOUBLE = re.compile(r'"([^"\\]*)"( *(?: #.*)?)\Z')

# The first characters of the plain scalars that YAML 1.1 may read as something other than a
# string (PyYAML's implicit resolvers; ``tests/config/test_blockyaml.py`` checks it is their set).
_NEEDS_RESOLVING = frozenset("yYnNtTfFoO~-+.0123456789<=!&*")
# A plain scalar starting with one of these letters (or "~") is a bool or null only when it is
# one of these words; any other is a string.
_WORD_FIRST = frozenset("yYnNtTfFoO~")
_WORDS: dict[str, bool | None] = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    **dict.fromkeys(("~", "null", "Null", "NULL"), None),
}
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")  # an int whatever the YAML version
# Every character of YAML 1.1's implicit ints (binary, octal, hex, sexagesimal), floats (with
# .inf and .nan) and timestamps. A plain scalar with any other character, or with more than one
# ".", is none of them: a string ("1.20.8", "10.0.0.1", "172.16.0.0/16", "8Gi").
_NUMBER_FIRST = frozenset("-+.0123456789")
_NUMBER_OR_DATE = frozenset("0123456789_+-.:eEiInNfFaAbBcCdDxXtTZ \t")


class _Other(Exception):
    """Not the subset this reader knows: the full loader reads the file."""


def read_block_yaml(text: str, *, positions: bool = True) -> BlockRead | None:
    """``(data, values, keys, templates)`` as the full loader would build them, or None.

    Without ``positions``, only the positions of the top-level mapping, its sections and their
    entries (paths of up to ``EAGER_DEPTH`` parts) and of the sections' keys are recorded: a
    spec's location is its entry's, and the rest is asked for only to report a problem
    (:class:`LazyPositions` reads the text again then)."""
    if (_UNUSUAL_IN_ASCII if text.isascii() else _unusual()).search(text):
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
        if text[0] in _WORD_FIRST:
            value: Any = _WORDS.get(text, text)
        elif _DECIMAL.match(text):
            value = int(text)
        elif text[0] in _NUMBER_FIRST and (
            text.count(".") > 1 or not _NUMBER_OR_DATE.issuperset(text)
        ):
            value = text
        else:  # floats, octal, hex, sexagesimal and dates are rare: PyYAML says what they are
            from reconciler.config import yamlfull

            try:
                value = yamlfull.plain_scalar(text)
            except yamlfull.NotPlain:
                raise _Other from None  # "<<", "=": the full loader words it
        self.scalars[text] = value
        return value
