"""Recovery of an interrupted update that started a long operation (a node-upgrade workflow):
the operation's id stays on the entry, in state, so that the next update resumes it."""

from __future__ import annotations

from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.plan import LiveState
from reconciler.recovery import recover
from reconciler.state import PendingIntent, ResourceState, State

POOL = Address("instance_group", "prod/pool-a")
GROUP_ID = "cce-abc/cce-ig-1"


def state_with(intent: PendingIntent) -> State:
    entry = ResourceState("instance_group", GROUP_ID)
    return State(resources={POOL: entry}, pending={intent.id: intent})


def test_an_update_that_journaled_an_operation_leaves_it_on_the_entry() -> None:
    state = state_with(PendingIntent("i-1", POOL, "update", "wf-1"))
    recovered, notes = recover(state, LiveState())
    assert recovered.pending == {}
    assert recovered.resources[POOL].operation == "wf-1"
    assert [str(n) for n in notes] == [
        f"{POOL}: wf-1 was started by an interrupted run; the next apply resumes it"
    ]


def test_an_update_that_started_nothing_changes_nothing() -> None:
    state = state_with(PendingIntent("i-1", POOL, "update", GROUP_ID))
    recovered, notes = recover(state, LiveState())
    assert (recovered.resources[POOL].operation, notes) == ("", [])


def test_the_operation_round_trips_and_is_left_out_when_there_is_none() -> None:
    entry = ResourceState("instance_group", GROUP_ID)
    assert "operation" not in entry.to_json()
    started = entry.evolve(operation="wf-1")
    assert ResourceState.from_json(started.to_json(), kind_names()) == started
    assert ResourceState.from_json(entry.to_json(), kind_names()) == entry
