"""What apply refuses (exit 3), as a check the plan command runs too. Pure.

A plan is refused when it has conflicts or refused changes (protected resources, replacements
not allowed with ``--replace``), or when it trips the blast-radius guard: more deletes and
replacements than ``max(3, 10% of managed resources)``, or any plan that would empty the state,
unless ``--allow-deletes N`` allows at least that many.
"""

from __future__ import annotations

import math

from reconciler.errors import RefusedError
from reconciler.model import Action
from reconciler.plan import Plan
from reconciler.state import State


def check_guards(
    plan: Plan, state: State, allow_deletes: int | None, destroying: bool = False
) -> None:
    """Refuse (exit 3) a plan with conflicts, protected or unapproved replacements, or too many deletes."""
    problems = [c.message for c in plan.conflicts]
    problems += [f"{c.address}: {c.refused}" for c in plan.refused]
    if problems:
        raise RefusedError("refusing to apply:\n  " + "\n  ".join(problems))
    if destroying:
        return
    deleting = [c for c in plan.changes if c.action in (Action.DELETE, Action.REPLACE)]
    managed = len(state.resources)
    limit = max(3, math.floor(0.1 * managed))
    leaving = {c.address for c in plan.changes if c.action in (Action.DELETE, Action.FORGET)}
    empties = bool(deleting) and managed > 0 and set(state.resources) <= leaving
    if (len(deleting) > limit or empties) and (
        allow_deletes is None or allow_deletes < len(deleting)
    ):
        why = (
            "would delete every managed resource"
            if empties
            else f"deletes or replaces {len(deleting)} of {managed} managed resources (limit {limit})"
        )
        raise RefusedError(
            f"blast-radius guard: this plan {why}; if that is intended, rerun with --allow-deletes {len(deleting)}"
        )


def blast_radius_warning(plan: Plan, state: State) -> str | None:
    """What the blast-radius guard will say at apply time (it needs --allow-deletes), if anything."""
    if plan.conflicts or plan.refused:
        return None  # already exit 3
    try:
        check_guards(plan, state, None)
    except RefusedError as exc:
        return str(exc)
    return None
