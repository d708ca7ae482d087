"""Dependency order of a plan's changes, and a walker that runs them on a bounded pool. Pure
scheduling: what a node does is the caller's function.

Edges: a create / update / replace waits for the changes of what it depends on (user ->
namespaces -> repositories; clusters stand alone); a delete of a container waits for the
deletes of its contents (repositories before their namespace), as each kind's
``container_of`` says. When a node fails, everything that
depends on it, directly or not, is skipped; independent nodes go on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from reconciler.kinds import kind_named
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
    leaving_contents: dict[Address, list[Address]] = {}
    for address, change in nodes.items():
        container = kind_named(address.kind).container_of(address)
        if container is not None and change.action in (Action.DELETE, Action.REPLACE):
            leaving_contents.setdefault(container, []).append(address)
    for address, change in nodes.items():
        if change.action is Action.DELETE:
            after[address].update(leaving_contents.get(address, ()))
        else:
            after[address].update(d for d in change.depends_on if d in nodes)
    return after


@dataclass
class Walker:
    changes: list[Change]
    run_node: Callable[[Change], None]
    parallelism: int = 10
    on_interrupt: Callable[[], None] = lambda: None
    results: dict[Address, NodeResult] = field(default_factory=dict)

    def walk(self) -> dict[Address, NodeResult]:
        """Run every change once its prerequisites are done; O(changes + edges) bookkeeping."""
        waits = edges(self.changes)
        by_address = {c.address: c for c in self.changes}
        dependents: dict[Address, list[Address]] = {a: [] for a in by_address}
        for address, needs in waits.items():
            for need in needs:
                dependents[need].append(address)
        remaining = {a: len(needs) for a, needs in waits.items()}
        queue = deque(sorted(a for a, n in remaining.items() if n == 0))
        running: dict[Future[None], Address] = {}
        limit = max(1, self.parallelism)
        pool = ThreadPoolExecutor(max_workers=limit)
        try:
            self._loop(pool, queue, running, remaining, dependents, by_address, limit)
        except KeyboardInterrupt:
            self.on_interrupt()  # running nodes stop waiting; queued ones never start
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return self.results

    def _loop(
        self,
        pool: ThreadPoolExecutor,
        queue: deque[Address],
        running: dict[Future[None], Address],
        remaining: dict[Address, int],
        dependents: dict[Address, list[Address]],
        by_address: dict[Address, Change],
        limit: int,
    ) -> None:
        while queue or running:
            # only as many futures as workers, so each wait stays O(parallelism)
            while queue and len(running) < limit:
                address = queue.popleft()
                running[pool.submit(self.run_node, by_address[address])] = address
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: running[f]):
                address = running.pop(future)
                error = future.exception()
                self.results[address] = NodeResult(
                    by_address[address], FAILED if error else DONE, error
                )
                if error:
                    self._skip_dependents(address, dependents, by_address)
                    continue
                for child in dependents[address]:
                    remaining[child] -= 1
                    if remaining[child] == 0 and child not in self.results:
                        queue.append(child)

    def _skip_dependents(
        self,
        failed: Address,
        dependents: dict[Address, list[Address]],
        by_address: dict[Address, Change],
    ) -> None:
        stack = [(child, failed) for child in dependents[failed]]
        while stack:
            address, blocker = stack.pop()
            if address in self.results:
                continue
            self.results[address] = NodeResult(by_address[address], SKIPPED, blocked_by=blocker)
            stack.extend((child, blocker) for child in dependents[address])
