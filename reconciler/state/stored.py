"""A state document's entries kept as the text they were stored as: decoded one by one when a
run asks for one, written back as that very text when unchanged.

For: ``apply --plan`` of a saved plan that changes a few of 100,000 managed resources. Its
state file is the document a plan validated in full moments before (the saved plan records
its digest): reading it again need not decode 100,000 entries, nor writing it encode them.
:func:`read_stored` indexes the document's lines (this tool writes one entry per line, keys
sorted: ``jsontext``) and reads the rest of the document (lineage, serial, target, pending
intents, forgotten objects) as :func:`~reconciler.state.document.parse_document` does;
:class:`StoredEntries` is the ``State.resources`` mapping it gives, decoding an entry (with
the same checks) when first asked for; :func:`document_text` writes a state's document,
splicing the unchanged entries' lines: the same text as a full encode of the state
(``jsontext.dumps(state.to_json())``) of a document this tool wrote. A PostgreSQL state
(``postgres.PostgresStateStore``) uses the same mapping over entries left in the database,
fetched when asked for, and writes :meth:`StoredEntries.changes`.
Not for: deciding when a document may be read this way (the stores: only the very version a
full read validated), or any document in another layout (read in full).
"""

from __future__ import annotations

import bisect
import itertools
import json
import threading
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Any

from reconciler import jsontext
from reconciler.errors import StateError
from reconciler.model import Address
from reconciler.records import blank
from reconciler.state.document import (
    _APPLIED_DEPTH,
    MAX_DEPTH,
    ResourceState,
    State,
    _plain_entry,
    check_depth,
    parse_document,
)

# where a document as jsontext writes it holds its entries: the member lines of "resources"
_OPENING = '\n  "resources": {\n'
_CLOSING = "\n  }"
_DEPTH = 2  # the entries' indentation, in jsontext's levels
_MEMBER = '    "'  # how an entry's line begins: its indentation and the key's quote
_FIRST_FIELD = '": {"applied": '  # the end of its key, and its first field (keys sorted)
ONE_BY_ONE = 8  # entries fetched one by one before all are (StoredEntries with fetch)


class StoredEntries(MutableMapping[Address, ResourceState]):
    """``State.resources`` of a stored document: each entry kept as it is stored until asked
    for, then decoded and checked once (a damaged one raises the StateError a full read
    raises). ``lines``: each entry's address text and its line (:func:`read_stored`), or None
    where ``fetch`` gives its JSON text when asked (a PostgreSQL document, whose entries stay
    in the database): ``fetch([key])`` one entry's, ``fetch(None)`` every entry's, asked for
    once ``ONE_BY_ONE`` entries were fetched (a run that walks every entry, as a refresh that
    lists a kind does, costs one read of the document). Setting or removing an entry drops
    what was stored of it; what changed since the read is :meth:`member_lines` (a file) or
    :meth:`changes` (PostgreSQL). Safe to share between the executor's threads (one lock)."""

    def __init__(
        self,
        lines: dict[str, str | None],
        kinds: Sequence[str],
        where: str,
        fetch: Callable[[list[str] | None], dict[str, str]] | None = None,
    ) -> None:
        self._lines = lines  # address text -> its stored line (or None), unchanged since read
        self._held: dict[str, tuple[Address, ResourceState]] = {}  # decoded or set since read
        self._removed: set[str] = set()  # stored entries removed (or replaced) since read
        self._kinds = kinds
        self._where = where
        self._fetch = fetch
        self._fetched: dict[str, str] = {}  # the JSON text of entries fetched, by address text
        self._lock = threading.RLock()

    def _decoded(self, key: str) -> ResourceState | None:
        held = self._held.get(key)
        if held is not None:
            return held[1]
        if key not in self._lines:
            return None
        kind, _, name = key.partition(".")
        line = self._lines[key]
        if line is not None:
            value = line[len(_MEMBER) + len(key) + 3 :]  # after '    "KEY": '
        elif self._fetch is not None:
            if key not in self._fetched:
                many = len(self._fetched) >= ONE_BY_ONE
                self._fetched.update(self._fetch(None if many else [key]))
            value = self._fetched[key]
        else:
            raise KeyError(key)
        try:
            data = json.loads(value)
            entry = _plain_entry(data, self._kinds, _APPLIED_DEPTH) if type(data) is dict else None
            if entry is None:  # what a full read checks of an unusual entry, in the same words
                check_depth(data, MAX_DEPTH - _DEPTH)
                entry = ResourceState.checked_json(data, self._kinds)
        except (ValueError, RecursionError) as exc:
            raise StateError(f"{self._where}: state is not valid: resources.{key}: {exc}") from None
        if entry.kind != kind:
            raise StateError(
                f"{self._where}: state is not valid: resources.{key}: kind {entry.kind} is not {kind}"
            )
        self._held[key] = (Address(kind, name), entry)
        return entry

    def __getitem__(self, address: Address) -> ResourceState:
        with self._lock:
            entry = self._decoded(str(address))
        if entry is None:
            raise KeyError(address)
        return entry

    def __setitem__(self, address: Address, entry: ResourceState) -> None:
        key = str(address)
        with self._lock:
            if key in self._lines:
                del self._lines[key]
                self._removed.add(key)
            self._held[key] = (address, entry)

    def __delitem__(self, address: Address) -> None:
        key = str(address)
        with self._lock:
            stored = key in self._lines
            if stored:
                del self._lines[key]
                self._removed.add(key)
            held = self._held.pop(key, None) is not None
        if not (stored or held):
            raise KeyError(address)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, Address):
            return False
        key = str(address)
        with self._lock:
            return key in self._held or key in self._lines

    def __len__(self) -> int:
        with self._lock:
            return len(self._lines) + sum(1 for key in self._held if key not in self._lines)

    def __iter__(self) -> Iterator[Address]:
        with self._lock:  # a snapshot: other threads may add and remove entries meanwhile
            held = {key: address for key, (address, _) in self._held.items()}
            keys = [*self._lines, *(key for key in held if key not in self._lines)]
        make = object.__new__  # Address(kind, name) without its frozen __init__, as blank()
        blank(Address)
        for key in keys:
            address = held.get(key)
            if address is None:
                address = make(Address)
                values = address.__dict__
                values["kind"], values["name"] = key.split(".", 1)
            yield address

    def copy(self) -> StoredEntries:
        with self._lock:
            copied = StoredEntries(dict(self._lines), self._kinds, self._where, self._fetch)
            copied._held = dict(self._held)
            copied._removed = set(self._removed)
            copied._fetched = self._fetched
        return copied

    def member_lines(self) -> jsontext.Lines | None:
        """Every entry's line as ``jsontext.dumps`` writes it in a state document: the stored
        line of an entry unchanged since read, else its entry encoded now; None when the
        entries were not read as lines."""
        with self._lock:
            if self._fetch is not None:
                return None
            lines = jsontext.Lines(self._lines)  # type: ignore[arg-type]  # all lines, no fetch
            for key, (_, entry) in self._held.items():
                if key not in self._lines:
                    lines[key] = jsontext.member_line(key, entry.to_json(), _DEPTH)
        return lines

    def changes(self) -> tuple[dict[str, Any], list[str]]:
        """What changed since the read: each entry set (its JSON form, by address text) and
        the stored entries removed or replaced (their address texts, sorted)."""
        with self._lock:
            changed = {
                key: entry.to_json()
                for key, (_, entry) in self._held.items()
                if key not in self._lines
            }
            return changed, sorted(self._removed)


def read_stored(raw: bytes, where: str, kinds: Sequence[str]) -> State:
    """The stored document ``raw`` as a State whose entries are decoded when asked for
    (:class:`StoredEntries`) when it is laid out as this tool writes it; else read in full
    (:func:`~reconciler.state.document.parse_document`). Everything but the entries is read
    and checked as a full read does."""
    lines = _entry_lines(raw)
    if lines is None:
        return parse_document(raw, where, kinds)
    text, start, end, keys, found = lines
    if not _of_kinds(keys, kinds):
        return parse_document(raw, where, kinds)  # the full read names what it refuses
    state = parse_document(text[:start] + '\n  "resources": {}' + text[end:], where, kinds)
    state.resources = StoredEntries(found, kinds, where)
    return state


def _of_kinds(keys: list[str], kinds: Sequence[str]) -> bool:
    """Whether every key of ``keys`` (in increasing order) is ``KIND.NAME`` with KIND one of
    ``kinds`` and NAME not empty: the keys of a kind are one run of the order, so counting
    each kind's run (two bisections) tells, without a look at each key."""
    counted = 0
    for kind in set(kinds):
        first = bisect.bisect_left(keys, kind + ".")
        counted += bisect.bisect_left(keys, kind + "/", first) - first  # "/" follows "."
        if first < len(keys) and keys[first] == kind + ".":
            return False  # no name
    return counted == len(keys)


def _entry_lines(
    raw: bytes,
) -> tuple[str, int, int, list[str], dict[str, str | None]] | None:
    """The document's text, where its entries begin and end, the entries' keys (addresses) and
    each entry's line by its key; None unless the entries are one per line in increasing order of their keys, each
    key plain (no escape) and each value an object whose fields begin with ``applied``: the
    layout ``jsontext`` writes (its fields in key order). Checked with a few passes over the
    text rather than one test per line (100,000 lines)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    start = text.find(_OPENING)
    end = text.find(_CLOSING, start + len(_OPENING)) if start >= 0 else -1
    if end < 0:
        return None
    section = text[start + len(_OPENING) : end]
    lines = section.split(",\n")
    between = len(lines) - 1
    if not (
        section.startswith(_MEMBER)
        and section.endswith("}")
        and section.count("\n") == between  # no line but the separators' breaks
        and section.count('},\n    "') == between  # each line an object member, indented
    ):
        return None
    # the key ends where its value begins, with the first of its fields in key order
    keys = [line[len(_MEMBER) : line.find(_FIRST_FIELD, len(_MEMBER))] for line in lines]
    plain = "\n".join(keys)
    increasing = all(map(str.__lt__, keys, itertools.islice(keys, 1, None)))
    if '"' in plain or "\\" in plain or not increasing:
        return None  # an escaped key, or not in increasing order: read in full
    found: dict[str, str | None] = dict(zip(keys, lines, strict=True))
    return text, start, end + len(_CLOSING), keys, found


def document_text(state: State) -> str:
    """The document of ``state`` as ``jsontext.dumps(state.to_json())`` writes it; an entry
    unchanged since :func:`read_stored` read it is written as the line it was read as."""
    entries = state.resources
    lines = entries.member_lines() if isinstance(entries, StoredEntries) else None
    if lines is None:
        return jsontext.dumps(state.to_json())
    document = without_entries(state)
    document["resources"] = lines
    return jsontext.dumps(document)


def without_entries(state: State) -> dict[str, Any]:
    """The document of ``state`` with no entry in ``resources``."""
    rest = State(state.lineage, state.serial, {}, state.pending, state.forgotten, state.target)
    return rest.to_json()
