"""Read the live state with list calls: each kind's ``read_all``, in registry order (the
registry user first: namespaces and repositories are listed per user). Never one GET per
declared resource, so a plan over 10,000 repositories costs a handful of requests; and only
the kinds a run touches (declared, in state, or read with those) are read at all.

A list is not a not-found: an object the state knows (managed, or the id of a pending intent)
that its kind's list left out is read by its id (``Kind.read_one``) before anything is planned
for it, and only a positive not-found makes it gone. Lists that lag behind creates, or answer
an empty page, cost one GET per missing object instead of a duplicate. Kinds whose ``read_one``
reads the same complete list (``Kind.listed_absence_is_final``) are not read twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from reconciler.client.v1 import CceClient
from reconciler.gcpause import paused_gc
from reconciler.kinds import REGISTRY, kind_named
from reconciler.kinds.base import Kind, LiveObject, RefreshContext
from reconciler.model import Address, DesiredState
from reconciler.plan import LiveState
from reconciler.state import State


class LiveStateBuilder:
    def __init__(self) -> None:
        self.by_id: dict[tuple[str, str], LiveObject] = {}
        self.by_name: dict[Address, list[LiveObject]] = defaultdict(list)

    def add(self, obj: LiveObject) -> None:
        self.by_id[(obj.address.kind, obj.cloud_id)] = obj
        self.by_name[obj.address].append(obj)

    def build(self, facts: dict[str, object] | None = None) -> LiveState:
        by_name = {a: tuple(v) for a, v in self.by_name.items()}
        return LiveState(dict(self.by_id), by_name, dict(facts or {}))


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
    kind: Kind, state: State, found: Iterable[LiveObject]
) -> list[tuple[Address, str]]:
    """(address, cloud id) of every object of ``kind`` the state knows that ``found`` lacks."""
    listed = {o.cloud_id for o in found}
    known = {(a, e.cloud_id) for a, e in state.resources.items() if a.kind == kind.name}
    known |= {  # a pending create's id (an update's may be a workflow's, not an object's)
        (p.address, p.cloud_id)
        for p in state.pending.values()
        if p.address.kind == kind.name and p.cloud_id and p.action == "create"
    }
    return sorted((a, i) for a, i in known if i and i not in listed)


def confirm_missing(kind: Kind, ctx: RefreshContext, found: list[LiveObject]) -> list[LiveObject]:
    """The objects the state knows that the list left out, read by id (in parallel); those
    answering a positive not-found are gone and left out."""
    if kind.listed_absence_is_final:
        return []
    missing = missing_from(kind, ctx.state, found)
    if not missing:
        return []
    workers = max(1, min(ctx.parallelism, len(missing)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        read = pool.map(lambda m: kind.read_one(ctx.client, m[0], m[1]), missing)
        return [o for o in read if o is not None]


@paused_gc()
def refresh(
    client: CceClient,
    state: State,
    parallelism: int = 10,
    kinds: Iterable[str] | None = None,
    desired: DesiredState | None = None,
) -> LiveState:
    """Every kind's live objects, or only those of ``kinds`` and what they are read with."""
    wanted = kinds_to_read(kinds) if kinds is not None else {k.name for k in REGISTRY}
    ctx = RefreshContext(client, state, parallelism, desired=desired)
    live = LiveStateBuilder()
    for kind in (k for k in REGISTRY if k.name in wanted):
        found = kind.read_all(ctx)
        found += confirm_missing(kind, ctx, found)
        ctx.found[kind.name] = found
        for obj in found:
            live.add(obj)
    return live.build(ctx.facts)
