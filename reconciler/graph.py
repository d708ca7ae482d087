"""Dependency order of a plan's changes, and a walker that runs them on a bounded pool. Pure
scheduling: what a node does is the caller's function.

Edges: a create / update / replace waits for the changes of what it depends on (user ->
namespaces -> repositories; clusters stand alone); a delete waits for the deletes of what
depends on it (repositories before their namespace). When a node fails, everything that
depends on it, directly or not, is skipped; independent nodes go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from reconciler.kinds.repository import namespace_of
from reconciler.model import Action, Address
from reconciler.plan import Change

DONE, FAILED, SKIPPED = "done", "failed", "skipped"


@dataclass
class NodeResult:
    change: Change
    status: str
    error: BaseException | None = None
    blocked_by: Address | None = None
    seconds: float = 0.0


def edges(changes: Iterable[Change]) -> dict[Address, set[Address]]:
    """address -> the addresses it must wait for."""
    nodes = {c.address: c for c in changes}
    after: dict[Address, set[Address]] = {a: set() for a in nodes}
    for address, change in nodes.items():
        if change.action is Action.DELETE:
            for other, oc in nodes.items():
                if oc.action in (Action.DELETE, Action.REPLACE) and _child_of(other, address):
                    after[address].add(other)
        else:
            after[address].update(d for d in change.depends_on if d in nodes)
    return after


def _child_of(child: Address, parent: Address) -> bool:
    return (
        parent.kind == "namespace"
        and child.kind == "repository"
        and namespace_of(child) == parent.name
    )


@dataclass
class Walker:
    changes: list[Change]
    run_node: Callable[[Change], None]
    parallelism: int = 10
    results: dict[Address, NodeResult] = field(default_factory=dict)

    def walk(self) -> dict[Address, NodeResult]:
        waits = edges(self.changes)
        by_address = {c.address: c for c in self.changes}
        pending = set(by_address)
        running: dict[Future[None], Address] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.parallelism)) as pool:
            while pending or running:
                for address in sorted(self._ready(pending, waits)):
                    pending.discard(address)
                    running[pool.submit(self.run_node, by_address[address])] = address
                self._skip_blocked(pending, waits, by_address)
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    address = running.pop(future)
                    error = future.exception()
                    status = FAILED if error else DONE
                    self.results[address] = NodeResult(by_address[address], status, error)
        return self.results

    def _ready(self, pending: set[Address], waits: dict[Address, set[Address]]) -> list[Address]:
        return [
            a
            for a in pending
            if all(self.results.get(d) and self.results[d].status == DONE for d in waits[a])
        ]

    def _skip_blocked(
        self,
        pending: set[Address],
        waits: dict[Address, set[Address]],
        by_address: dict[Address, Change],
    ) -> None:
        changed = True
        while changed:
            changed = False
            for address in sorted(pending):
                blocker = next(
                    (
                        d
                        for d in waits[address]
                        if d in self.results and self.results[d].status != DONE
                    ),
                    None,
                )
                if blocker is not None:
                    pending.discard(address)
                    self.results[address] = NodeResult(
                        by_address[address], SKIPPED, blocked_by=blocker
                    )
                    changed = True
