"""Execute a Plan: every change on a bounded pool in dependency order, journaled.

The executor knows no kind: what a create, update or delete sends is the kind's business
(``reconciler.kinds``); here is what every change shares. Each mutation is journaled before it
is sent (an ``intent`` carrying the state entry the resource gets on success), the cloud id is
journaled the moment it is known, and a ``done`` record carries the outcome. A delete answered
with not-found has reached its goal. "Already done" answers on creates are the kinds' to judge.

Not for: deciding what to do (``planner``), refusing plans (``guards``) or printing (``render``).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler import waiters
from reconciler.client.v1 import CceClient
from reconciler.errors import LockLostError, NotFoundError, ReconcilerError
from reconciler.graph import DONE, FAILED, SKIPPED, NodeResult, Walker
from reconciler.kinds import kind_named
from reconciler.kinds.base import Kind, TaintedError
from reconciler.model import Action, Address
from reconciler.plan import DELETED_OUTSIDE, Change, Plan, fingerprint
from reconciler.state import (
    ADOPTED,
    CREATED,
    CloudIdRecord,
    DoneRecord,
    IntentRecord,
    Journal,
    ResourceState,
    State,
    hash_secret,
    new_intent_id,
    now_text,
)

Progress = Callable[[str], None]
SecretResolver = Callable[[Change, str], str]
# (address, destination, value): hands a secret the API shows once to the user
SecretSink = Callable[[Address, str, str], None]


def no_secret_sink(address: Address, destination: str, value: str) -> None:
    raise ReconcilerError(f"{address}: this run cannot hand out the secret the API returned")


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int = 10
    timeouts: Mapping[str, float] = field(default_factory=dict)  # kind -> seconds
    poll_interval: float = 2.0
    progress_every: float = 10.0
    busy_retries: int = 30


class Interrupted(ReconcilerError):
    exit_code = 130


class Executor:
    """Runs one change at a time per worker, journaled. Thread-safe; one instance per apply."""

    def __init__(
        self,
        client: CceClient,
        journal: Journal,
        state: State,
        secrets: SecretResolver,
        inputs: Mapping[str, Any],
        options: ApplyOptions,
        progress: Progress,
        sleep: Callable[[float], None] | None = None,
        secret_sink: SecretSink = no_secret_sink,
    ) -> None:
        self.client = client
        self.secret_sink = secret_sink
        self.journal = journal
        self.state = state
        self.secrets = secrets
        self.inputs = inputs  # kind -> what its changes need from the run (Kind.apply_inputs)
        self.options = options
        self.progress = progress
        self.cancelled = threading.Event()
        self.sleep = sleep or self._sleep_unless_cancelled

    def cancel(self) -> None:
        """Stop waiting (Ctrl-C): waits end at once; requests in flight finish and are journaled."""
        self.cancelled.set()

    def _sleep_unless_cancelled(self, seconds: float) -> None:
        if self.cancelled.wait(seconds):
            raise Interrupted("interrupted while waiting; the next run picks this up")

    # --- journal -----------------------------------------------------------------------------

    def entry_for(
        self, change: Change, cloud_id: str, ownership: str = CREATED, **extra: object
    ) -> ResourceState:
        """The state entry a resource gets once ``change`` is done (secrets only as hashes)."""
        after = dict(change.after or {})
        kind = kind_named(change.address.kind)
        hashes = {
            name: hash_secret(self.secrets(change, name))
            for name in change.secrets
            if name in kind.rotatable_secrets
        }
        return ResourceState(
            kind=change.address.kind,
            cloud_id=cloud_id,
            ownership=ownership,
            protect=change.protected,
            fingerprint=fingerprint(after),
            secret_hashes=hashes,
            applied=after,
        ).evolve(**extra)

    def intent(
        self, change: Change, action: str, entry: ResourceState | None, cloud_id: str | None = None
    ) -> str:
        intent_id = new_intent_id()
        self.journal.append(
            IntentRecord(intent_id, change.address, action, cloud_id, entry, now_text())
        )
        return intent_id

    def cloud_id_known(self, intent_id: str, cloud_id: str) -> None:
        self.journal.append(CloudIdRecord(intent_id, cloud_id))

    def done(
        self,
        intent_id: str,
        address: Address,
        entry: ResourceState | None,
        forgotten: bool = False,
    ) -> None:
        self.journal.append(DoneRecord(intent_id, address, entry, forgotten))

    # --- one change --------------------------------------------------------------------------

    def run(self, change: Change) -> None:
        action = change.action
        if action is Action.FORGET:
            # forgotten but still live (an undeletable registry user): remember it
            still_there = change.live_fingerprint not in (None, "absent")
            intent = self.intent(change, "delete", None)
            self.done(intent, change.address, None, forgotten=still_there)
        elif action is Action.IMPORT:
            self._adopt(change)
        elif action is Action.DELETE:
            self._delete(change)
        elif action is Action.CREATE:
            self._create(change)
        elif action is Action.REPLACE:
            self._delete(change)
            self._create(change)
        elif action is Action.UPDATE:
            self._update(change)

    def _delete(self, change: Change) -> None:
        entry = self.state.resources.get(change.address)
        if entry is None:
            return
        kind = kind_named(change.address.kind)
        intent = self.intent(change, "delete", None, entry.cloud_id)
        try:
            kind.delete(ChangeContext(self, kind, intent), change.address, entry.cloud_id)
        except NotFoundError:
            pass  # already gone: a delete's goal
        self.done(intent, change.address, None)

    def _create(self, change: Change) -> None:
        kind = kind_named(change.address.kind)
        entry = self.entry_for(change, cloud_id=kind.natural_id(change.after or {}))
        intent = self.intent(change, "create", entry)
        try:
            created = kind.create(ChangeContext(self, kind, intent), change, entry)
        except TaintedError as exc:
            self.done(intent, change.address, exc.entry)
            raise ReconcilerError(exc.message) from None
        self.done(intent, change.address, created)

    def _adopt(self, change: Change) -> None:
        """Record an existing object as adopted: its live values of the declared fields as
        applied, the declared secrets' hashes (the API cannot show them), and no request to
        the cloud. A kind adopted on sight is also set as declared, in this run (its
        ``update``)."""
        cloud_id = change.cloud_id or ""
        entry = self.entry_for(change, cloud_id, ADOPTED).evolve(applied=adopted_attrs(change))
        kind = kind_named(change.address.kind)
        if not (kind.adopts_on_sight and change.fields):
            self.done(self.intent(change, "adopt", None, cloud_id), change.address, entry)
            return
        intent = self.intent(change, "update", None, cloud_id)
        kind.update(ChangeContext(self, kind, intent), change, entry)
        self.done(intent, change.address, self.entry_for(change, cloud_id, ADOPTED))

    def _update(self, change: Change) -> None:
        entry = self.state.resources.get(change.address)
        if entry is None:
            raise ReconcilerError(f"{change.address} is not in state any more; plan again")
        kind = kind_named(change.address.kind)
        intent = self.intent(change, "update", None, entry.cloud_id)
        context = ChangeContext(self, kind, intent)
        if change.settle:
            kind.settle(context, change, entry)
        kind.update(context, change, entry)
        self.done(intent, change.address, self.entry_for(change, entry.cloud_id, entry.ownership))


def adopted_attrs(change: Change) -> dict[str, Any]:
    """What an adopted object is recorded to have: the live value of each declared field; a
    field the API never reports and that changes in place (a v2 cluster's delete options) as
    declared, which a later delete or change goes by. Undeclared live fields are not recorded:
    they were never managed, so their absence later is no removal."""
    live = change.before or {}
    kind = kind_named(change.address.kind)
    applied: dict[str, Any] = {}
    for key, declared in (change.after or {}).items():
        if key in live:
            applied[key] = live[key]
        elif not kind.forces_replacement(key):
            applied[key] = declared
    return applied


class ChangeContext:
    """What a kind may use while it changes one resource (``kinds.base.Operations``)."""

    def __init__(self, executor: Executor, kind: Kind, intent_id: str) -> None:
        self._executor = executor
        self._kind = kind
        self._intent_id = intent_id
        self.client = executor.client
        self.inputs = executor.inputs.get(kind.name)
        self.busy_retries = executor.options.busy_retries

    def secret(self, change: Change, name: str) -> str | None:
        return self._executor.secrets(change, name) if name in change.secrets else None

    def deliver_secret(self, address: Address, destination: str, value: str) -> None:
        self._executor.secret_sink(address, destination, value)

    def record_cloud_id(self, cloud_id: str) -> None:
        self._executor.cloud_id_known(self._intent_id, cloud_id)

    def progress(self, message: str) -> None:
        self._executor.progress(message)

    def sleep(self, seconds: float) -> None:
        self._executor.sleep(seconds)

    def entry(self, address: Address) -> ResourceState | None:
        return self._executor.state.resources.get(address)

    def owned_ids(self, kind: str) -> set[str]:
        # dict() copies in one step under the GIL; other workers add and remove entries meanwhile
        snapshot = dict(self._executor.state.resources)
        return {e.cloud_id for a, e in snapshot.items() if a.kind == kind}

    def wait(
        self, address: Address, waiter: waiters.Waiter, read_status: Callable[[], str]
    ) -> None:
        options = self._executor.options
        timeout = options.timeouts.get(
            self._kind.name, self._kind.default_timeout or waiter.timeout
        )
        configured = waiters.Waiter(
            waiter.name, waiter.table, options.poll_interval, timeout, options.progress_every
        )
        configured.wait(
            read_status, lambda msg: self.progress(f"{address}: {msg}"), sleep=self.sleep
        )


@dataclass
class ApplyResult:
    results: dict[Address, NodeResult]

    def by_status(self, status: str) -> list[NodeResult]:
        return [r for _, r in sorted(self.results.items()) if r.status == status]

    @property
    def failed(self) -> bool:
        return any(r.status != DONE for r in self.results.values())


def execute(plan: Plan, executor: Executor, parallelism: int, progress: Progress) -> ApplyResult:
    lost: list[LockLostError] = []

    def run(change: Change) -> None:
        if lost:  # fenced: no change starts once this run is known to have lost its lock
            raise LockLostError(f"not started: {lost[0].message}")
        start = time.monotonic()
        progress(f"{change.address}: {_ING[change.action]}...")
        try:
            executor.run(change)
        except LockLostError as exc:
            lost.append(exc)
            executor.cancel()
            raise
        progress(f"{change.address}: {_ED[change.action]} after {time.monotonic() - start:.1f}s")

    results = Walker(plan.actionable, run, parallelism, on_interrupt=executor.cancel).walk()
    for result in results.values():
        if result.status == FAILED and not (lost and isinstance(result.error, LockLostError)):
            address = result.change.address
            progress(f"{address}: failed: {describe_error(result.error, address)}")
    if lost:
        raise lost[0]
    return ApplyResult(results)


_ING = {
    Action.CREATE: "creating",
    Action.UPDATE: "updating",
    Action.REPLACE: "replacing",
    Action.DELETE: "deleting",
    Action.FORGET: "forgetting",
    Action.IMPORT: "importing",
}
_ED = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.REPLACE: "replaced",
    Action.DELETE: "deleted",
    Action.FORGET: "forgotten",
    Action.IMPORT: "imported",
}


def describe_error(error: BaseException | None, address: Address | None = None) -> str:
    """The error's text for a line that already names ``address``: said once, not twice."""
    text = str(error) if error else "unknown error"
    if address is not None:
        for prefix in (f"{address}: ", f"{address} "):
            if text.startswith(prefix):
                return text[len(prefix) :]
    return text


def summary_lines(result: ApplyResult, destroying: bool = False) -> list[str]:
    """``Apply complete: 3 created, ...``; for destroy, as Terraform words it, ``Destroy
    complete: 3 destroyed, 1 forgotten, 0 failed, 0 skipped.``"""
    done = result.by_status(DONE)
    counts = {a: sum(1 for r in done if r.change.action is a) for a in _ED}
    shown: tuple[Action, ...] = (
        Action.CREATE,
        Action.UPDATE,
        Action.REPLACE,
        Action.DELETE,
        Action.FORGET,
    )
    words = dict(_ED)
    if destroying:
        shown, words[Action.DELETE] = (Action.DELETE, Action.FORGET), "destroyed"
    lines = [
        ("Destroy complete: " if destroying else "Apply complete: ")
        + ", ".join(f"{counts[a]} {words[a]}" for a in shown)
        + (f", {counts[Action.IMPORT]} imported" if counts[Action.IMPORT] else "")
        + f", {len(result.by_status(FAILED))} failed, {len(result.by_status(SKIPPED))} skipped."
    ]
    for r in result.by_status(FAILED):
        lines.append(f"  failed:  {r.change.address}: {describe_error(r.error, r.change.address)}")
    for r in result.by_status(SKIPPED):
        lines.append(f"  skipped: {r.change.address} (depends on {r.blocked_by}, which failed)")
    return lines


def record_drift(state: State, plan: Plan) -> State:
    """``apply --refresh-only``: take the live values of drifted fields as applied, in state
    only; nothing is sent to the cloud."""
    new = state.copy()
    for change in plan.drifted:
        entry = new.resources.get(change.address)
        if entry is None:
            continue
        if DELETED_OUTSIDE in change.drift:
            del new.resources[change.address]  # gone from the cloud: state forgets it too
            continue
        applied = copy.deepcopy(dict(entry.applied))
        for f in change.drift:
            _set_path(applied, f.path.split("."), f.after)
        new.resources[change.address] = entry.evolve(applied=applied)
    return new


def _set_path(values: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        values = values.setdefault(key, {})
    values[path[-1]] = value
