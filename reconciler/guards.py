"""What apply refuses (exit 3), as a check the plan command runs too. Pure.

A plan is refused when it has conflicts or refused changes (protected resources, replacements
not allowed with ``--replace``, objects another state manages: ``reconciler.ownership``), or when it trips the blast-radius guard: more deletes,
replacements and forgets of existing objects than ``max(3, 10% of managed resources)``, or any
plan that would empty the state, unless ``--allow-deletes N`` allows at least that many.
"""

from __future__ import annotations

import math
from dataclasses import replace

from reconciler.errors import RefusedError
from reconciler.model import Action, PlanMode
from reconciler.ownership import REFUSED_PREFIX
from reconciler.plan import (
    BLAST_RADIUS,
    CONFLICT,
    INVALID,
    OWNED_ELSEWHERE,
    PROTECTED,
    REPLACE_NOT_ALLOWED,
    Change,
    Plan,
    Refusal,
)
from reconciler.state import State


def _counted(change: Change) -> bool:
    """Deletes and replaces count; so does forgetting an object that still exists."""
    if change.action in (Action.DELETE, Action.REPLACE):
        return True
    return change.action is Action.FORGET and change.live_fingerprint not in (None, "absent")


def _reason(refused: str) -> str:
    if refused.startswith(REFUSED_PREFIX):
        return OWNED_ELSEWHERE
    if "protect" in refused:
        return PROTECTED
    if refused.startswith("replacement must be allowed"):
        return REPLACE_NOT_ALLOWED
    return INVALID


def refusals(
    plan: Plan, state: State, allow_deletes: int | None, mode: PlanMode = PlanMode.NORMAL
) -> list[Refusal]:
    found = [Refusal(CONFLICT, c.message, c.address) for c in plan.conflicts]
    said = {f"{c.address}: {c.refused}": c for c in plan.refused}
    for change in plan.refused:
        # an object refused with its container repeats the container's refusal
        # (``CONTAINER: why``): its reason, and the flag it needs, are the container's
        cause = said.get(change.refused or "", change)
        reason = _reason(cause.refused or "")
        needs = f"--replace {cause.address}" if reason == REPLACE_NOT_ALLOWED else None
        found.append(Refusal(reason, f"{change.address}: {change.refused}", change.address, needs))
    if found or mode is PlanMode.DESTROY:  # destroy's own guard: typing the target's name
        return found
    counted = [c for c in plan.changes if _counted(c)]
    managed = len(state.resources)
    limit = max(3, math.floor(0.1 * managed))
    leaving = {c.address for c in plan.changes if c.action in (Action.DELETE, Action.FORGET)}
    deleting = [c for c in counted if c.action is not Action.FORGET]
    empties = bool(deleting) and managed > 0 and set(state.resources) <= leaving
    if (len(counted) > limit or empties) and (
        allow_deletes is None or allow_deletes < len(counted)
    ):
        why = (
            "would delete every managed resource"
            if empties
            else f"deletes, replaces or forgets {len(counted)} of {managed} managed resources (limit {limit})"
        )
        found.append(
            Refusal(
                BLAST_RADIUS,
                f"blast-radius guard: this plan {why}; if that is intended, rerun with "
                f"--allow-deletes {len(counted)}",
                needs=f"--allow-deletes {len(counted)}",
            )
        )
    return found


def evaluate(plan: Plan, state: State, allow_deletes: int | None = None) -> Plan:
    """The plan with what apply (without --allow-deletes) will refuse attached."""
    return replace(plan, refusals=tuple(refusals(plan, state, allow_deletes)))


def check_guards(
    plan: Plan, state: State, allow_deletes: int | None, mode: PlanMode = PlanMode.NORMAL
) -> None:
    """Refuse (exit 3) a plan with conflicts, protected or unapproved replacements, or too many deletes."""
    found = refusals(plan, state, allow_deletes, mode)
    if not found:
        return
    if len(found) == 1 and found[0].reason == BLAST_RADIUS:
        raise RefusedError(found[0].message)
    verb = "destroy" if mode is PlanMode.DESTROY else "apply"
    raise RefusedError(f"refusing to {verb}:\n  " + "\n  ".join(r.message for r in found))
