"""The walker's order and failure propagation, and the apply guards. Pure, no network."""

from __future__ import annotations

import threading

import pytest

from reconciler.errors import RefusedError
from reconciler.graph import DONE, FAILED, SKIPPED, Walker
from reconciler.guards import check_guards
from reconciler.model import Action, Address, PlanMode
from reconciler.plan import Change, Plan
from reconciler.state import ResourceState, State

U, NA, NB = Address("user", "u1"), Address("namespace", "a"), Address("namespace", "b")
RA, RB = Address("repository", "a/r"), Address("repository", "b/r")


def change(
    address: Address, action: Action = Action.CREATE, deps: tuple[Address, ...] = ()
) -> Change:
    return Change(address, action, "", None, {}, depends_on=deps)


def test_creates_follow_dependencies_and_failures_skip_dependents() -> None:
    order: list[Address] = []
    lock = threading.Lock()

    def run(c: Change) -> None:
        with lock:
            order.append(c.address)
        if c.address == NA:
            raise RuntimeError("boom")

    changes = [
        change(RA, deps=(NA,)),
        change(RB, deps=(NB,)),
        change(NA, deps=(U,)),
        change(NB, deps=(U,)),
        change(U),
    ]
    results = Walker(changes, run, parallelism=4).walk()
    assert order[0] == U
    assert order.index(NB) < order.index(RB)
    assert results[NA].status == FAILED
    assert results[RA].status == SKIPPED and results[RA].blocked_by == NA
    assert results[RB].status == DONE, "an independent branch goes on"


def test_deletes_run_children_first() -> None:
    order: list[Address] = []
    changes = [change(NA, Action.DELETE), change(RA, Action.DELETE)]
    Walker(changes, lambda c: order.append(c.address), parallelism=2).walk()
    assert order == [RA, NA]


def managed(n: int) -> State:
    state = State(lineage="t")
    for i in range(n):
        state.resources[Address("namespace", f"n{i}")] = ResourceState("namespace", f"n{i}")
    return state


def deletes(n: int) -> Plan:
    return Plan(tuple(change(Address("namespace", f"n{i}"), Action.DELETE) for i in range(n)))


def test_guard_allows_small_deletes_and_refuses_many() -> None:
    check_guards(deletes(3), managed(40), None)
    with pytest.raises(RefusedError, match="--allow-deletes 5"):
        check_guards(deletes(5), managed(40), None)
    check_guards(deletes(5), managed(40), 5)


def test_guard_refuses_emptying_the_state() -> None:
    with pytest.raises(RefusedError, match="every managed resource"):
        check_guards(deletes(2), managed(2), None)
    check_guards(deletes(2), managed(2), None, PlanMode.DESTROY)


def test_refused_changes_and_conflicts_stop_apply() -> None:
    refused = Plan((Change(NA, Action.DELETE, "", {}, None, refused="protected"),))
    with pytest.raises(RefusedError, match="namespace.a: protected"):
        check_guards(refused, managed(1), 10)


def test_an_object_refused_with_its_container_has_the_containers_reason_and_flag() -> None:
    from reconciler.guards import refusals

    namespace, repository = Address("namespace", "a"), Address("repository", "a/api")
    why = f"replacement must be allowed with --replace {namespace}"
    plan = Plan(
        (
            Change(namespace, Action.REPLACE, "", {}, {}, refused=why),
            Change(repository, Action.REPLACE, "", {}, {}, refused=f"{namespace}: {why}"),
        )
    )
    found = {r.address: (r.reason, r.needs) for r in refusals(plan, managed(2), None)}
    assert found == {
        namespace: ("replace-not-allowed", f"--replace {namespace}"),
        repository: ("replace-not-allowed", f"--replace {namespace}"),  # not "invalid"
    }


def test_secret_hashes_from_a_damaged_state_never_match_and_never_crash() -> None:
    from reconciler.state import hash_secret, secret_matches

    good = hash_secret("s3cret")
    assert secret_matches("s3cret", good) and not secret_matches("other", good)
    for damaged in (
        "pbkdf2_sha256$0$aa$bb",
        "pbkdf2_sha256$²$aa$bb",
        "pbkdf2_sha256$99999999999$aa$bb",
        "garbage",
        "",
    ):
        assert secret_matches("s3cret", damaged) is False
