"""One environment's turn in a watch: load, try the lock, plan, decide, apply, remember.

For: :func:`take_turn`, which runs the ordinary pipeline (``session``: the configuration, the
state store, the client, refresh, recovery and plan; ``apply``: the executor and its journal)
once for one environment, under the state's lock taken with try-lock (never waited for), and
returns a :class:`TurnResult` for the reporter. What is applied is decided by
``watch.policy``; nothing here plans or executes on its own.
Not for: scheduling turns or sharing environments between workers (``watch.loop``,
``watch.seats``), or printing (``watch.report``).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import click

from reconciler.apply import ApplyOptions, Executor
from reconciler.client.budget import Budgets
from reconciler.client.credentials import (
    ENV_ACCESS_KEY_ID,
    ENV_SECRET_ACCESS_KEY,
    ENV_SESSION_TOKEN,
)
from reconciler.config import load_config
from reconciler.config.digest import config_digest
from reconciler.context import RunContext, resolve
from reconciler.errors import ConfigError, ReconcilerError, StateLockedError
from reconciler.execution import execute_prepared
from reconciler.graph import DONE, NodeResult
from reconciler.graph import FAILED as NODE_FAILED
from reconciler.kinds import kind_named
from reconciler.model import Action, Address, ConfigChoice, DesiredState
from reconciler.options import PlanOptions, RunOptions, StateChoice
from reconciler.plan import Change, LiveState
from reconciler.session import open_store, prepare, start
from reconciler.state import StateStore
from reconciler.watch.policy import (
    DRIFTED,
    FAILED,
    IN_SYNC,
    EnvironmentMemory,
    Mode,
    ResourceReport,
    decide,
)

# What a turn ended with.
OK = "ok"  # planned (and in enforce applied) without a failure
FAILED_TURN = "failed"  # the configuration, the state, the API or a change failed
LOCKED = "locked"  # another run holds the state's lock: skipped, never waited for
ELSEWHERE = "elsewhere"  # another worker's seat works this environment
HELD = "held"  # backing off, or parked until the configuration or the credentials change
STOPPED = "stopped"  # the watch is stopping: not started


@dataclass(frozen=True)
class WatchSettings:
    """What every turn of a watch shares (from the command line)."""

    paths: tuple[str, ...]
    var_files: tuple[str, ...] = ()
    var_args: tuple[str, ...] = ()
    mode: Mode = Mode.OBSERVE
    interval: float = 600.0
    jitter: float = 0.1
    backoff_cap: float = 3600.0
    state: StateChoice = StateChoice()
    run: RunOptions = RunOptions()
    apply: ApplyOptions = ApplyOptions()
    concurrency: int = 4


@dataclass(frozen=True)
class Applied:
    address: Address
    action: str
    drift: tuple[str, ...]  # the drifted fields it repaired (empty: a pending change)
    repeats: int = 1  # repairs of this address in a row, one per run (someone changes it back)


@dataclass
class TurnResult:
    environment: str
    run_id: str
    outcome: str
    reason: str = ""
    started: float = field(default_factory=time.time)
    finished: float = 0.0
    resources: dict[Address, ResourceReport] = field(default_factory=dict)
    applied: list[Applied] = field(default_factory=list)
    failed: dict[Address, str] = field(default_factory=dict)  # a change that failed this run
    new_failure: bool = False  # the environment's failure is new (or says something new)
    blast: str | None = None
    lock_holder: str | None = None
    state: str = ""  # where the state lives (store.describe())

    @property
    def drifted(self) -> list[ResourceReport]:
        return [r for r in self.resources.values() if r.fields and r.status == "drifted"]


class Stopping(ReconcilerError):
    """A change not started because the watch is stopping (the next run does it)."""


class StoppableExecutor(Executor):
    """The executor, refusing to start a change once its worker is stopping; a change already
    started finishes and is journaled. ``for_worker`` makes the class a worker's turns use."""

    worker: Worker

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self.worker.lock:
            self.worker.executors.add(self)  # so that a second signal can cut its waits

    def run(self, change: Change) -> None:
        if self.worker.stopping.is_set():
            raise Stopping("not started: the watch is stopping; the next run does it")
        super().run(change)

    @classmethod
    def for_worker(cls, worker: Worker) -> type[StoppableExecutor]:
        return type("WorkerExecutor", (cls,), {"worker": worker})


@dataclass
class Environment:
    """One watched environment: its name (None: the configuration without ``--env``) and what
    this process remembers of it."""

    name: str | None
    memory: EnvironmentMemory = field(default_factory=EnvironmentMemory)
    warnings_shown: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return self.name or "default"


@dataclass
class Worker:
    """What a turn needs from its process: who it is, the shared budgets, the seats, stop
    signals, and where human-readable progress goes."""

    id: str
    budgets: Budgets
    is_mine: Callable[[Environment, StateStore], bool]
    stopping: threading.Event
    say: Callable[[str], None]
    executors: weakref.WeakSet[Executor] = field(default_factory=weakref.WeakSet)
    lock: threading.Lock = field(default_factory=threading.Lock)


def credentials_fingerprint(environ: dict[str, str] | None = None) -> str:
    """Changes when the credentials in the environment change (kept in memory only)."""
    env = os.environ if environ is None else environ
    text = "\0".join(
        env.get(n, "") for n in (ENV_ACCESS_KEY_ID, ENV_SECRET_ACCESS_KEY, ENV_SESSION_TOKEN)
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def take_turn(env: Environment, settings: WatchSettings, worker: Worker) -> TurnResult:
    """One run of ``env``: see the module docstring. Never raises for a failure of the
    environment (it is in the result); only a programming error escapes."""
    result = TurnResult(env.label, uuid.uuid4().hex[:12], OK)
    try:
        _turn(env, settings, worker, result)
    finally:
        result.finished = time.time()
    return result


def _turn(env: Environment, settings: WatchSettings, worker: Worker, result: TurnResult) -> None:
    memory = env.memory
    now = time.monotonic()
    try:
        desired, context = _load(env, settings, worker)
    except ConfigError as exc:
        digest = hashlib.sha256(str(exc).encode()).hexdigest()
        _fail(result, memory, None, exc, now, settings, digest)
        return
    inputs = f"{config_digest(desired, context.target)}:{credentials_fingerprint()}"
    try:
        store = open_store(context)
        result.state = store.describe()
        mine = worker.is_mine(env, store)
    except ReconcilerError as exc:
        _fail(result, memory, None, exc, now, settings, inputs)
        return
    if not mine:
        result.outcome, result.reason = ELSEWHERE, "worked by another worker"
        return
    waiting = memory.held_by_failure(None, now, inputs, settings.interval)
    if waiting:
        result.outcome, result.reason = HELD, waiting[1]
        return
    if worker.stopping.is_set():
        result.outcome, result.reason = STOPPED, "the watch is stopping"
        return
    try:
        _locked_turn(env, settings, worker, result, desired, context, inputs)
    except StateLockedError as exc:
        result.outcome, result.reason, result.lock_holder = LOCKED, "state locked", str(exc)
    except ReconcilerError as exc:
        _fail(result, memory, None, exc, now, settings, inputs)


def _load(
    env: Environment, settings: WatchSettings, worker: Worker
) -> tuple[DesiredState, RunContext]:
    choice = ConfigChoice(env.name, settings.var_files, settings.var_args)
    loaded = load_config(
        list(settings.paths) or ["."],
        env=choice.env,
        var_files=choice.var_files,
        var_args=choice.var_args,
    )
    for warning in loaded.warnings:
        if warning not in env.warnings_shown:  # once per process, not once per interval
            env.warnings_shown.add(warning)
            worker.say(warning)
    return loaded.desired, resolve(loaded, choice, settings.state)


def _locked_turn(
    env: Environment,
    settings: WatchSettings,
    worker: Worker,
    result: TurnResult,
    desired: DesiredState,
    context: RunContext,
    inputs: str,
) -> None:
    """The turn under the state's lock, taken with try-lock (StateLockedError: skipped)."""
    agent = f"watch; worker={worker.id}; env={env.label}; run={result.run_id}"
    with start(desired, context, settings.run, "watch", budgets=worker.budgets, agent=agent) as run:
        prepared = prepare(run, PlanOptions())
        now = time.monotonic()
        decision = decide(
            prepared.plan,
            prepared.state,
            desired,
            settings.mode,
            env.memory,
            now=now,
            interval=settings.interval,
            inputs=inputs,
            autoscaled=lambda change: _autoscaled(prepared.live, change),
        )
        result.resources, result.blast = decision.reports, decision.blast
        env.memory.succeed(None)  # the environment was read and planned
        for address in list(env.memory.repairs_in_a_row):
            report = result.resources.get(address)
            if report is None or report.status != DRIFTED:
                del env.memory.repairs_in_a_row[address]  # in sync this time: no fight
        plan = decision.apply
        if not plan.changes:
            if prepared.recovered and settings.mode is Mode.ENFORCE:
                run.store.write(prepared.state)  # what recovery found, as apply would keep it
            return
        if worker.stopping.is_set():
            result.outcome, result.reason = STOPPED, "the watch is stopping: nothing applied"
            return
        run.secrets.preload([c for c in plan.changes if c.action is not Action.DELETE])
        say = _prefixed(worker.say, env.label)
        executor_type = StoppableExecutor.for_worker(worker)
        outcome = execute_prepared(
            run, prepared, plan, settings.apply, say, click.echo, executor_type
        )
    _remember(env, settings, result, plan.changes, outcome.results, now, inputs)


def _remember(
    env: Environment,
    settings: WatchSettings,
    result: TurnResult,
    changes: tuple[Change, ...],
    results: Mapping[Address, NodeResult],
    now: float,
    inputs: str,
) -> None:
    memory = env.memory
    for change in changes:
        node = results.get(change.address)
        status = node.status if node is not None else None
        address = change.address
        if status == DONE:
            memory.succeed(address)
            drift = tuple(f.path for f in change.drift)
            repeats = 1
            if drift:
                repeats = memory.repairs_in_a_row.get(address, 0) + 1
                memory.repairs_in_a_row[address] = repeats
                memory.repaired_at[address] = now
            result.applied.append(Applied(address, change.action.value, drift, repeats))
            _mark_applied(result, address)
        elif status == NODE_FAILED:
            assert node is not None
            error = node.error or ReconcilerError("failed")
            if isinstance(error, Stopping):
                result.outcome, result.reason = STOPPED, str(error)
                continue
            failure = memory.fail(
                address, error, now, settings.interval, settings.backoff_cap, inputs
            )
            result.failed[address] = failure.error
            report = result.resources.get(address)
            if report is not None:
                result.resources[address] = ResourceReport(
                    address, FAILED, report.action, failure.error, report.fields
                )
    if result.failed and result.outcome == OK:
        result.outcome, result.reason = FAILED_TURN, f"{len(result.failed)} change(s) failed"


def _mark_applied(result: TurnResult, address: Address) -> None:
    report = result.resources.get(address)
    if report is not None:
        result.resources[address] = ResourceReport(
            address, IN_SYNC, "noop", f"{report.action} applied by the watch", report.fields
        )


def _fail(
    result: TurnResult,
    memory: EnvironmentMemory,
    address: Address | None,
    error: BaseException,
    now: float,
    settings: WatchSettings,
    inputs: str,
) -> None:
    previous = memory.failures.get(address)
    failure = memory.fail(address, error, now, settings.interval, settings.backoff_cap, inputs)
    result.outcome, result.reason = FAILED_TURN, failure.error
    result.new_failure = previous is None or previous.same_as != failure.same_as


def _autoscaled(live: LiveState, change: Change) -> frozenset[str]:
    obj = live.lookup(change.address.kind, change.cloud_id) if change.cloud_id else None
    return (
        kind_named(change.address.kind).autoscaled_fields(obj) if obj is not None else frozenset()
    )


def _prefixed(say: Callable[[str], None], label: str) -> Callable[[str], None]:
    return lambda message: say(f"[{label}] {message}")
