"""Read the live state with list calls: each kind's ``read_all``, in registry order (the
registry user first: namespaces and repositories are listed per user). Never one GET per
declared resource, so a plan over 10,000 repositories costs a handful of requests.
"""

from __future__ import annotations

from collections import defaultdict

from reconciler.client.api import CceClient
from reconciler.gcpause import paused_gc
from reconciler.kinds import REGISTRY, kind_named
from reconciler.kinds.base import LiveObject, RefreshContext
from reconciler.model import Address
from reconciler.plan import LiveState
from reconciler.state import State


class LiveStateBuilder:
    def __init__(self) -> None:
        self.by_id: dict[tuple[str, str], LiveObject] = {}
        self.by_name: dict[Address, list[LiveObject]] = defaultdict(list)

    def add(self, obj: LiveObject) -> None:
        self.by_id[(obj.address.kind, obj.cloud_id)] = obj
        self.by_name[obj.address].append(obj)

    def build(self) -> LiveState:
        return LiveState(dict(self.by_id), {a: tuple(v) for a, v in self.by_name.items()})


@paused_gc()
def refresh(client: CceClient, state: State, parallelism: int = 10) -> LiveState:
    ctx = RefreshContext(client, state, parallelism)
    live = LiveStateBuilder()
    for kind in REGISTRY:
        found = kind.read_all(ctx)
        ctx.found[kind.name] = found
        for obj in found:
            live.add(obj)
    return live.build()


def read_one(client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
    """One object by id, for `import` and for reads after an unknown outcome."""
    return kind_named(address.kind).read_one(client, address, cloud_id)
