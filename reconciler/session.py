"""Assemble one run: the configuration and where the run lives (``context.RunContext``), the
state store, the client (or the embedded emulator), the lock, the refresh and the plan. The
commands (plan, apply, destroy, import ...) share this; it holds no policy of its own.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from reconciler.client.budget import Budgets
from reconciler.client.credentials import Credentials
from reconciler.client.transport import TransportConfig
from reconciler.client.v1 import CceClient
from reconciler.config import load_config
from reconciler.context import RunContext, is_postgres, resolve, without_config
from reconciler.errors import (
    SecretError,
    StateLockedError,
    UnreadableSecretsError,
    UsageError,
    closest,
)
from reconciler.kinds import kind_of, secret_refs
from reconciler.kinds import names as kind_names
from reconciler.model import (
    NO_CHOICE,
    Address,
    ConfigChoice,
    DesiredState,
    Location,
    PlanMode,
    SecretRef,
    Target,
)
from reconciler.options import NO_STATE_CHOICE, PlanOptions, RunOptions, StateChoice
from reconciler.other_states import other_states
from reconciler.ownership import OtherState, needs_other_states, one_owner
from reconciler.plan import Change, LiveState, Plan, PlanContext
from reconciler.planner import make_plan
from reconciler.recovery import RecoveryNote, recover
from reconciler.refresh import refresh, refresh_changed, touched_kinds
from reconciler.secrets import resolve_secret
from reconciler.state import LockInfo, State, StateStore, secret_matches
from reconciler.state.local import LocalStateStore

if TYPE_CHECKING:
    from reconciler.planfile import SavedPlan  # apply --plan imports it; a plan needs none

LOCAL = "local"


def open_store(context: RunContext) -> StateStore:
    """The state store at ``context.state_location``."""
    if is_postgres(context.state_location):
        from reconciler.state.postgres import PostgresStateStore

        return PostgresStateStore(context.state_location, context.workspace, kinds=kind_names())
    return LocalStateStore(context.state_location, kinds=kind_names())


@contextmanager
def open_client(
    context: RunContext, options: RunOptions, budgets: Budgets | None = None, agent: str = ""
) -> Iterator[CceClient]:
    """A client for ``context.target``; ``endpoint: local`` starts the embedded emulator on
    ``.reconciler/emulator.db`` under the configuration root. ``budgets``: a process's shared
    request budget per API host (``watch``); ``agent``: what the User-Agent adds about who
    sends."""
    config = TransportConfig(
        rate=options.rate,
        pool_size=options.parallelism,  # requests in flight: refresh's kinds and pages too
        retry_budget=options.retry_budget,
        agent=agent,
    )
    target = context.target
    if target.endpoint == LOCAL:
        from reconciler.emulator.options import (
            DEFAULT_ACCESS_KEY_ID,
            DEFAULT_SECRET_ACCESS_KEY,
            EmulatorOptions,
        )
        from reconciler.emulator.server import start_emulator

        db = context.state_dir / "emulator.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        with start_emulator(EmulatorOptions(port=0, db_path=str(db))) as emulator:
            creds = Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY)
            shared = budgets.for_endpoint(emulator.url) if budgets else None
            with CceClient.connect(emulator.url, creds, config, host_budget=shared) as client:
                yield client
        return
    with CceClient.from_environment(
        target.endpoint,
        region=target.region,
        config=config,
        host_budgets=budgets,
        ccr_endpoint=target.ccr_endpoint,
    ) as client:
        yield client


class SecretCache:
    """Resolves secret references once per run; values stay in memory only."""

    def __init__(self, secrets_base: str) -> None:
        self.secrets_base = secrets_base
        self._values: dict[tuple[str | None, str | None], str] = {}

    def resolve(self, ref: SecretRef, where: str) -> str:
        key = (ref.env, ref.file)
        if key not in self._values:
            try:
                self._values[key] = resolve_secret(ref, self.secrets_base)
            except SecretError as exc:
                raise SecretError(f"{where}: {exc}") from None
        return self._values[key]

    def value(self, change: Change, name: str) -> str:
        return self.resolve(change.secrets[name], f"{change.address}: {name}")

    def preload(self, changes: Sequence[Change]) -> None:
        """Resolve every secret the changes need before anything is sent, reporting all at once."""
        problems = []
        for change in changes:
            for name in change.secrets:
                try:
                    self.value(change, name)
                except SecretError as exc:
                    problems.append(str(exc))
        if problems:
            raise SecretError(
                "cannot read the secrets this apply needs; nothing was changed:\n  "
                + "\n  ".join(problems)
            )


def resolve_for_plan(desired: DesiredState, cache: SecretCache) -> dict[tuple[Address, str], str]:
    """Every declared secret: compared with state's hashes, and checked against the API's
    rules, at plan time. All unreadable ones are reported at once, each where its reference is
    written (``PATH:LINE:COLUMN: error: ADDR: NAME: why``), in file and line order."""
    values: dict[tuple[Address, str], str] = {}
    problems: list[tuple[Location, str]] = []
    for address, spec in desired.resources.items():
        for name, ref in secret_refs(spec).items():
            try:
                values[(address, name)] = cache.resolve(ref, f"{address}: {name}")
            except SecretError as exc:
                where = desired.secret_locations.get((address, name), spec.location)
                problems.append((where, str(exc)))
    if problems:
        problems.sort(key=lambda p: (p[0].path, p[0].line, p[0].column, p[1]))
        raise UnreadableSecretsError([f"{where}: error: {why}" for where, why in problems])
    return values


@contextmanager
def checking_secrets(
    desired: DesiredState, state: State, values: Mapping[tuple[Address, str], str]
) -> Iterator[None]:
    """While the block runs (the refresh, which mostly waits on the network), compare each
    declared rotatable secret (``values``, from :func:`resolve_for_plan`) with its hash in
    state on another thread: PBKDF2 costs tens of milliseconds per secret and releases the GIL,
    and ``secret_matches`` remembers the answer the planner asks for next."""
    pairs: list[tuple[str, str]] = []
    for (address, name), value in values.items():
        entry = state.resources.get(address)
        stored = entry.secret_hashes.get(name) if entry is not None else None
        if stored is not None and name in kind_of(desired.resources[address]).rotatable_secrets:
            pairs.append((value, stored))
    if not pairs:
        yield
        return
    worker = threading.Thread(
        target=lambda: [secret_matches(value, stored) for value, stored in pairs],
        name="secret-check",
        daemon=True,
    )
    worker.start()
    try:
        yield
    finally:
        worker.join()


@dataclass
class Prepared:
    desired: DesiredState
    state: State
    live: LiveState
    plan: Plan
    notes: list[RecoveryNote] = field(default_factory=list)
    holder: LockInfo | None = None  # another run's lock, seen by a plan that takes none
    recovered: bool = False
    others: list[OtherState] = field(default_factory=list)  # read when the plan needed them


def parse_addresses(values: Sequence[str], flag: str) -> list[Address]:
    out = []
    for value in values:
        try:
            out.append(Address.parse(value, kind_names()))
        except ValueError as exc:
            raise UsageError(f"{flag} {value}: {exc}") from None
    return out


def load(
    paths: Sequence[str], choice: ConfigChoice = NO_CHOICE, state: StateChoice = NO_STATE_CHOICE
) -> tuple[DesiredState, RunContext]:
    """Load the configuration and resolve where the run lives; the configuration's warnings
    (``PATH:LINE:COL: warning: ...``) go to stderr."""
    result = load_config(
        list(paths) or ["."],
        env=choice.env,
        var_files=choice.var_files,
        var_args=choice.var_args,
    )
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    return result.desired, resolve(result, choice, state)


def locate(
    config: Sequence[str], choice: ConfigChoice, state: StateChoice
) -> tuple[DesiredState | None, RunContext]:
    """For commands that read a state without planning: the configuration at ``config`` (or
    none without -c and --env) and where it leads (else the current folder's state)."""
    if config or choice.env:
        return load(config, choice, state)
    return None, without_config(state)


@dataclass
class Run:
    """One command's run: what is desired, where it lives, its state store, client and
    secrets; ``holder`` is another run's lock, seen by a plan that takes none."""

    desired: DesiredState
    context: RunContext
    store: StateStore
    client: CceClient
    secrets: SecretCache
    options: RunOptions
    holder: LockInfo | None = None
    raw: State = field(default_factory=State)  # the state as read, before the client opened


@contextmanager
def start(
    desired: DesiredState,
    context: RunContext,
    options: RunOptions,
    operation: str,
    lock: bool = True,
    wait: float = 0.0,
    say: Callable[[str], None] = lambda _: None,
    budgets: Budgets | None = None,
    agent: str = "",
    known: str | None = None,
) -> Iterator[Run]:
    """Open the state store, take its lock (waiting up to ``wait`` seconds) or, without
    ``lock``, note who holds it, read the state (refused when it was applied to another
    target) and only then open the client: the start every planning command shares.
    ``budgets`` and ``agent``: see :func:`open_client`; ``known``: the digest of the state
    document a saved plan was made against (``StateStore.read``)."""
    store = open_store(context)
    secrets = SecretCache(context.secrets_base)
    with ExitStack() as stack:
        holder = None
        if lock:
            stack.enter_context(locked(store, operation, wait, say))
        else:
            holder = store.holder()
        raw = read_state(store, context.target, known)
        client = stack.enter_context(open_client(context, options, budgets, agent))
        yield Run(desired, context, store, client, secrets, options, holder, raw)


def check_target(store: StateStore, state: State, target: Target) -> None:
    """Refuse to read the cloud for ``state`` at another target than the one it was applied
    to: its objects are not there, and an answer from there would call them gone. Every
    command that reads the cloud for a state (plan, apply, destroy, import, output,
    kubeconfig, export, doctor) checks this before it opens a client (or starts an embedded
    emulator)."""
    if state.target is None and state.serial > 0 and (state.resources or state.pending):
        # a stored state that manages objects without saying where: it could be any target's
        # (a first run killed before its first write leaves only a journal: serial 0)
        raise UsageError(
            f"state {store.describe()} manages {len(state.resources) + len(state.pending)} "
            "object(s) but records no target, so it cannot be checked against this run's "
            f"target {target.url()}; if it is that target's state, record it there "
            f'("target": "{target.url()}") and run again'
        )
    if state.target is not None and state.target != target.url():
        raise UsageError(
            f"state {store.describe()} was applied to {state.target}, but this run targets "
            f"{target.url()}; give the --env / --var that target {state.target}, or use that "
            "target's state (--env, --state) or a new one"
        )


def read_state(store: StateStore, target: Target, known: str | None = None) -> State:
    """The state as stored (journal folded, not yet recovered), refused when it belongs to
    another target (:func:`check_target`); ``known``: see :meth:`StateStore.read`."""
    raw = store.read(known) if known else store.read()
    check_target(store, raw, target)
    return raw


TARGETING_WARNING = (
    "Resource targeting is in effect: this plan was made with --target, so it may not include "
    "every change the configuration asks for. --target is not for routine use: it is for "
    "exceptional situations, such as recovering from errors or mistakes."
)
TARGETED_APPLY_WARNING = (
    "Warning: Applied changes may be incomplete: the plan was made with --target, so some "
    "changes the configuration asks for may have been left out; run `reconciler plan` to see "
    "whether any are pending."
)


def check_addresses(addresses: Sequence[Address], known: set[Address]) -> None:
    """``--target`` / ``--replace`` name addresses of the configuration or the state; an
    unknown one is an error with the closest known address."""
    unknown = [a for a in addresses if a not in known]
    if not unknown:
        return
    names = sorted(map(str, known))
    parts = []
    for address in unknown:
        close = closest(str(address), names)
        parts.append(f"{address} (did you mean {close}?)" if close else str(address))
    raise UsageError(f"no such address in the configuration or the state: {', '.join(parts)}")


def prepare(run: Run, options: PlanOptions) -> Prepared:
    """Read state, refresh, recover and plan."""
    targets = parse_addresses(options.targets, "--target")
    allow_replace = parse_addresses(options.replaces, "--replace")
    desired = run.desired
    if options.mode is PlanMode.DESTROY:
        desired = replace(desired, resources={})
    secrets = resolve_for_plan(desired, run.secrets)  # before any request: a config error
    raw = run.raw
    kinds = touched_kinds(desired, raw)
    with checking_secrets(desired, raw, secrets):
        live = refresh(run.client, raw, run.options.parallelism, kinds, desired)
    state, notes = recover(raw, live)
    state.target = run.context.target.url()  # checked at start: any write of this run records it
    check_addresses([*targets, *allow_replace], set(desired.resources) | set(state.resources))
    plan = make_plan(
        desired, state, live, secrets, targets, allow_replace, options.mode, options.adopt
    )
    others = other_states(run.context.config_root, run.store) if needs_other_states(plan) else []
    plan = one_owner(plan, others)  # one owner per object across the configuration's states
    if targets:  # Terraform's warning: a targeted plan may leave requested changes out
        plan = replace(plan, warnings=(*plan.warnings, TARGETING_WARNING))
    plan = replace(plan, context=plan_context(run))
    recovered = bool(raw.pending) or raw.folded_journal
    return Prepared(desired, state, live, plan, notes, run.holder, recovered, others)


def reread(run: Run, saved: SavedPlan) -> Prepared:
    """For ``apply --plan``: the saved plan itself, checked against what it was made from.
    Reads the state, and from the cloud only what the plan changes: the changed objects by
    id where that takes fewer requests than listing their kinds (and every kind an
    interrupted run left pending, to recover it); refuses a stale plan (exit 5). Plans
    nothing."""
    from reconciler.planfile import check_fresh, standing_on

    # the secrets of what the changes stand on (all a plan saved with its configuration holds)
    resolve_for_plan(standing_on(saved.plan, run.desired), run.secrets)
    raw = run.raw
    changes = saved.plan.actionable
    if raw.pending:  # an interrupted run's intents: their kinds are listed, to recover them
        kinds = {c.address.kind for c in changes} | {p.address.kind for p in raw.pending.values()}
        live = refresh(run.client, raw, run.options.parallelism, kinds, run.desired)
    else:  # the changed objects, by id where that takes fewer requests than their lists
        live = refresh_changed(run.client, raw, changes, run.options.parallelism, run.desired)
    state, notes = recover(raw, live)
    state.target = run.context.target.url()  # checked at start: any write of this run records it
    check_fresh(saved, run.desired, run.context, state, live)
    # one owner, as the other states are now, not as they were at plan time
    others = (
        other_states(run.context.config_root, run.store) if needs_other_states(saved.plan) else []
    )
    plan = one_owner(saved.plan, others)
    recovered = bool(raw.pending) or raw.folded_journal
    return Prepared(run.desired, state, live, plan, notes, run.holder, recovered, others)


def plan_context(run: Run) -> PlanContext:
    context = run.context
    return PlanContext(context.environment, context.target.url(), run.store.describe())


@contextmanager
def locked(
    store: StateStore,
    operation: str,
    wait: float = 0.0,
    say: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[LockInfo]:
    """Hold the state lock; with ``wait`` seconds (``--lock-timeout``), wait for another run to
    release it, saying who holds it every 10 s, before giving up with exit 4."""
    deadline = time.monotonic() + wait
    last_said = float("-inf")
    while True:
        stack = ExitStack()
        try:
            info = stack.enter_context(store.lock(operation))
        except StateLockedError as exc:
            now = time.monotonic()
            if now >= deadline:
                raise
            if now - last_said >= 10:
                say(f"Waiting for the state lock ({deadline - now:.0f}s left): {exc}")
                last_said = now
            sleep(min(1.0, max(0.0, deadline - now)))
            continue
        with stack:
            yield info
        return


def is_tty(stream: object = None) -> bool:
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())
