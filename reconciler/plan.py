"""Plan types: what the planner produces and render, planfile, apply, refresh and recovery share.

Data only; no I/O and no engine imports. ``apply`` executes exactly the ``Change`` objects of a
plan: ``action``, ``after``, ``before``, ``cloud_id``, ``secrets``, ``scale`` and
``rotate_secrets`` steer it; ``reason``, ``fields`` and ``forces`` only explain it to a person.

Invariants: ``before is None`` iff the action is create; ``after is None`` iff the action is
delete or forget; ``scale`` is set only on an update of a kind that scales.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any

from reconciler.diff import FieldChange
from reconciler.model import Action, Address, LiveObject, SecretRef
from reconciler.records import blank, frozen_record

FORMAT_VERSION = 1
SENSITIVE_TEXT = "(sensitive)"
# json.dumps(value, sort_keys=True, separators=(",", ":"), default=str), without building an
# encoder per call: a plan fingerprints every live object it reads.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


@frozen_record
class LiveState:
    """Live objects by address (for managed ids) and candidates by name (for conflicts)."""

    by_id: Mapping[tuple[str, str], LiveObject] = field(default_factory=dict)
    by_name: Mapping[Address, tuple[LiveObject, ...]] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)  # e.g. the versions the API offers

    def lookup(self, kind: str, cloud_id: str) -> LiveObject | None:
        return self.by_id.get((kind, cloud_id))


@frozen_record
class ScaleStep:
    """Change a node count in place: add ``add`` nodes, or remove exactly the nodes named."""

    add: int = 0
    remove: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"add": self.add, "remove": list(self.remove)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ScaleStep | None:
        if not data:
            return None
        return cls(int(data.get("add", 0)), tuple(str(n) for n in data.get("remove", ())))


class LiveFingerprintLater:
    """The fingerprint of a live object, worked out when first read: most changes of a plan
    are in sync, and only a saved plan and apply read theirs (:class:`LiveFingerprintField`)."""

    __slots__ = ("live",)

    def __init__(self, live: LiveObject | None) -> None:
        self.live = live


class LiveFingerprintField:
    """``Change.live_fingerprint``: text, None, or a :class:`LiveFingerprintLater` that
    becomes its text on first read (and stays it), so a change reads, compares, copies
    (``dataclasses.replace``) and pickles as if the text had been given."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = f"_{name}"  # _FINGERPRINT_KEY

    def __get__(self, change: object, owner: type | None = None) -> str | None:
        if change is None:
            return None  # the field's default
        value = change.__dict__[self.key]
        if type(value) is LiveFingerprintLater:
            value = change.__dict__[self.key] = live_fingerprint(value.live)
        return value

    def __set__(self, change: object, value: str | LiveFingerprintLater | None) -> None:
        change.__dict__[self.key] = value


@frozen_record
class Change:
    """What the plan does to one address, and why; fields marked *steers apply* are what
    apply executes, the others explain."""

    address: Address
    action: Action
    reason: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    fields: tuple[FieldChange, ...] = ()
    cloud_id: str | None = None
    protected: bool = False
    refused: str | None = None
    depends_on: tuple[Address, ...] = ()
    secrets: Mapping[str, SecretRef] = field(default_factory=dict)
    # of the live object as planned against ("absent": none); text when first read
    live_fingerprint: LiveFingerprintField = LiveFingerprintField()
    forces: tuple[str, ...] = ()  # explanation: the fields that force a replacement
    scale: ScaleStep | None = None  # steers apply: the nodes to add or remove
    rotate_secrets: tuple[str, ...] = ()  # steers apply: secrets to set again on an update
    settle: bool = False  # steers apply: wait until the object is ready, before its dependents
    # explanation: fields whose live value differs from what state recorded as applied, i.e.
    # changed outside the reconciler since the last apply
    drift: tuple[FieldChange, ...] = ()


@frozen_record
class Conflict:
    address: Address
    message: str
    cloud_id: str | None = None  # the live object in the way, when there is one
    command: str | None = None  # what would resolve it, e.g. "reconciler import ADDR ID"


# The drift entry of an object deleted outside the reconciler (in state, gone from the cloud).
DELETED_OUTSIDE = FieldChange("exists", True, False)

# Machine-readable reasons of a refusal (``plan --json`` "refusals", exit 3 at apply).
CONFLICT = "conflict"
PROTECTED = "protected"
REPLACE_NOT_ALLOWED = "replace-not-allowed"
BLAST_RADIUS = "blast-radius"
INVALID = "invalid"  # the API would reject it: a format, a quota, a name or network taken
OWNED_ELSEWHERE = "owned-elsewhere"  # another state of the configuration manages the object


@frozen_record
class Refusal:
    """Something apply will refuse; ``needs`` says what would let it through, if anything."""

    reason: str
    message: str
    address: Address | None = None
    needs: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "message": self.message,
            "address": str(self.address) if self.address else None,
            "needs": self.needs,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], kinds: Sequence[str]) -> Refusal:
        """A refusal as a saved plan records it, its address of one of ``kinds``."""
        address = data.get("address")
        return cls(
            str(data["reason"]),
            str(data["message"]),
            Address.parse(address, kinds) if address else None,
            data.get("needs"),
        )


@frozen_record
class PlanContext:
    """Where a plan was made: shown first by plan and apply, carried by ``plan --json``."""

    environment: str | None
    target: str
    state: str

    def to_json(self) -> dict[str, Any]:
        return {"environment": self.environment, "target": self.target, "state": self.state}

    def describe(self) -> str:
        env = f"environment {self.environment}, " if self.environment else ""
        return f"{env}target {self.target}, state {self.state}"


@frozen_record
class Plan:
    """Every change of a run, in order, with the conflicts, warnings and refusals found."""

    changes: tuple[Change, ...]
    conflicts: tuple[Conflict, ...] = ()
    warnings: tuple[str, ...] = ()
    refusals: tuple[Refusal, ...] = ()  # filled by guards.evaluate: what apply will refuse
    context: PlanContext | None = None
    # no-op changes counted but not carried: a saved plan keeps only a count of the unchanged
    unchanged: int = 0

    @property
    def actionable(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.NOOP]

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        counts[Action.NOOP.value] += self.unchanged
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    @property
    def refused(self) -> list[Change]:
        return [c for c in self.changes if c.refused]

    @property
    def drifted(self) -> list[Change]:
        return [c for c in self.changes if c.drift]


def fingerprint(value: Any) -> str:
    text = _CANONICAL.encode(value)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def live_fingerprint(live: LiveObject | None) -> str:
    if live is None:
        return "absent"
    return fingerprint({"attrs": live.attrs, "status": live.status, "details": live.details})


def up_to_date(
    address: Address,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    cloud_id: str,
    protected: bool,
    depends_on: tuple[Address, ...],
    secrets: Mapping[str, SecretRef],
    live: LiveObject,
) -> Change:
    """``Change(address, Action.NOOP, "up to date", before, after, cloud_id=cloud_id,
    protected=protected, depends_on=depends_on, secrets=secrets,
    live_fingerprint=LiveFingerprintLater(live))``: the same value, its fields stored in the
    order ``__init__`` stores them (so instances still share their keys), without the frozen
    dataclass's guarded assignment per field, a fifth of what planning an object in sync
    costs."""
    change = blank(Change)
    values = change.__dict__
    values["address"] = address
    values["action"] = Action.NOOP
    values["reason"] = "up to date"
    values["before"] = before
    values["after"] = after
    values["fields"] = ()
    values["cloud_id"] = cloud_id
    values["protected"] = protected
    values["refused"] = None
    values["depends_on"] = depends_on
    values["secrets"] = secrets
    values[_FINGERPRINT_KEY] = LiveFingerprintLater(live)
    values["forces"] = ()
    values["scale"] = None
    values["rotate_secrets"] = ()
    values["settle"] = False
    values["drift"] = ()
    return change


_FINGERPRINT_KEY = "_live_fingerprint"  # where LiveFingerprintField keeps Change's
