"""The state document: what is managed, as stored, and the checks it passes when read.

For: the value types every stage reads (:class:`State`, :class:`ResourceState`,
:class:`PendingIntent`), their JSON form (the same on disk and in PostgreSQL), and the
salted hashes that stand in for secrets. A document read from a store is validated here, so a
damaged or hostile file gives a :class:`StateError` naming it, never a crash. Which kinds exist
is the registry's: the reader is given their names (``kinds``, in dependency order; the store
holds them), and an entry of any other kind is refused.

Not for: the journal (``reconciler.state.journal``), locks, or where a document is kept (the
backends).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Container, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from reconciler.errors import StateError
from reconciler.model import Address
from reconciler.records import blank, frozen_record

FORMAT_VERSION = 1
CREATED = "created"
ADOPTED = "adopted"
OWNERSHIPS = (CREATED, ADOPTED)
ACTIONS = ("create", "update", "delete")
# Deeper than any document this tool writes (about 8 levels), shallow enough that nothing that
# walks a document recursively (asdict, deepdiff, json.dumps) can run out of stack on it.
MAX_DEPTH = 64


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PBKDF2_ITERATIONS = 200_000
MAX_ITERATIONS = 10_000_000


def hash_secret(value: str, salt: str | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """``pbkdf2_sha256$iterations$salt$hex``: the only form a secret takes in state. A slow,
    salted hash, because a shared state (PostgreSQL, CI artefacts) is read by many."""
    import secrets  # a new salt only when a secret's hash is made

    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", value.encode(), salt.encode(), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


@functools.lru_cache(maxsize=4096)
def secret_matches(value: str, stored: str | None) -> bool:
    """Whether ``value`` is the secret ``stored`` is the hash of. Remembered: one check costs
    PBKDF2's iterations (tens of ms), and a run may ask early, on another thread (``session``:
    hashlib releases the GIL, so it overlaps the refresh's waits on the network)."""
    parts = (stored or "").split("$")
    if len(parts) == 4 and parts[0] == "pbkdf2_sha256":
        iterations = int(parts[1]) if parts[1].isascii() and parts[1].isdigit() else 0
        if not 1 <= iterations <= MAX_ITERATIONS:
            return False  # a damaged or hostile state: treat the secret as changed
        return hmac.compare_digest(hash_secret(value, parts[2], iterations), stored or "")
    if len(parts) == 2:  # the first format: salt$sha256(salt:value)
        digest = hashlib.sha256(f"{parts[0]}:{value}".encode()).hexdigest()
        return hmac.compare_digest(digest, parts[1])
    return False


# --- field checks: each raises ValueError saying what is wrong -----------------------------


def checked(data: Any, name: str, check: Callable[[Any], bool], want: str, default: Any) -> Any:
    """``data[name]`` (``default`` if absent) if it passes ``check``; else ValueError saying
    that it must be ``want``."""
    if not isinstance(data, dict):
        raise ValueError(f"expected an object, not {_shown(data)}")
    value = data.get(name, default)
    if not check(value):
        raise ValueError(f"{name} must be {want}, not {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_text(value: Any) -> bool:
    return isinstance(value, str)


def is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def is_count(value: Any) -> bool:
    """A non-negative integer; ``true``, ``1.5`` and ``-5`` are not."""
    return type(value) is int and value >= 0


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _is_current(version: Any) -> bool:
    return is_count(version) and version == FORMAT_VERSION


def _is_hashes(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def address_of(value: Any, kinds: Sequence[str]) -> Address:
    if not isinstance(value, str):
        raise ValueError(f"address must be a string, not {_shown(value)}")
    return Address.parse(value, kinds)


def check_depth(data: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse a document nested deeper than ``limit``, one level at a time (no recursion to
    exhaust; strings and numbers, most of a document, are never looked at twice)."""
    level = [data] if isinstance(data, (dict, list)) else []
    for _ in range(limit):
        below: list[Any] = []
        for value in level:
            children = value.values() if isinstance(value, dict) else value
            below.extend(c for c in children if isinstance(c, (dict, list)))
        if not below:
            return
        level = below
    raise ValueError(f"it is nested deeper than {limit} levels")


# --- the document --------------------------------------------------------------------------


@frozen_record
class ResourceState:
    kind: str
    cloud_id: str
    ownership: str = CREATED
    protect: bool = False
    fingerprint: str = ""
    secret_hashes: dict[str, str] = field(default_factory=dict)
    tainted: bool = False
    applied: dict[str, Any] = field(default_factory=dict)  # last applied attributes, no secrets
    # A long operation an interrupted update started and may not have finished (a node-upgrade
    # workflow's id): the next update resumes it instead of starting a second one. "" = none.
    operation: str = ""

    def to_json(self) -> dict[str, Any]:
        """The entry as stored; ``applied`` is shared, not copied (it is only written out).
        ``operation`` is written only when there is one, so older readers agree."""
        data = {
            "kind": self.kind,
            "cloud_id": self.cloud_id,
            "ownership": self.ownership,
            "protect": self.protect,
            "fingerprint": self.fingerprint,
            "secret_hashes": dict(self.secret_hashes),
            "tainted": self.tainted,
            "applied": self.applied,
        }
        if self.operation:
            data["operation"] = self.operation
        return data

    @classmethod
    def from_json(cls, data: Any, kinds: Sequence[str]) -> ResourceState:
        """An entry of one of ``kinds``; raises ValueError naming the first field that is
        missing or of the wrong type."""
        entry = _well_formed_entry(data, kinds)
        return entry if entry is not None else cls.checked_json(data, kinds)

    @classmethod
    def checked_json(cls, data: Any, kinds: Sequence[str]) -> ResourceState:
        """:meth:`from_json` field by field, naming the first field that is wrong."""
        return cls(
            kind=checked(data, "kind", kinds.__contains__, f"one of {', '.join(kinds)}", None),
            cloud_id=checked(data, "cloud_id", is_text, "a string", None),
            ownership=checked(
                data, "ownership", lambda o: o in OWNERSHIPS, "created or adopted", CREATED
            ),
            protect=checked(data, "protect", _is_bool, "true or false", False),
            fingerprint=checked(data, "fingerprint", is_text, "a string", ""),
            secret_hashes=dict(
                checked(data, "secret_hashes", _is_hashes, "an object of strings", {})
            ),
            tainted=checked(data, "tainted", _is_bool, "true or false", False),
            applied=dict(checked(data, "applied", _is_object, "an object", {})),
            operation=checked(data, "operation", is_text, "a string", ""),
        )

    def evolve(self, **changes: Any) -> ResourceState:
        return replace(self, **changes)


def _well_formed_entry(data: Any, kinds: Sequence[str]) -> ResourceState | None:
    """The entry when every field has its type (one test each, as a state of 100,000 entries
    needs); None sends it through :meth:`ResourceState.from_json`'s checks, which name the
    first field that is wrong."""
    if type(data) is not dict:
        return None
    return _plain_entry(data, kinds, _MAX_LEVELS)


def _plain_entry(data: dict[str, Any], kinds: Container[str], levels: int) -> ResourceState | None:
    """The entry ``data`` when each field has its type and ``applied`` holds containers at
    most ``levels`` deep (what :func:`check_depth` would find fine), else None."""
    get = data.get
    kind, cloud_id = get("kind"), get("cloud_id")
    ownership, protect = get("ownership", CREATED), get("protect", False)
    fingerprint, hashes = get("fingerprint", ""), get("secret_hashes", {})
    tainted, applied = get("tainted", False), get("applied", {})
    operation = get("operation", "")
    if (
        type(kind) is str
        and kind in kinds
        and type(cloud_id) is str
        and type(ownership) is str
        and ownership in OWNERSHIPS
        and type(protect) is bool
        and type(fingerprint) is str
        and type(hashes) is dict
        and (not hashes or all(type(value) is str for value in hashes.values()))
        and type(tainted) is bool
        and type(applied) is dict
        and type(operation) is str
        and (levels >= _MAX_LEVELS or _shallow(applied, levels))
    ):
        # the value ResourceState(...) makes, its fields stored in the order __init__ stores
        # them (so entries still share their keys), without the frozen dataclass's guarded
        # assignment per field (a third of reading an entry)
        entry = blank(ResourceState)
        values = entry.__dict__
        values["kind"] = kind
        values["cloud_id"] = cloud_id
        values["ownership"] = ownership
        values["protect"] = protect
        values["fingerprint"] = fingerprint
        values["secret_hashes"] = dict(hashes)
        values["tainted"] = tainted
        values["applied"] = dict(applied)
        values["operation"] = operation
        return entry
    return None


def entry_of(value: Any, kinds: Sequence[str]) -> ResourceState | None:
    """A resource entry, or None for ``null`` (a removal, or no entry yet)."""
    return None if value is None else ResourceState.from_json(value, kinds)


@frozen_record
class PendingIntent:
    """A mutation that was started but whose outcome was never recorded."""

    id: str
    address: Address
    action: str
    cloud_id: str | None = None
    entry: ResourceState | None = None  # the entry the resource would get on success
    started: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "address": str(self.address),
            "action": self.action,
            "cloud_id": self.cloud_id,
            "entry": self.entry.to_json() if self.entry else None,
            "started": self.started,
        }

    @classmethod
    def from_json(cls, data: Any, kinds: Sequence[str]) -> PendingIntent:
        """Raises ValueError naming the first field that is missing or of the wrong type."""
        return cls(
            id=checked(data, "id", is_name, "a non-empty string", None),
            address=address_of(checked(data, "address", is_text, "a string", None), kinds),
            action=checked(
                data, "action", lambda a: a in ACTIONS, "create, update or delete", None
            ),
            cloud_id=checked(
                data, "cloud_id", lambda c: c is None or is_text(c), "a string or null", None
            ),
            entry=entry_of(
                checked(
                    data, "entry", lambda e: e is None or _is_object(e), "an object or null", None
                ),
                kinds,
            ),
            started=checked(data, "started", is_text, "a string", ""),
        )


@dataclass
class State:
    lineage: str = field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    # a dict, or the entries of a stored document decoded when asked for (``state.stored``)
    resources: MutableMapping[Address, ResourceState] = field(default_factory=dict)
    pending: dict[str, PendingIntent] = field(default_factory=dict)
    # Objects this state managed and forgot while they still exist (a registry user: the API
    # cannot delete it), by address -> cloud id: declared again, they are adopted back.
    forgotten: dict[Address, str] = field(default_factory=dict)
    # The target URL the state was last applied to; a run against another target is refused.
    target: str | None = None
    # True when read() folded a journal left by an earlier run: the document needs writing.
    folded_journal: bool = field(default=False, compare=False)
    # sha256 of the stored document this state was read from (a file state), so that a saved
    # plan can name the very text it was made against; None when not read from a file.
    read_digest: str | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "lineage": self.lineage,
            "serial": self.serial,
            # in the state's order: the written document sorts its keys (jsontext, JSONB)
            "resources": {str(a): r.to_json() for a, r in self.resources.items()},
            "pending": [p.to_json() for p in self.pending.values()],
            "forgotten": {str(a): i for a, i in sorted(self.forgotten.items())},
            "target": self.target,
        }

    @classmethod
    def from_json(cls, data: Any, where: str, kinds: Sequence[str]) -> State:
        """The document ``data`` as a State of ``kinds``; a StateError naming ``where`` if it
        is not valid."""
        try:
            well_formed = _well_formed_state(data, kinds)
            if well_formed is not None:
                return well_formed
            check_depth(data)
            return cls._from_checked(data, kinds)
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            raise StateError(f"{where}: state is not valid: {exc}") from None

    @classmethod
    def _from_checked(cls, data: Any, kinds: Sequence[str]) -> State:
        checked(data, "format_version", _is_current, str(FORMAT_VERSION), None)
        lineage = checked(data, "lineage", is_name, "a non-empty string", None)
        serial = checked(data, "serial", is_count, "a non-negative integer", None)
        resources = _resources_of(checked(data, "resources", _is_object, "an object", None), kinds)
        pending = _pending_of(checked(data, "pending", _is_list, "a list", []), kinds)
        forgotten = _forgotten_of(checked(data, "forgotten", _is_object, "an object", {}), kinds)
        target = checked(data, "target", lambda t: t is None or is_name(t), "a URL or null", None)
        return cls(lineage, serial, resources, pending, forgotten, target)

    def copy(self) -> State:
        entries = self.resources
        return State(
            self.lineage,
            self.serial,
            entries.copy() if hasattr(entries, "copy") else dict(entries),
            dict(self.pending),
            dict(self.forgotten),
            self.target,
            read_digest=self.read_digest,
        )


# The keys of a document and of a resource entry that a well-formed one may hold (others,
# holding only text, numbers, true, false or null, are ignored, as the checks ignore them).
_DOCUMENT_KEYS = frozenset(
    ("format_version", "lineage", "serial", "resources", "pending", "forgotten", "target")
)
_ENTRY_KEYS = frozenset(
    (
        "kind",
        "cloud_id",
        "ownership",
        "protect",
        "fingerprint",
        "secret_hashes",
        "tainted",
        "applied",
        "operation",
    )
)
_CONTAINERS = (dict, list)
# How deep a well-formed entry's ``applied`` may be nested for the one-pass read: the
# document, ``resources``, the entry and ``applied`` are 4 of MAX_DEPTH's levels.
_APPLIED_DEPTH = 8
_MAX_LEVELS = MAX_DEPTH  # no depth test: the caller checks the depth


def _well_formed_state(data: Any, known: Sequence[str]) -> State | None:
    """The document in one pass over its entries when it is what this tool writes: every
    check of :meth:`State._from_checked` and :func:`check_depth` holds, tested with one type
    test per field (a state of 100,000 entries). None when anything is unusual (a pending
    intent, a key of an unknown kind, a value of another type, an ``applied`` nested deeper
    than ``_APPLIED_DEPTH``): the checks then read it and name what is wrong."""
    if type(data) is not dict or data.get("pending", []) != []:
        return None
    if any(key not in _DOCUMENT_KEYS and type(v) in _CONTAINERS for key, v in data.items()):
        return None
    get: Callable[..., Any] = data.get
    lineage, serial, target = get("lineage"), get("serial"), get("target")
    resources, forgotten = get("resources"), get("forgotten", {})
    if not (
        _is_current(data.get("format_version"))
        and is_name(lineage)
        and is_count(serial)
        and (target is None or is_name(target))
        and type(resources) is dict
        and type(forgotten) is dict
        and all(type(v) is str and v for v in forgotten.values())
    ):
        return None
    kinds = frozenset(known)
    entries: dict[Address, ResourceState] = {}
    for text, value in resources.items():
        kind, dot, name = text.partition(".")
        if not (dot and name and kind in kinds and type(value) is dict):
            return None
        if not value.keys() <= _ENTRY_KEYS:
            return None  # keys this tool does not write: the checks read it
        entry = _plain_entry(value, kinds, _APPLIED_DEPTH)
        if entry is None or entry.kind != kind:
            return None
        entries[Address(kind, name)] = entry
    try:
        forgotten_ids = _forgotten_of(forgotten, known)
    except ValueError:
        return None
    return State(lineage, serial, entries, {}, forgotten_ids, target)


def _shallow(value: Any, levels: int) -> bool:
    """Whether ``value``'s containers are nested at most ``levels`` deep below it."""
    children = value.values() if type(value) is dict else value
    for child in children:
        if type(child) in _CONTAINERS and (levels <= 1 or not _shallow(child, levels - 1)):
            return False
    return True


def _resources_of(raw: dict[str, Any], kinds: Sequence[str]) -> dict[Address, ResourceState]:
    resources = {}
    for text, value in raw.items():
        try:
            address = Address.parse(text, kinds)
        except ValueError as exc:
            raise ValueError(f"resources: {exc}") from None
        try:
            entry = ResourceState.from_json(value, kinds)
        except ValueError as exc:
            raise ValueError(f"resources.{text}: {exc}") from None
        if entry.kind != address.kind:
            raise ValueError(f"resources.{text}: kind {entry.kind} is not {address.kind}")
        resources[address] = entry
    return resources


def _forgotten_of(raw: dict[str, Any], kinds: Sequence[str]) -> dict[Address, str]:
    forgotten = {}
    for text, cloud_id in raw.items():
        try:
            address = Address.parse(text, kinds)
        except ValueError as exc:
            raise ValueError(f"forgotten: {exc}") from None
        if not isinstance(cloud_id, str) or not cloud_id:
            raise ValueError(f"forgotten.{text} must be a non-empty string")
        forgotten[address] = cloud_id
    return forgotten


def _pending_of(listed: list[Any], kinds: Sequence[str]) -> dict[str, PendingIntent]:
    pending = {}
    for number, value in enumerate(listed):
        try:
            intent = PendingIntent.from_json(value, kinds)
        except ValueError as exc:
            raise ValueError(f"pending[{number}]: {exc}") from None
        pending[intent.id] = intent
    return pending


@frozen_record
class Header:
    """What a write checks of the stored document it replaces: which state, which serial."""

    lineage: str
    serial: int


def parse_header(raw: bytes | str, where: str) -> Header:
    """The lineage and serial of a stored document (its resources are not read: a write
    checks these of the document it replaces, which may hold 100,000 entries), or a
    StateError naming ``where``."""
    try:
        data = json.loads(raw)
        checked(data, "format_version", _is_current, str(FORMAT_VERSION), None)
        lineage = checked(data, "lineage", is_name, "a non-empty string", None)
        serial = checked(data, "serial", is_count, "a non-negative integer", None)
    except RecursionError:
        raise StateError(f"{where}: state is not valid: it is nested too deeply") from None
    except ValueError as exc:
        raise StateError(f"{where}: state is not valid: {exc}") from None
    return Header(lineage, serial)


def parse_document(raw: bytes | str, where: str, kinds: Sequence[str]) -> State:
    """A stored document (JSON text) as a State of ``kinds``, or a StateError naming
    ``where``."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise StateError(f"{where}: state is not valid: it is nested too deeply") from None
    except ValueError as exc:
        raise StateError(f"{where}: state is not valid JSON: {exc}") from None
    return State.from_json(data, where, kinds)
