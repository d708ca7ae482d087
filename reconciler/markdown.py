"""Markdown view of a plan, for a pull-request comment (``reconciler show --markdown``). Pure.

For: one comment that reads well on GitHub or GitLab: the counts and where the plan was made
first, then what apply will refuse, conflicts, warnings, drift (changed outside the reconciler
since the last apply), and each resource's diff in a collapsible ``<details>`` block holding a
fenced ``diff``. Secrets show as ``(sensitive)``; their references are never printed. Every
string that comes from a config, the state or the cloud is escaped (Markdown text), put in a
code span or block, or HTML-escaped (``<summary>``), so a hostile description cannot break the
comment. The whole stays under ``limit`` characters (GitHub refuses comments over 65,536): the
longest blocks are folded to one line first, then folded lines are left out from the end.
Not for: deciding anything (the plan is given) or the terminal view (``render``).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.diff import FieldChange
from reconciler.model import Action, Address, PlanMode
from reconciler.plan import SENSITIVE_TEXT, Change, Plan
from reconciler.render import SYMBOLS, summary_counts, verb

GITHUB_COMMENT_LIMIT = 65536
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_URL_PASSWORD = re.compile(r"(://[^/:@\s]*):[^/@\s]*@")
# room kept for the closing note and the "N more" lines while folding
_RESERVE = 400


@dataclass
class _Block:
    """One resource's part of the comment; ``short`` replaces ``full`` when folded."""

    address: Address
    full: str
    short: str
    folded: bool = False
    shown: bool = True

    @property
    def text(self) -> str:
        return self.short if self.folded else self.full


# -- escaping -----------------------------------------------------------------------------


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def escape(text: object) -> str:
    """Markdown text that renders as ``text`` on one line: every ASCII punctuation escaped."""
    return _ASCII_PUNCTUATION.sub(r"\\\1", _one_line(text))


def code(text: object) -> str:
    """An inline code span of ``text``, with a fence longer than any backtick run inside."""
    body = _one_line(text)
    if not body:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _html(text: object) -> str:
    return html.escape(_one_line(text), quote=True)


def _without_password(text: str) -> str:
    """``postgresql://user:secret@host`` -> ``postgresql://user:***@host``."""
    return _URL_PASSWORD.sub(r"\1:***@", text)


# -- the diff lines -------------------------------------------------------------------------


def _value(value: Any) -> str:
    if value == SENSITIVE_TEXT:
        return SENSITIVE_TEXT
    # json.dumps escapes newlines and control characters: a value is always one line, so no
    # line of the block can start a closing fence
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _flatten(values: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, path + ".")
        else:
            yield path, value


def _is_secret(path: str, secrets: Iterable[str]) -> bool:
    return any(path == name or path.startswith(name + ".") for name in secrets)


def _attribute_lines(sign: str, values: Mapping[str, Any] | None, change: Change) -> list[str]:
    lines = []
    for path, value in _flatten(values or {}):
        shown = SENSITIVE_TEXT if _is_secret(path, change.secrets) else _value(value)
        lines.append(f"{sign} {_one_line(path)} = {shown}")
    return lines


def _field_lines(
    fields: Iterable[FieldChange], change: Change, forces: Iterable[str] = ()
) -> list[str]:
    lines = []
    for f in fields:
        path = _one_line(f.path)
        if f.sensitive or _is_secret(f.path, change.secrets):
            lines.append(f"~ {path} = {SENSITIVE_TEXT}")
            continue
        note = "  # forces replacement" if f.path in forces else ""
        lines.append(f"- {path} = {_value(f.before)}")
        lines.append(f"+ {path} = {_value(f.after)}{note}")
    return lines


def _diff_lines(change: Change) -> list[str]:
    lines = [f"# {_one_line(change.reason)}"]
    if change.cloud_id:
        lines.append(f"# id: {_one_line(change.cloud_id)}")
    if change.action is Action.CREATE:
        lines += _attribute_lines("+", change.after, change)
        lines += [f"+ {_one_line(name)} = {SENSITIVE_TEXT}" for name in change.secrets]
    elif change.action in (Action.DELETE, Action.FORGET):
        lines += _attribute_lines("-", change.before, change)
    else:
        lines += _field_lines(change.fields, change, change.forces)
    if change.scale is not None and change.scale.remove:
        nodes = ", ".join(_one_line(n) for n in change.scale.remove)
        lines.append(f"# nodes to remove (newest first): {nodes}")
    if change.scale is not None and change.scale.add:
        lines.append(f"# nodes to add: {change.scale.add}")
    if change.refused:
        lines.append(f"! refused at apply: {_one_line(change.refused)}")
    return lines


def _details(summary: str, lines: list[str]) -> str:
    body = "\n".join(lines)
    return f"<details><summary>{summary}</summary>\n\n```diff\n{body}\n```\n\n</details>"


# -- blocks -------------------------------------------------------------------------------


def _change_block(change: Change) -> _Block:
    symbol, what = SYMBOLS[change.action], verb(change)
    refused = " (refused at apply)" if change.refused else ""
    summary = f"{_html(symbol)} {_html(change.address)} {_html(what + refused)}"
    short = f"- {code(symbol)} {code(change.address)} {escape(what + refused)} (folded)"
    return _Block(change.address, _details(summary, _diff_lines(change)), short)


def _drift_block(change: Change) -> _Block:
    count = len(change.drift)
    what = f"{count} field{'s' if count != 1 else ''} changed outside the reconciler"
    lines = ["# - as last applied, + as live now"]
    lines += _field_lines(change.drift, change)
    summary = f"~ {_html(change.address)}: {_html(what)}"
    short = f"- {code(change.address)}: {escape(what)} (folded)"
    return _Block(change.address, _details(summary, lines), short)


def _head(plan: Plan, refresh_only: bool) -> str:
    if refresh_only:
        count = len(plan.drifted)
        line = (
            f"**Refresh-only:** {count} object(s) changed outside the reconciler."
            if count
            else "**No drift.** The cloud matches what the state recorded at the last apply."
        )
    elif not plan.has_changes and not plan.conflicts and not plan.refusals:
        line = "**No changes.** The cloud matches the configuration."
    else:
        line = f"**Plan:** {summary_counts(plan)}"
    if plan.context is None:
        return line
    ctx = plan.context
    parts = [f"environment {code(ctx.environment)}"] if ctx.environment else []
    parts += [f"target {code(ctx.target)}", f"state {code(_without_password(ctx.state))}"]
    return line + "\n" + ", ".join(parts)


def _alerts(plan: Plan) -> list[str]:
    sections = []
    refusals = [_refusal_item(r.reason, r.address, r.message, r.needs) for r in plan.refusals]
    if not plan.refusals:  # a plan saved before refusals were recorded: its refused changes
        refusals = [_refusal_item(None, c.address, c.refused, None) for c in plan.refused]
    if refusals:
        sections.append("**Apply will refuse this plan:**\n\n" + "\n".join(refusals))
    told = {r.message for r in plan.refusals}
    conflicts = [
        f"- {code(c.address)}: {escape(c.message)}" for c in plan.conflicts if c.message not in told
    ]
    if conflicts:
        sections.append("**Conflicts:**\n\n" + "\n".join(conflicts))
    if plan.warnings:
        sections.append("**Warnings:**\n\n" + "\n".join(f"- {escape(w)}" for w in plan.warnings))
    return sections


def _refusal_item(
    reason: str | None, address: Address | None, message: object, needs: str | None
) -> str:
    head = f"**{escape(reason)}**" if reason else ""
    where = f"{code(address)}:" if address else ""
    tail = f"; needs {code(needs)}" if needs else ""
    return " ".join(p for p in ("-", head, where, escape(message)) if p) + tail


# -- fitting under the limit --------------------------------------------------------------


def _assemble(fixed: list[str], drift: list[_Block], changes: list[_Block], note: str) -> str:
    parts = list(fixed)
    for heading, blocks in (
        ("**Changed outside the reconciler since the last apply:**", drift),
        ("**Changes:**", changes),
    ):
        if not blocks:
            continue
        parts.append(heading)
        parts.extend(_joined(b for b in blocks if b.shown))
        hidden = sum(1 for b in blocks if not b.shown)
        if hidden:  # only folded blocks are left out, so the last part is a list of them
            parts[-1] += f"\n- … and {hidden} more not shown"
    if note:
        parts.append(note)
    return "\n\n".join(parts) + "\n"


def _joined(blocks: Iterable[_Block]) -> list[str]:
    """Consecutive folded lines form one tight list; each full block stands apart."""
    parts: list[str] = []
    previous_folded = False
    for block in blocks:
        if block.folded and previous_folded:
            parts[-1] += "\n" + block.short
        else:
            parts.append(block.text)
        previous_folded = block.folded
    return parts


def _fold(fixed: list[str], blocks: list[_Block], limit: int) -> None:
    """Fold the longest blocks first, then leave folded ones out from the end, until it fits."""
    budget = limit - _RESERVE
    total = sum(len(p) + 2 for p in fixed) + sum(len(b.text) + 2 for b in blocks)
    for block in sorted(blocks, key=lambda b: len(b.full), reverse=True):
        if total <= budget:
            return
        total -= len(block.full) - len(block.short)
        block.folded = True
    for block in reversed(blocks):
        if total <= budget:
            return
        total -= len(block.short) + 2
        block.shown = False


def _note(blocks: list[_Block], plan_file: str) -> str:
    folded = len({b.address for b in blocks if b.folded})
    if not folded:
        return ""
    hidden = len({b.address for b in blocks if not b.shown})
    left_out = f" ({hidden} of them not listed)" if hidden else ""
    nouns = "resource" if folded == 1 else "resources"
    return (
        f"_{folded} {nouns} folded{left_out} to fit GitHub's comment limit; run "
        f"{code('reconciler show ' + plan_file)} for the full plan._"
    )


def plan_to_markdown(
    plan: Plan,
    limit: int = GITHUB_COMMENT_LIMIT,
    *,
    plan_file: str = "PLANFILE",
    mode: PlanMode = PlanMode.NORMAL,
) -> str:
    """The plan as one Markdown comment of at most ``limit`` characters."""
    refresh_only = mode is PlanMode.REFRESH_ONLY
    fixed = [_head(plan, refresh_only), *_alerts(plan)]
    drift = [_drift_block(c) for c in plan.drifted]
    changes = [] if refresh_only else [_change_block(c) for c in plan.actionable]
    _fold(fixed, drift + changes, limit)
    text = _assemble(fixed, drift, changes, _note(drift + changes, plan_file))
    if len(text) > limit:  # the refusals and warnings alone are too long: cut at a line
        text = text[: text.rfind("\n", 0, limit - 2) + 1] + "…\n"
    return text
