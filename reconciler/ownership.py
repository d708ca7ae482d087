"""One owner per cloud object: what a plan may not do to an object that another state of the
same configuration (its other environments, its workspaces) already manages. Pure.

For: after the planner, refusing a change that would adopt (``--adopt``), delete or replace an
object another state records, naming that state, and giving a conflict over such an object
advice that does not lead to a second owner (instead of ``reconciler import``); and, for
``reconciler import``, the owner of one object. The other states are read by
``reconciler.other_states``; a run reads them only when its plan adopts, deletes, replaces or
conflicts (:func:`needs_other_states`), so an ordinary plan costs nothing more.
Not for: reading states, or what a single state refuses (``reconciler.guards``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconciler.kinds import REGISTRY
from reconciler.model import Action, Address
from reconciler.plan import Change, Conflict, Plan
from reconciler.records import frozen_record
from reconciler.state import State

# every refusal of this module starts so; guards name its reason OWNED_ELSEWHERE
REFUSED_PREFIX = "another state manages it"
_TOUCHING = (Action.IMPORT, Action.DELETE, Action.REPLACE)


def one_owner_advice() -> str:
    """What to do about an object two environments declare (the kinds that allow one object
    per account say so: ``Kind.one_per_account``)."""
    single = [f"the {k.noun}" for k in REGISTRY if k.one_per_account]
    tail = f" ({' and '.join(single)}, one per account, belongs to one)" if single else ""
    return (
        "give each environment an object of its own (e.g. name: x-${var.env}), or declare it in "
        f"one of them only{tail}"
    )


@frozen_record
class OtherState:
    """Another state of the configuration: its name for messages, and what it manages, by
    (kind, cloud id)."""

    name: str
    managed: dict[tuple[str, str], Address]

    @classmethod
    def of(cls, name: str, state: State) -> OtherState:
        return cls(
            name,
            {(entry.kind, entry.cloud_id): address for address, entry in state.resources.items()},
        )


def owner_of(
    others: Sequence[OtherState], kind: str, cloud_id: str
) -> tuple[OtherState, Address] | None:
    """The first other state managing the object ``(kind, cloud_id)``, and its address there."""
    for other in others:
        address = other.managed.get((kind, cloud_id))
        if address is not None:
            return other, address
    return None


def needs_other_states(plan: Plan) -> bool:
    return any(c.cloud_id for c in plan.conflicts) or any(
        c.action in _TOUCHING and c.cloud_id for c in plan.changes
    )


def one_owner(plan: Plan, others: Sequence[OtherState]) -> Plan:
    """``plan`` with every adopt, delete or replace of an object another state manages refused,
    and the advice of a conflict over such an object saying who owns it."""
    if not others:
        return plan
    return replace(
        plan,
        changes=tuple(_checked(change, others) for change in plan.changes),
        conflicts=tuple(_advised(conflict, others) for conflict in plan.conflicts),
    )


def _checked(change: Change, others: Sequence[OtherState]) -> Change:
    if change.action not in _TOUCHING or not change.cloud_id or change.refused:
        return change
    found = owner_of(others, change.address.kind, change.cloud_id)
    if found is None:
        return change
    other, there = found
    if change.action is Action.IMPORT:
        why = f"one object has one owner, so it is not adopted here; {one_owner_advice()}"
    else:
        verb = "deleting" if change.action is Action.DELETE else "replacing"
        why = (
            f"{verb} it here would delete it there; `reconciler state rm {change.address}` "
            "forgets it here and leaves it"
        )
    return replace(
        change,
        refused=f"{REFUSED_PREFIX}: {other.name} manages {change.cloud_id} as {there}; {why}",
    )


def _advised(conflict: Conflict, others: Sequence[OtherState]) -> Conflict:
    if not conflict.cloud_id:
        return conflict
    found = owner_of(others, conflict.address.kind, conflict.cloud_id)
    if found is None:
        return conflict
    other, there = found
    return replace(
        conflict,
        message=(
            f"{conflict.address} already exists in the cloud ({conflict.cloud_id}) and "
            f"{other.name} manages it (as {there}); one object has one owner, so do not import "
            f"it here: {one_owner_advice()}"
        ),
        command=None,
    )
