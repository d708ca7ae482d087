"""Read the live state with list calls: each kind's ``read_all``, the first kind in registry
order alone and then all the others at once (a kind whose listing needs what an earlier kind
found, as namespaces and repositories need the registry user, waits for that kind alone:
:class:`FoundSoFar`). When the run expects a registry user (the one the configuration
declares, or the state records), the kinds listed per user start beside the user's GET with
that name, and keep what they read only when its answer names that very user
(``RefreshContext.per_registry_user``): the image pages, the longest chain, do not wait for
its round trip. Never one GET per declared
resource, so a plan over 10,000 repositories costs a handful of requests; and only the kinds a
run touches (declared, in state, or read with those) are read at all. The requests in flight
stay within ``--parallelism`` (the client's connection pool blocks beyond it) and ``--rate``.

A list is not a not-found: an object the state knows (managed, or the id of a pending intent)
that its kind's list left out is read by its id (``Kind.read_one``) before anything is planned
for it, and only a positive not-found makes it gone. Lists that lag behind creates, or answer
an empty page, cost one GET per missing object instead of a duplicate. Kinds whose ``read_one``
reads the same complete list (``Kind.listed_absence_is_final``) are not read twice.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

from reconciler.client.v1 import CceClient
from reconciler.gcpause import paused_gc
from reconciler.kinds import REGISTRY, kind_named
from reconciler.kinds.base import REGISTRY_USER, Kind, LiveObject, RefreshContext
from reconciler.model import Action, Address, DesiredState
from reconciler.plan import Change, LiveState
from reconciler.state import State


class LiveStateBuilder:
    """The live state of what the kinds found: by (kind, cloud id) and by address."""

    def __init__(self) -> None:
        self.by_id: dict[tuple[str, str], LiveObject] = {}
        self.by_name: dict[Address, tuple[LiveObject, ...]] = {}

    def add_all(self, objects: Iterable[LiveObject]) -> None:
        by_id, by_name = self.by_id, self.by_name
        for obj in objects:
            address = obj.address
            by_id[(address.kind, obj.cloud_id)] = obj
            named = by_name.get(address)
            by_name[address] = (obj,) if named is None else (*named, obj)

    def build(self, facts: dict[str, object] | None = None) -> LiveState:
        return LiveState(dict(self.by_id), dict(self.by_name), dict(facts or {}))


def kinds_to_read(touched: Iterable[str]) -> set[str]:
    """``touched`` and every kind read with them (``Kind.read_with``), transitively."""
    wanted: set[str] = set()
    stack = list(touched)
    while stack:
        name = stack.pop()
        if name not in wanted:
            wanted.add(name)
            stack.extend(kind_named(name).read_with)
    return wanted


def touched_kinds(desired: DesiredState, state: State) -> set[str]:
    """The kinds a run declares, manages or has a pending intent for."""
    return (
        {a.kind for a in desired.resources}
        | {a.kind for a in state.resources}
        | {p.address.kind for p in state.pending.values()}
    )


def missing_from(
    kind: Kind, ctx: RefreshContext, found: Iterable[LiveObject]
) -> list[tuple[Address, str]]:
    """(address, cloud id) of every object of ``kind`` the state knows that ``found`` lacks."""
    listed = {o.cloud_id for o in found}
    known = {(a, e.cloud_id) for a, e in ctx.managed(kind.name)}
    known |= {  # a pending create's id (an update's may be a workflow's, not an object's)
        (p.address, p.cloud_id)
        for p in ctx.state.pending.values()
        if p.address.kind == kind.name and p.cloud_id and p.action == "create"
    }
    return sorted((a, i) for a, i in known if i and i not in listed)


def confirm_missing(kind: Kind, ctx: RefreshContext, found: list[LiveObject]) -> list[LiveObject]:
    """The objects the state knows that the list left out, read by id (in parallel); those
    answering a positive not-found are gone and left out."""
    if kind.listed_absence_is_final:
        return []
    missing = missing_from(kind, ctx, found)
    if not missing:
        return []
    workers = max(1, min(ctx.parallelism, len(missing)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        read = pool.map(lambda m: kind.read_one(ctx.client, m[0], m[1]), missing)
        return [o for o in read if o is not None]


class KindNotRead(Exception):
    """The kind another kind's listing waited for failed; its own error is the one raised."""


class FoundSoFar(dict[str, list[LiveObject]]):
    """What each kind found, filled in as the kinds finish. Reading a kind that this refresh
    is still reading waits until it is in (``RefreshContext.found.get("user", [])`` in a
    namespace's ``read_all``); a kind it does not read answers the default at once, as
    before. Kinds are started in registry (dependency) order and only wait for earlier ones,
    so the wait always ends."""

    def __init__(self, reading: Iterable[str]) -> None:
        super().__init__()
        self._ready = {name: threading.Event() for name in reading}
        self._failed: set[str] = set()

    def put(self, name: str, found: list[LiveObject]) -> None:
        self[name] = found
        if name in self._ready:
            self._ready[name].set()

    def fail(self, name: str) -> None:
        self._failed.add(name)
        if name in self._ready:
            self._ready[name].set()

    def expect(self, names: Iterable[str]) -> None:
        """Kinds this refresh reads too, from now on (added before any of them starts)."""
        for name in names:
            self._ready.setdefault(name, threading.Event())

    def stop(self) -> None:
        """The refresh ends: a kind waiting for one not in yet stops waiting (KindNotRead)."""
        for name, ready in self._ready.items():
            if not ready.is_set():
                self.fail(name)

    def _wait(self, name: str) -> None:
        ready = self._ready.get(name)
        if ready is not None:
            ready.wait()
            if name in self._failed:
                raise KindNotRead(name)

    def get(self, name: str, default: Any = None) -> Any:
        self._wait(name)
        return super().get(name, default)

    def __getitem__(self, name: str) -> list[LiveObject]:
        self._wait(name)
        return super().__getitem__(name)


class Refresh:
    """One refresh, which may start before its run has the state and the desired state.

    :meth:`start` begins listing kinds (and what they are read with) on threads as soon as
    the run knows its target and which kinds it declares, while it goes on checking the
    configuration and reading the state; a kind that needs the state or the desired state
    (``RefreshContext.state``: a cluster's managed node lists, what the list left out) waits
    for :meth:`finish`, which gives them, reads the kinds the state adds, and returns the live
    state or the error a refresh started there would raise. :meth:`stop` ends a refresh the
    run no longer needs (a configuration error, Ctrl-C): kinds not begun are not read, those
    waiting are released, and it returns once no thread of it runs. Only list requests and
    reads by id (GETs) are sent. Use as a context manager: leaving it stops what is left.
    ``owns_client``: the run ends with this refresh when it does not finish, so stopping it
    stops the client too (``stop_sending``): a long list stops between two pages, and a request
    waiting to retry gives up at once."""

    def __init__(self, client: CceClient, parallelism: int = 10, owns_client: bool = False) -> None:
        self.client = client
        self.parallelism = parallelism
        self.owns_client = owns_client
        self._ctx: RefreshContext | None = None
        self._found = FoundSoFar(())
        self._pool: ThreadPoolExecutor | None = None
        self._early: Future[dict[str, Future[list[LiveObject]]]] | None = None
        self._started: set[str] = set()
        self._beside: dict[str, Future[list[LiveObject]]] = {}  # started beside the first
        self._finished = False
        self._gc = ExitStack()

    def __enter__(self) -> Refresh:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, kinds: Iterable[str], expected_user: str | None = None) -> None:
        """Begin reading ``kinds`` and what they are read with: the first in registry order
        alone (with ``expected_user``, the registry user the configuration declares, the
        lists per that user beside it), then the others at once (as :meth:`finish` would)."""
        reading = [k for k in REGISTRY if k.name in kinds_to_read(kinds)]
        if not reading or self._ctx is not None:
            return
        self._gc.enter_context(paused_gc())
        self._found = FoundSoFar(k.name for k in reading)
        self._ctx = RefreshContext.pending(
            self.client, self.parallelism, self._found, expected_user
        )
        self._early = self._submit_first(reading)

    def finish(
        self,
        state: State,
        kinds: Iterable[str] | None = None,
        desired: DesiredState | None = None,
    ) -> LiveState:
        """Every kind's live objects, or only those of ``kinds`` and what they are read with.
        Kinds are read concurrently; when any fails, the error of the first failing kind in
        registry order is raised (and nothing is planned from the others)."""
        wanted = kinds_to_read(kinds) if kinds is not None else {k.name for k in REGISTRY}
        reading = [k for k in REGISTRY if k.name in wanted]
        try:
            with paused_gc():
                results = self._results(state, desired, reading)
                live = LiveStateBuilder()
                for kind in reading:
                    live.add_all(results[kind.name])
                assert self._ctx is not None
                built = live.build(self._ctx.facts)
        except BaseException:  # a kind failed, or Ctrl-C: the kinds still reading stop
            self.stop()
            raise
        self._finished = True
        self._close()
        return built

    def stop(self) -> None:
        """End a refresh that did not finish: kinds waiting for the state or another kind
        released, kinds not begun dropped, and with ``owns_client`` no more requests sent;
        returns when its threads have."""
        if not self._finished and self._ctx is not None:
            if self.owns_client:
                self.client.stop_sending()
            self._ctx.stop()  # kinds waiting for the state stop; what the others read is dropped
            self._found.stop()
        self._close()

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._gc.close()

    def _results(
        self, state: State, desired: DesiredState | None, reading: list[Kind]
    ) -> dict[str, list[LiveObject]]:
        if self._ctx is None:  # nothing started early: read them all now
            if len(reading) < 2 or self.parallelism < 2:
                self._ctx = RefreshContext(
                    self.client, state, self.parallelism, found=self._found, desired=desired
                )
                return {kind.name: self._read(kind) for kind in reading}
            self._found = FoundSoFar(k.name for k in reading)
            self._ctx = RefreshContext(
                self.client, state, self.parallelism, found=self._found, desired=desired
            )
            self._ctx.expected_user = expected_registry_user(self._ctx, desired)
            self._early = self._submit_first(reading)
        else:
            self._ctx.give(state, desired)
        assert self._early is not None and self._pool is not None
        futures = self._early.result()  # the first kind's error, if it failed
        futures.update(self._beside)
        later = [k for k in reading if k.name not in self._started]
        self._found.expect(k.name for k in later)
        futures.update((k.name, self._pool.submit(self._read, k)) for k in later)
        return {k.name: futures[k.name].result() for k in reading}

    def _submit_first(self, reading: list[Kind]) -> Future[dict[str, Future[list[LiveObject]]]]:
        """Read ``reading``'s first kind alone, then submit the others: an endpoint that is
        down or refuses the credentials stops the run after one request's attempts, not after
        every kind's. When the first is the registry user and the context expects one, the
        kinds listed per user start beside it with that name (a guess their ``read_all``
        keeps only when the user's answer confirms it: ``RefreshContext.per_registry_user``),
        so their lists, the longest chains of pages, do not wait for its round trip. The
        task's result: each kind's future."""
        assert self._ctx is not None
        self._pool = ThreadPoolExecutor(self.parallelism, thread_name_prefix="refresh")
        self._started = {k.name for k in reading}
        pool = self._pool
        first, rest = reading[0], reading[1:]
        guessing = first.name == REGISTRY_USER and bool(self._ctx.expected_user)
        beside = [k for k in rest if guessing and k.listed_per_registry_user]
        after = [k for k in rest if k not in beside]

        def read_first() -> dict[str, Future[list[LiveObject]]]:
            done: Future[list[LiveObject]] = Future()
            done.set_result(self._read(first))
            return {first.name: done, **{k.name: pool.submit(self._read, k) for k in after}}

        task = pool.submit(read_first)  # queued first: it has a thread before those beside it
        self._beside = {k.name: pool.submit(self._read, k) for k in beside}
        return task

    def _read(self, kind: Kind) -> list[LiveObject]:
        ctx, found = self._ctx, self._found
        assert ctx is not None
        try:
            objects = kind.read_all(ctx)
            objects += confirm_missing(kind, ctx, objects)
        except BaseException:
            found.fail(kind.name)
            raise
        found.put(kind.name, objects)
        return objects


def expected_registry_user(ctx: RefreshContext, desired: DesiredState | None) -> str | None:
    """The registry user a refresh begun with the state expects: the one the state records,
    else the one ``desired`` declares (None: none, or more than one). Both are grouped by
    kind once (``RefreshContext.managed``, ``DesiredState.of_kind``): no walk of every entry."""
    recorded = [address.name for address, _ in ctx.managed(REGISTRY_USER)]
    if not recorded and desired is not None:
        recorded = [spec.address.name for spec in desired.of_kind(REGISTRY_USER)]
    return recorded[0] if len(recorded) == 1 else None


def refresh(
    client: CceClient,
    state: State,
    parallelism: int = 10,
    kinds: Iterable[str] | None = None,
    desired: DesiredState | None = None,
    started: Refresh | None = None,
) -> LiveState:
    """Every kind's live objects, or only those of ``kinds`` and what they are read with:
    :meth:`Refresh.finish` of ``started`` (begun earlier with the same client), or of a
    refresh started now."""
    return (started or Refresh(client, parallelism)).finish(state, kinds, desired)


BY_ID_PAGE = 1000  # objects per list page, to compare a list's requests with reads by id


def refresh_changed(
    client: CceClient,
    state: State,
    changes: Sequence[Change],
    parallelism: int = 10,
    desired: DesiredState | None = None,
) -> LiveState:
    """For a saved plan: what its ``changes`` need from the cloud, in fewer requests. A kind
    whose changes are all updates of objects by id (``Kind.read_one``), fewer than its list
    would take pages (by the objects of it the state manages), and which no listed kind reads
    along (``read_with``), has just those objects read; every other kind the changes touch is
    listed as :func:`refresh` lists it (creates and deletes need the lists: who else holds
    the name, what a container takes with it)."""
    managed = Counter(address.kind for address in state.resources)
    updates: dict[str, list[Change]] = {}
    listed: set[str] = set()
    for change in changes:
        if change.action is Action.UPDATE and change.cloud_id:
            updates.setdefault(change.address.kind, []).append(change)
        else:
            listed.add(change.address.kind)
    listed |= {n for n, c in updates.items() if len(c) >= math.ceil(managed[n] / BY_ID_PAGE)}
    listed = kinds_to_read(listed) if listed else set()
    one_by_one = [c for n, cs in updates.items() if n not in listed for c in cs]
    live = refresh(client, state, parallelism, listed, desired) if listed else LiveState()
    if not one_by_one:
        return live

    def read(change: Change) -> LiveObject | None:
        kind = kind_named(change.address.kind)
        return kind.read_one(client, change.address, change.cloud_id or "")

    with ThreadPoolExecutor(min(parallelism, len(one_by_one)), "read-one") as pool:
        read_now = list(pool.map(read, one_by_one))
    builder = LiveStateBuilder()
    builder.add_all(live.by_id.values())
    builder.add_all(o for o in read_now if o is not None)
    return builder.build(dict(live.facts))
