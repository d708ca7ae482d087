"""What one watch run of one environment may change, and what it says about each resource. Pure.

For: the watch's decisions over a plan made by the ordinary pipeline (``session.prepare``):
the mode of each resource (the run's ``--mode`` narrowed by ``lifecycle.reconcile``); the
status of each resource (in sync, drifted, pending, failed) with its reason; in ``enforce``,
which of the plan's changes are applied and why the others are held (refused by the planner
or the guards, a conflict, an autoscaled node count, backing off after failures, parked after
an authentication, permission or quota error until the configuration or the credentials
change, repaired less than one interval ago, or waiting for one of those). What is held is
never forced: the watch applies a subset of the plan that apply would apply without
``--allow-deletes`` or ``--replace``, checked again by the blast-radius guard.
Not for: planning (``planner``), executing (``apply``) or reporting (``watch.report``).

Memory between runs (:class:`EnvironmentMemory`) is the process's own: failures and their
backoff, parked errors, last repairs, the drift already reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.errors import AuthError, ReconcilerError
from reconciler.graph import edges
from reconciler.guards import refusals
from reconciler.model import Action, Address, DesiredState
from reconciler.plan import BLAST_RADIUS, Change, Plan
from reconciler.state import State


class Mode(StrEnum):
    OBSERVE = "observe"  # record and report; change nothing
    WARN = "warn"  # the same, and an event per new drift
    ENFORCE = "enforce"  # apply what plan would apply without a flag


_RANK = {Mode.OBSERVE: 0, Mode.WARN: 1, Mode.ENFORCE: 2}

IN_SYNC, DRIFTED, PENDING, FAILED = "in_sync", "drifted", "pending", "failed"

# Why a change is held (``ResourceReport.hold``). The first four are reported as refusals.
REFUSED = "refused"  # the planner refuses it (a flag needed, a rule of the API, protection)
CONFLICT = "conflict"  # something in the cloud is in its way
BLAST = "blast-radius"  # the guard refuses what this run would delete, replace or forget
AUTOSCALED = "autoscaled"  # the autoscaler owns the field
MODE = "mode"  # observe or warn (the run's mode, or the resource's lifecycle.reconcile)
BACKOFF = "backoff"  # failed before; tried again later
PARKED = "parked"  # authentication, permission or quota: until the inputs change
RECENT = "recently-repaired"  # repaired less than half an interval ago
WAITING = "waiting"  # waits for a held change
REFUSALS = frozenset({REFUSED, CONFLICT, BLAST, AUTOSCALED})


def narrowed(run_mode: Mode, declared: str | None) -> Mode:
    """The run's mode, narrowed (never widened) by a resource's ``lifecycle.reconcile``."""
    if declared is None:
        return run_mode
    return min(run_mode, Mode(declared), key=_RANK.__getitem__)


def needs_operator(error: BaseException) -> bool:
    """Errors no retry can fix: authentication, permission, quota. Retried only once the
    configuration or the credentials change."""
    if isinstance(error, AuthError):
        return True
    code = getattr(error, "code", "") or ""
    return "quota" in code.lower() or code.endswith("OutOfLimit")


@dataclass
class Failure:
    """A resource (or, with address None, the whole environment) that failed ``count`` times
    in a row; tried again at ``retry_at`` unless ``parked`` (until ``parked`` changes)."""

    count: int
    error: str
    at: float
    retry_at: float
    parked: str | None = None  # the configuration and credentials it failed with
    same_as: str = ""  # what makes two failures the same one (class and code, not request id)


@dataclass
class EnvironmentMemory:
    """What this process remembers of one environment between its runs."""

    failures: dict[Address | None, Failure] = field(default_factory=dict)
    repaired_at: dict[Address, float] = field(default_factory=dict)
    repairs_in_a_row: dict[Address, int] = field(default_factory=dict)
    reported: dict[tuple[str, Address | None], str] = field(default_factory=dict)

    def fail(
        self,
        address: Address | None,
        error: BaseException,
        now: float,
        interval: float,
        cap: float,
        inputs: str,
    ) -> Failure:
        """Record a failure: back off ``interval * 2**(n-1)`` (at most ``cap``), or park it."""
        previous = self.failures.get(address)
        count = previous.count + 1 if previous else 1
        delay = min(cap, interval * 2 ** (count - 1))
        parked = inputs if needs_operator(error) else None
        same_as = f"{type(error).__name__}:{getattr(error, 'code', '')}"
        if not getattr(error, "code", ""):
            same_as += f":{describe(error)}"
        failure = Failure(count, describe(error), now, now + delay, parked, same_as)
        self.failures[address] = failure
        return failure

    def succeed(self, address: Address | None) -> None:
        self.failures.pop(address, None)

    def held_by_failure(
        self, address: Address | None, now: float, inputs: str, interval: float
    ) -> tuple[str, str] | None:
        """Why ``address`` is not tried now (PARKED or BACKOFF, and the reason), or None. A
        parked failure is released when the configuration or the credentials change; a
        backoff ends at its time (within half an interval: runs come once per interval)."""
        failure = self.failures.get(address)
        if failure is None:
            return None
        if failure.parked is not None:
            if failure.parked != inputs:
                return None
            return PARKED, (
                f"not retried until the configuration or the credentials change "
                f"(failed {failure.count}x: {failure.error})"
            )
        if now >= failure.retry_at - interval / 2:
            return None
        return BACKOFF, (
            f"backing off for {failure.retry_at - now:.1f}s after {failure.count} "
            f"failure(s): {failure.error}"
        )

    def is_new(self, event: str, address: Address | None, key: str) -> bool:
        """True the first time ``key`` is reported for (event, address), and whenever it
        changes; ``forget`` starts over."""
        if self.reported.get((event, address)) == key:
            return False
        self.reported[(event, address)] = key
        return True

    def forget(self, event: str, address: Address | None) -> None:
        self.reported.pop((event, address), None)


def describe(error: BaseException) -> str:
    text = str(error) if isinstance(error, ReconcilerError) else f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:500]


@dataclass(frozen=True)
class ResourceReport:
    address: Address
    status: str  # in_sync | drifted | pending | failed
    action: str  # the plan's action
    reason: str
    fields: tuple[str, ...] = ()  # drifted (or changed) field paths
    held: str | None = None  # why this run does not apply it (None: applied, or nothing to do)
    hold: str | None = None  # what kind of reason ``held`` is (REFUSED, MODE, BACKOFF ...)


@dataclass(frozen=True)
class Decision:
    """``apply``: the plan of the changes this run applies (empty outside enforce);
    ``reports``: every address of the plan; ``blast``: the guard's refusal of the whole run."""

    apply: Plan
    reports: dict[Address, ResourceReport]
    blast: str | None = None


AutoscaledFields = Callable[[Change], frozenset[str]]


def decide(
    plan: Plan,
    state: State,
    desired: DesiredState,
    run_mode: Mode,
    memory: EnvironmentMemory,
    *,
    now: float,
    interval: float,
    inputs: str,
    autoscaled: AutoscaledFields = lambda _: frozenset(),
) -> Decision:
    """What this run applies and reports, from ``plan`` (made as ``plan`` makes it)."""
    held: dict[Address, tuple[str, str]] = {}
    conflicts = {c.address: c.message for c in plan.conflicts}
    for change in plan.actionable:
        reason = _held(change, desired, run_mode, memory, conflicts, now, interval, inputs)
        reason = reason or _autoscaled(change, autoscaled)
        if reason:
            held[change.address] = reason
    held.update(_waiting(plan.actionable, held))
    chosen = tuple(c for c in plan.actionable if c.address not in held)
    blast = None
    if chosen:
        found = [r for r in refusals(Plan(chosen), state, None) if r.reason == BLAST_RADIUS]
        if found:
            blast = found[0].message
            held.update({c.address: (BLAST, blast) for c in chosen})
            chosen = ()
    reports = {c.address: _report(c, held.get(c.address), memory) for c in plan.changes}
    for conflict in plan.conflicts:  # a conflict may name an address without a change
        if conflict.address not in reports:
            reports[conflict.address] = ResourceReport(
                conflict.address,
                PENDING,
                "conflict",
                conflict.message,
                (),
                conflict.message,
                CONFLICT,
            )
    return Decision(Plan(chosen, warnings=plan.warnings, context=plan.context), reports, blast)


def _held(
    change: Change,
    desired: DesiredState,
    run_mode: Mode,
    memory: EnvironmentMemory,
    conflicts: Mapping[Address, str],
    now: float,
    interval: float,
    inputs: str,
) -> tuple[str, str] | None:
    spec = desired.resources.get(change.address)
    mode = narrowed(run_mode, spec.lifecycle.reconcile if spec is not None else None)
    if mode is not Mode.ENFORCE:
        why = "lifecycle.reconcile" if mode is not run_mode else "mode"
        return MODE, f"{why} {mode.value}: reported, not applied"
    if change.refused:
        return REFUSED, change.refused
    if change.address in conflicts:
        return CONFLICT, conflicts[change.address]
    waiting = memory.held_by_failure(change.address, now, inputs, interval)
    if waiting:
        return waiting
    last = memory.repaired_at.get(change.address)
    if change.drift and last is not None and now - last < interval / 2:
        return RECENT, (
            f"repaired {now - last:.1f}s ago, less than one interval: changed back outside "
            "the reconciler; repaired again at the next run"
        )
    return None


def _autoscaled(change: Change, autoscaled: AutoscaledFields) -> tuple[str, str] | None:
    owned = autoscaled(change)
    if change.action is not Action.UPDATE or not owned:
        return None
    touched = {f.path for f in change.fields}
    if touched & owned:
        return AUTOSCALED, f"the autoscaler owns {', '.join(sorted(touched & owned))}"
    return None


def _waiting(
    changes: Iterable[Change], held: Mapping[Address, tuple[str, str]]
) -> dict[Address, tuple[str, str]]:
    """Every change that waits (directly or not) for a held one is held too."""
    order = list(changes)
    needs = edges(order)
    found: dict[Address, tuple[str, str]] = {}
    changed = True
    while changed:
        changed = False
        for change in order:
            address = change.address
            if address in held or address in found:
                continue
            blocker = next((n for n in sorted(needs[address]) if n in held or n in found), None)
            if blocker is not None:
                found[address] = (WAITING, f"waits for {blocker}, which is held")
                changed = True
    return found


def _report(
    change: Change, held: tuple[str, str] | None, memory: EnvironmentMemory
) -> ResourceReport:
    failure = memory.failures.get(change.address)
    drift = tuple(f.path for f in change.drift)
    action = change.action.value
    hold, why = held if held else (None, None)
    if failure is not None:
        return ResourceReport(change.address, FAILED, action, failure.error, drift, why, hold)
    if drift:
        return ResourceReport(change.address, DRIFTED, action, change.reason, drift, why, hold)
    if change.action is Action.NOOP:
        return ResourceReport(change.address, IN_SYNC, action, change.reason)
    fields = tuple(f.path for f in change.fields)
    return ResourceReport(change.address, PENDING, action, change.reason, fields, why, hold)
