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
    ReconcilerError,
    SecretError,
    StateLockedError,
    UnreadableSecretsError,
    UsageError,
    closest,
)
from reconciler.kinds import kind_of, secret_refs
from reconciler.kinds import names as kind_names
from reconciler.kinds.base import REGISTRY_USER
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
from reconciler.refresh import Refresh, refresh, refresh_changed, touched_kinds
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
    paths: Sequence[str],
    choice: ConfigChoice = NO_CHOICE,
    state: StateChoice = NO_STATE_CHOICE,
    early: EarlyRefresh | None = None,
) -> tuple[DesiredState, RunContext]:
    """Load the configuration and resolve where the run lives; the configuration's warnings
    (``PATH:LINE:COL: warning: ...``) go to stderr. With ``early``, its refresh starts as
    soon as the files are parsed and the target is surely valid."""
    result = load_config(
        list(paths) or ["."],
        env=choice.env,
        var_files=choice.var_files,
        var_args=choice.var_args,
        on_target=early.start if early is not None else None,
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


# seconds: how often threads hand over the interpreter lock meanwhile (Python's default is
# 5 ms; at 0.5 ms a 10,000-resource plan's pages waited least, but 100,000 spent up to a second
# more CPU handing it over)
SWITCH_INTERVAL = 0.001


class EarlyRefresh:
    """A plan's refresh, started while the rest of the run is still getting ready.

    ``load`` calls :meth:`start` once the configuration's files are parsed and its target is
    surely valid: a client for that target is opened and the kinds the files declare begin to
    be listed (GETs only), while the rest of the configuration is checked and the state is
    read; :func:`start` then uses that client and :func:`prepare` that refresh (``Run.refresh``),
    which waits for what is not read yet. The namespaces and images are asked for with the
    registry user the files declare beside the user's own read (kept only if it names that
    user). Nothing starts for the embedded emulator (it makes
    files), with ``--parallelism 1``, or when the client cannot be made (the run meets that
    error again where it always did). A run that ends first (a configuration or state refused,
    Ctrl-C) leaves the block: the refresh stops, no thread of it is left, its errors unsaid.
    Use as a context manager around the whole run."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.refresh: Refresh | None = None
        self.client: CceClient | None = None
        self.target: Target | None = None
        self._stack = ExitStack()

    def __enter__(self) -> EarlyRefresh:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()  # the refresh stops, then the client closes

    def start(
        self, target: Target, kinds: set[str], declared: Callable[[str], list[str]] = lambda _: []
    ) -> None:
        """``declared``: the names the files declare of a kind (unchecked); the registry user
        they declare, if one, is the one the lists per user are first asked for (a guess the
        user's answer must confirm: ``RefreshContext.per_registry_user``)."""
        if target.endpoint == LOCAL or self.options.parallelism < 2 or not kinds:
            return
        try:
            client = self._stack.enter_context(open_client(RunContext(target=target), self.options))
        except ReconcilerError:
            return
        self.client, self.target = client, target
        # while the run's CPU work holds the interpreter lock, a page that has arrived waits
        # for it: hand it over sooner than every 5 ms, or each page of a chain waits longer
        interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._stack.callback(sys.setswitchinterval, interval)
        refresh = Refresh(client, self.options.parallelism, owns_client=True)
        self.refresh = self._stack.enter_context(refresh)
        users = declared(REGISTRY_USER) if REGISTRY_USER in kinds else []
        self.refresh.start(kinds, expected_user=users[0] if len(users) == 1 else None)

    def client_for(self, target: Target) -> CceClient | None:
        """The client opened for ``target``, if one was."""
        return self.client if target == self.target else None


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
    refresh: Refresh | None = None  # begun before the run started (EarlyRefresh)


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
    early: EarlyRefresh | None = None,
) -> Iterator[Run]:
    """Open the state store, take its lock (waiting up to ``wait`` seconds) or, without
    ``lock``, note who holds it, read the state (refused when it was applied to another
    target) and only then open the client: the start every planning command shares.
    ``budgets`` and ``agent``: see :func:`open_client`; ``known``: the digest of the state
    document a saved plan was made against (``StateStore.read``); ``early``: the client it
    opened for this target and the refresh it began, used instead of new ones."""
    store = open_store(context)
    secrets = SecretCache(context.secrets_base)
    with ExitStack() as stack:
        holder = None
        if lock:
            stack.enter_context(locked(store, operation, wait, say))
        else:
            holder = store.holder()
        raw = read_state(store, context.target, known)
        client = early.client_for(context.target) if early is not None else None
        if client is None:
            client = stack.enter_context(open_client(context, options, budgets, agent))
        began = early.refresh if early is not None and client is early.client else None
        yield Run(desired, context, store, client, secrets, options, holder, raw, began)


def check_target(store: StateStore, state: State, target: Target) -> None:
    """Refuse to read the cloud for ``state`` at another target than the one it was applied
    to: its objects are not there, and an answer from there would call them gone. Every
    command that reads the cloud for a state (plan, apply, destroy, import, output,
    kubeconfig, export, doctor) checks this before it opens a client (or starts an embedded
    emulator), and before anything is decided from the cloud's answers (a plan's
    :class:`EarlyRefresh` may have begun listing the configuration's target: a refused state
    ends the run, and the refresh with it)."""
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


def check_addresses(
    addresses: Sequence[Address],
    declared: Mapping[Address, object],
    managed: Mapping[Address, object],
) -> None:
    """``--target`` / ``--replace`` name addresses of the configuration or the state; an
    unknown one is an error with the closest known address."""
    unknown = [a for a in addresses if a not in declared and a not in managed]
    if not unknown:
        return
    names = sorted(map(str, {*declared, *managed}))
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
        live = refresh(run.client, raw, run.options.parallelism, kinds, desired, run.refresh)
    state, notes = recover(raw, live)
    state.target = run.context.target.url()  # checked at start: any write of this run records it
    check_addresses([*targets, *allow_replace], desired.resources, state.resources)
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
