"""What this tool manages: the state document, its journal, and the store interface.

The state maps each managed address to its cloud id, ownership (``created`` or ``adopted``),
protection, a fingerprint of the spec last applied, salted hashes of its secrets (never a
secret itself) and whether it is tainted (a cluster that failed to create).

Writes are journaled: before a mutation is sent an ``intent`` record is appended, the cloud id
is appended the moment it is known, and a ``done`` record carries the resource's new entry (or
its removal). A store folds the journal into the state document at the end of a run, and
whenever it is opened, so a run killed at any point leaves nothing behind that the next run
cannot see. Intents that never reached ``done`` are returned as ``pending`` for recovery (see
``reconciler.recovery``), which needs the live state to decide what happened.

Backends: ``reconciler.state.local`` (a JSON file beside the config) and
``reconciler.state.postgres``; both implement :class:`StateStore`.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import secrets
import socket
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from reconciler.errors import StateError
from reconciler.model import Address

FORMAT_VERSION = 1
CREATED = "created"
ADOPTED = "adopted"


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PBKDF2_ITERATIONS = 200_000
MAX_ITERATIONS = 10_000_000


def hash_secret(value: str, salt: str | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """``pbkdf2_sha256$iterations$salt$hex``: the only form a secret takes in state. A slow,
    salted hash, because a shared state (PostgreSQL, CI artefacts) is read by many."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", value.encode(), salt.encode(), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def secret_matches(value: str, stored: str | None) -> bool:
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


@dataclass(frozen=True)
class ResourceState:
    kind: str
    cloud_id: str
    ownership: str = CREATED
    protect: bool = False
    fingerprint: str = ""
    secret_hashes: dict[str, str] = field(default_factory=dict)
    tainted: bool = False
    applied: dict[str, Any] = field(default_factory=dict)  # last applied attributes, no secrets

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResourceState:
        return cls(
            kind=str(data["kind"]),
            cloud_id=str(data["cloud_id"]),
            ownership=str(data.get("ownership", CREATED)),
            protect=bool(data.get("protect", False)),
            fingerprint=str(data.get("fingerprint", "")),
            secret_hashes=dict(data.get("secret_hashes", {})),
            tainted=bool(data.get("tainted", False)),
            applied=dict(data.get("applied", {})),
        )

    def evolve(self, **changes: Any) -> ResourceState:
        return replace(self, **changes)


@dataclass(frozen=True)
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
    def from_json(cls, data: dict[str, Any]) -> PendingIntent:
        entry = data.get("entry")
        return cls(
            id=str(data["id"]),
            address=Address.parse(str(data["address"])),
            action=str(data["action"]),
            cloud_id=data.get("cloud_id"),
            entry=ResourceState.from_json(entry) if entry else None,
            started=str(data.get("started", "")),
        )


@dataclass
class State:
    lineage: str = field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    resources: dict[Address, ResourceState] = field(default_factory=dict)
    pending: dict[str, PendingIntent] = field(default_factory=dict)
    # True when read() folded a journal left by an earlier run: the document needs writing.
    folded_journal: bool = field(default=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "lineage": self.lineage,
            "serial": self.serial,
            "resources": {str(a): r.to_json() for a, r in sorted(self.resources.items())},
            "pending": [p.to_json() for p in self.pending.values()],
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> State:
        try:
            if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"unsupported format_version {data.get('format_version')!r}")
            resources = {
                Address.parse(a): ResourceState.from_json(r) for a, r in data["resources"].items()
            }
            pending = [PendingIntent.from_json(p) for p in data.get("pending", [])]
            return cls(
                str(data["lineage"]), int(data["serial"]), resources, {p.id: p for p in pending}
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateError(f"{where}: state is not valid: {exc}") from None

    def apply_record(self, record: dict[str, Any]) -> None:
        """Fold one journal record into this state (idempotent)."""
        op = record.get("op")
        if op == "intent":
            intent = PendingIntent.from_json(record)
            self.pending[intent.id] = intent
        elif op == "cloud_id" and record.get("id") in self.pending:
            self.pending[record["id"]] = replace(
                self.pending[record["id"]], cloud_id=record["cloud_id"]
            )
        elif op == "done":
            self.pending.pop(str(record.get("id")), None)
            address = Address.parse(record["address"])
            if record.get("entry") is None:
                self.resources.pop(address, None)
            else:
                self.resources[address] = ResourceState.from_json(record["entry"])

    def copy(self) -> State:
        return State(self.lineage, self.serial, dict(self.resources), dict(self.pending))


@dataclass(frozen=True)
class LockInfo:
    id: str
    who: str
    pid: int
    operation: str
    created: str

    @classmethod
    def mine(cls, operation: str) -> LockInfo:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = str(os.getuid())
        return cls(
            str(uuid.uuid4()), f"{user}@{socket.gethostname()}", os.getpid(), operation, now_text()
        )

    def describe(self) -> str:
        return f"lock {self.id} held by {self.who} (pid {self.pid}, {self.operation}, since {self.created})"


class Journal(Protocol):
    state: State  # the in-memory state, with every appended record folded in

    def append(self, record: dict[str, Any]) -> None: ...


class StateStore(Protocol):
    """A place to keep state. ``read`` folds any journal left by an earlier run."""

    def describe(self) -> str: ...

    def lock(self, operation: str) -> AbstractContextManager[LockInfo]: ...

    def read(self) -> State: ...

    def write(self, state: State) -> State: ...

    def journal(self, state: State) -> AbstractContextManager[Journal]: ...

    def force_unlock(self, lock_id: str) -> LockInfo: ...


def new_intent_id() -> str:
    return uuid.uuid4().hex[:12]


def iter_records(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Journal lines as records; a torn last line (a kill mid-append) is skipped."""
    import json

    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record
