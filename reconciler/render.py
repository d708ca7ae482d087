"""Text and JSON views of a plan and of apply progress. No decisions are made here.

The text view follows Terraform: ``+`` create, ``~`` update, ``-/+`` replace, ``-`` delete,
``.`` forget; per-field ``old -> new``; secrets as ``(sensitive)``; a counts line at the end.
Colour only when asked (the CLI asks on a TTY unless ``--no-color``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.diff import FieldChange
from reconciler.kinds import kind_named
from reconciler.model import Action, PlanMode
from reconciler.plan import (
    BLAST_RADIUS,
    DELETED_OUTSIDE,
    FORMAT_VERSION,
    SENSITIVE_TEXT,
    Change,
    Conflict,
    Plan,
)

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.FORGET: ".",
    Action.IMPORT: "<=",
    Action.NOOP: " ",
}
COLOURS = {
    Action.CREATE: "32",
    Action.UPDATE: "33",
    Action.REPLACE: "35",
    Action.DELETE: "31",
    Action.FORGET: "36",
    Action.IMPORT: "36",
    Action.NOOP: "0",
}
VERBS = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.REPLACE: "must be replaced",
    Action.DELETE: "will be deleted",
    Action.FORGET: "will be forgotten (removed from state only)",
    Action.IMPORT: "will be imported (adopted into state; nothing is sent)",
}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color and code != "0" else text


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value if value == SENSITIVE_TEXT else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _flatten(values: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.extend(_flatten(value, path + "."))
        else:
            out.append((path, value))
    return out


def _field_lines(change: Change) -> list[str]:
    if change.action is Action.CREATE:
        lines = [f"      {k} = {_value(v)}" for k, v in _flatten(change.after or {})]
        lines += [f"      {k} = {SENSITIVE_TEXT}" for k in change.secrets]
        return lines
    if change.action in (Action.DELETE, Action.FORGET):
        return [f"      {k} = {_value(v)}" for k, v in _flatten(change.before or {})]
    return [_field_line(f, change) for f in change.fields]


def _field_line(f: FieldChange, change: Change) -> str:
    forces = "  # forces replacement" if f.path in change.forces else ""
    if f.sensitive:
        return f"      {f.path} = {SENSITIVE_TEXT}"
    return f"      {f.path}: {_value(f.before)} -> {_value(f.after)}{forces}"


def verb(change: Change) -> str:
    """What happens to the object; a kind adopted on sight is also set as declared."""
    if change.action is Action.IMPORT and change.fields:
        if kind_named(change.address.kind).adopts_on_sight:
            return "will be imported and updated in place"
    return VERBS[change.action]


def render_change(change: Change, color: bool = False) -> list[str]:
    symbol = SYMBOLS[change.action]
    head = f"  {symbol} {change.address} {verb(change)}"
    lines = [_paint(head, COLOURS[change.action], color), f"      # {change.reason}"]
    if change.cloud_id:
        lines.append(f"      # id: {change.cloud_id}")
    lines.extend(_field_lines(change))
    if change.scale is not None and change.scale.remove:
        lines.append(f"      # nodes to remove (newest first): {', '.join(change.scale.remove)}")
    if change.scale is not None and change.scale.add:
        lines.append(f"      # nodes to add: {change.scale.add}")
    if change.refused:
        lines.append(_paint(f"      ! refused at apply: {change.refused}", "31", color))
    return lines


def summary_counts(plan: Plan) -> str:
    """``0 to create, ..., 1 to import, 6 unchanged.``: the counts every view of a plan shows."""
    s = plan.summary()
    return (
        f"{s['create']} to create, {s['update']} to update, {s['replace']} to replace, "
        f"{s['delete']} to delete, {s['forget']} to forget, "
        + (f"{s['import']} to import, " if s["import"] else "")
        + f"{s['noop']} unchanged."
    )


def summary_line(plan: Plan) -> str:
    return f"Plan: {summary_counts(plan)}"


def context_line(plan: Plan) -> str | None:
    return f"Using {plan.context.describe()}." if plan.context else None


def drift_lines(plan: Plan, color: bool = False) -> list[str]:
    """Fields changed outside the reconciler since the last apply (live differs from state)."""
    if not plan.drifted:
        return []
    lines = [_paint("Changed outside the reconciler since the last apply:", "33", color)]
    for change in plan.drifted:
        if DELETED_OUTSIDE in change.drift:
            lines.append(f"  - {change.address}: deleted outside the reconciler")
            continue
        lines.append(f"  ~ {change.address}")
        lines.extend(
            f"      {f.path}: {_value(f.before)} -> {_value(f.after)}" for f in change.drift
        )
    lines.append("")
    return lines


def _head(plan: Plan, notes: Sequence[str]) -> list[str]:
    """The context line first, then notes about the journal (recovered or in-flight changes)."""
    lines = [head, ""] if (head := context_line(plan)) else []
    return lines + ([*notes, ""] if notes else [])


def render_plan(
    plan: Plan, color: bool = False, notes: Sequence[str] = (), operation: str = "apply"
) -> str:
    """The plan as the terminal shows it; ``operation`` (apply or destroy) names what refuses."""
    lines = _head(plan, notes)
    lines.extend(drift_lines(plan, color))
    for change in plan.actionable:
        lines.extend(render_change(change, color))
        lines.append("")
    for warning in plan.warnings:
        lines.append(_paint(f"Warning: {warning}", "33", color))
    for conflict in plan.conflicts:
        lines.append(_paint(f"Conflict: {conflict.message}", "31", color))
    if plan.warnings or plan.conflicts:
        lines.append("")
    if not plan.has_changes and not plan.conflicts:
        lines.append("No changes. The cloud matches the configuration.")
    else:
        lines.append(summary_line(plan))
    refused = len(plan.conflicts) + len(plan.refused)
    if refused:
        lines.append(
            f"{operation.capitalize()} would refuse this plan (exit 3): {refused} conflict(s) or refusal(s) above "
            "(Conflict: and ! lines)."
        )
    return "\n".join(lines)


def render_refresh_only(plan: Plan, color: bool = False, notes: Sequence[str] = ()) -> str:
    """``--refresh-only``: only what changed outside the reconciler; the config is not applied."""
    lines = _head(plan, notes)
    lines.extend(drift_lines(plan, color))
    if plan.drifted:
        lines.append(
            f"Refresh-only: {len(plan.drifted)} object(s) changed outside the reconciler. "
            "`apply --refresh-only` records these live values in state without touching the cloud."
        )
    else:
        lines.append("No drift. The cloud matches what the state recorded at the last apply.")
    return "\n".join(lines)


def plan_text(plan: Plan, mode: PlanMode, color: bool = False, notes: Sequence[str] = ()) -> str:
    """What ``plan`` and ``show`` print: the drift of a refresh-only plan, else the plan and the
    blast-radius guard's warning, if it trips."""
    if mode is PlanMode.REFRESH_ONLY:
        return render_refresh_only(plan, color, notes)
    text = render_plan(plan, color, notes)
    guard = [r.message for r in plan.refusals if r.reason == BLAST_RADIUS]
    return text + "".join(f"\n\nWarning: {message}" for message in guard)


def _field_json(f: FieldChange) -> dict[str, Any]:
    return {
        "path": f.path,
        "before": SENSITIVE_TEXT if f.sensitive else f.before,
        "after": SENSITIVE_TEXT if f.sensitive else f.after,
    }


def change_to_json(change: Change) -> dict[str, Any]:
    return {
        "address": str(change.address),
        "action": change.action.value,
        "reason": change.reason,
        "cloud_id": change.cloud_id,
        "before": change.before,
        "after": None
        if change.after is None
        else {**change.after, **{k: SENSITIVE_TEXT for k in change.secrets}},
        "fields": [_field_json(f) for f in change.fields],
        "drift": [_field_json(f) for f in change.drift],
        "protected": change.protected,
        "refused": change.refused,
        "forces": list(change.forces),
        "scale": change.scale.to_json() if change.scale else None,
    }


def conflict_to_json(conflict: Conflict) -> dict[str, Any]:
    return {
        "address": str(conflict.address),
        "kind": conflict.address.kind,
        "id": conflict.cloud_id,
        "suggested_command": conflict.command,
        "message": conflict.message,
    }


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "changes": [change_to_json(c) for c in plan.changes],
        "context": plan.context.to_json() if plan.context else None,
        "conflicts": [conflict_to_json(c) for c in plan.conflicts],
        "refusals": [r.to_json() for r in plan.refusals],
        "drift": [str(c.address) for c in plan.drifted],
        "warnings": list(plan.warnings),
        "summary": plan.summary(),
    }
