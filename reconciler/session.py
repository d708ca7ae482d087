"""Assemble one run: the config, the state store, the client (or the embedded emulator), the
refresh and the plan. The commands (plan, apply, destroy, import) share this; it holds no
policy of its own.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from reconciler.client.api import CceClient
from reconciler.client.credentials import Credentials
from reconciler.client.transport import TransportConfig
from reconciler.config import load_config
from reconciler.errors import SecretError, StateLockedError, UsageError
from reconciler.kinds import secret_refs
from reconciler.model import NO_CHOICE, Address, ConfigChoice, DesiredState, SecretRef, Target
from reconciler.plan import Change, LiveState, Plan, PlanContext
from reconciler.planner import make_plan
from reconciler.recovery import RecoveryNote, recover
from reconciler.refresh import refresh, touched_kinds
from reconciler.secrets import resolve_secret
from reconciler.state import LockInfo, State, StateStore
from reconciler.state.local import STATE_DIR, LocalStateStore, default_path

LOCAL = "local"


@dataclass(frozen=True)
class RunOptions:
    state: str | None = None  # a path, or a postgresql:// URL
    workspace: str = "default"
    parallelism: int = 10
    rate: float | None = None
    retry_budget: int = 50


def is_postgres(spec: str | None) -> bool:
    return bool(spec and spec.startswith(("postgresql://", "postgres://")))


def open_store(
    spec: str | None, where: DesiredState | str, workspace: str = "default"
) -> StateStore:
    """The state a run uses: ``--state`` (or ``RECONCILER_STATE``), else the environment
    file's ``state``, else a file under the configuration root: ``.reconciler/state.json``,
    ``.reconciler/envs/ENV/state.json`` with ``--env``, ``.reconciler/workspaces/WS/state.json``
    with ``--workspace``. On PostgreSQL the workspace is ``--workspace``, else the environment.
    ``where`` is the loaded configuration, or only a folder when there is none."""
    desired = where if isinstance(where, DesiredState) else None
    root = desired.config_root if desired else str(where)
    env = desired.environment if desired else None
    spec = spec or os.environ.get("RECONCILER_STATE") or _environment_state(desired)
    if is_postgres(spec):
        from reconciler.state.postgres import PostgresStateStore

        assert spec is not None
        return PostgresStateStore(spec, workspace if workspace != "default" else env or workspace)
    if spec:
        return LocalStateStore(spec)
    if env and workspace != "default":
        raise UsageError(
            f"--workspace {workspace} with --env {env}: on a file state the environment already "
            "chooses the state file; give one of them (or --state)"
        )
    folder = Path(root) / STATE_DIR
    if env:
        return LocalStateStore(folder / "envs" / env / "state.json")
    if workspace != "default":
        return LocalStateStore(folder / "workspaces" / workspace / "state.json")
    return LocalStateStore(default_path(root))


def _environment_state(desired: DesiredState | None) -> str | None:
    if desired is None or not desired.environment_state:
        return None
    if is_postgres(desired.environment_state):
        return desired.environment_state
    return str(Path(desired.config_root) / desired.environment_state)


@contextmanager
def open_client(target: Target, base_dir: str, options: RunOptions) -> Iterator[CceClient]:
    config = TransportConfig(
        rate=options.rate, pool_size=max(10, options.parallelism), retry_budget=options.retry_budget
    )
    if target.endpoint == LOCAL:
        from reconciler.emulator.options import (
            DEFAULT_ACCESS_KEY_ID,
            DEFAULT_SECRET_ACCESS_KEY,
            EmulatorOptions,
        )
        from reconciler.emulator.server import start_emulator

        db = Path(base_dir) / STATE_DIR / "emulator.db"  # base_dir: the configuration root
        db.parent.mkdir(parents=True, exist_ok=True)
        with start_emulator(EmulatorOptions(port=0, db_path=str(db))) as emulator:
            creds = Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY)
            with CceClient.connect(emulator.url, creds, config) as client:
                yield client
        return
    with CceClient.from_environment(
        target.endpoint, region=target.region, config=config, ccr_endpoint=target.ccr_endpoint
    ) as client:
        yield client


class SecretCache:
    """Resolves secret references once per run; values stay in memory only."""

    def __init__(self, base_dir: str) -> None:
        self.base_dir = base_dir
        self._values: dict[tuple[str | None, str | None], str] = {}

    def resolve(self, ref: SecretRef, where: str) -> str:
        key = (ref.env, ref.file)
        if key not in self._values:
            try:
                self._values[key] = resolve_secret(ref, self.base_dir)
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


def resolve_for_plan(
    desired: DesiredState, state: State, cache: SecretCache
) -> dict[tuple[Address, str], str]:
    """Every declared secret: compared with state's hashes, and checked against the API's
    rules, at plan time. All unreadable ones are reported at once, each at its declaration."""
    values: dict[tuple[Address, str], str] = {}
    problems: list[str] = []
    for address, spec in desired.resources.items():
        for name, ref in secret_refs(spec).items():
            try:
                values[(address, name)] = cache.resolve(ref, f"{spec.location}: {address}: {name}")
            except SecretError as exc:
                problems.append(str(exc))
    if problems:
        raise SecretError(
            "cannot read the secrets this run needs; nothing was changed:\n  "
            + "\n  ".join(problems)
        )
    return values


@dataclass
class Prepared:
    desired: DesiredState
    state: State
    live: LiveState
    plan: Plan
    notes: list[RecoveryNote] = field(default_factory=list)
    holder: LockInfo | None = None  # another run's lock, seen by a plan that takes none
    recovered: bool = False


def parse_addresses(values: Sequence[str], flag: str) -> list[Address]:
    out = []
    for value in values:
        try:
            out.append(Address.parse(value))
        except ValueError as exc:
            raise UsageError(f"{flag} {value}: {exc}") from None
    return out


def load(paths: Sequence[str], choice: ConfigChoice = NO_CHOICE) -> DesiredState:
    """Load the configuration; its warnings (``PATH:LINE:COL: warning: ...``) go to stderr."""
    result = load_config(
        list(paths) or ["."],
        env=choice.env,
        var_files=choice.var_files,
        var_args=choice.var_args,
    )
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    return result.desired


def locate(
    config: Sequence[str], choice: ConfigChoice, state_spec: str | None, workspace: str
) -> tuple[DesiredState | None, StateStore]:
    """For commands that read a state without planning: the configuration at ``config`` (or
    none without -c and --env) and the state it leads to (else the current folder's)."""
    desired = load(config, choice) if config or choice.env else None
    return desired, open_store(state_spec, desired or ".", workspace)


def load_target(paths: Sequence[str], choice: ConfigChoice = NO_CHOICE) -> tuple[Target, str]:
    """The target of the configuration at ``paths`` and the folder relative paths start from."""
    desired = load(paths, choice)
    return desired.target, desired.base_dir


def prepare(
    desired: DesiredState,
    store: StateStore,
    client: CceClient,
    options: RunOptions,
    cache: SecretCache,
    target_args: Sequence[str] = (),
    replace_args: Sequence[str] = (),
    destroying: bool = False,
    adopt: bool = False,
) -> Prepared:
    """Read state, refresh, recover and plan; ``*_args`` are --target / --replace as typed."""
    targets = parse_addresses(target_args, "--target")
    allow_replace = parse_addresses(replace_args, "--replace")
    raw = store.read()
    if raw.target is not None and raw.target != desired.target.url():
        raise UsageError(
            f"state {store.describe()} was applied to {raw.target}, but this run targets "
            f"{desired.target.url()}; use that target's state (--env, --state) or a new one"
        )
    live = refresh(client, raw, options.parallelism, touched_kinds(desired, raw), desired)
    state, notes = recover(raw, live)
    secrets = resolve_for_plan(desired, state, cache)
    known = set(desired.resources) | set(state.resources)
    unknown = [str(a) for a in (*targets, *allow_replace) if a not in known]
    if unknown:
        raise UsageError(f"no such address in the configuration or the state: {', '.join(unknown)}")
    plan = make_plan(desired, state, live, secrets, targets, allow_replace, destroying, adopt)
    plan = replace(
        plan, context=PlanContext(desired.environment, desired.target.url(), store.describe())
    )
    return Prepared(
        desired, state, live, plan, notes, recovered=bool(raw.pending) or raw.folded_journal
    )


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
