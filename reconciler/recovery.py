"""Finish what an interrupted run left in the journal. Pure: (state, live) -> (state, notes).

A pending intent is a mutation whose outcome was never recorded (the run was killed, or the
answer was lost). The live state decides what happened: a create whose object now exists (by
its cloud id if the journal got that far, else by name, if exactly one unowned candidate) is
taken into state as created, so it is neither duplicated nor orphaned; a create that never
landed is dropped (the plan will create it); a delete whose object is gone leaves state. An
update that journaled the id of a long operation it started (a node-upgrade workflow) leaves
that id on the entry (``operation``), so that the next update resumes it, never starts another.
"""

from __future__ import annotations

from reconciler.kinds import is_gone
from reconciler.kinds.base import LiveObject
from reconciler.plan import LiveState
from reconciler.records import frozen_record
from reconciler.state import PendingIntent, State


def _landed(intent: PendingIntent, state: State, live: LiveState) -> LiveObject | None:
    kind = intent.address.kind
    if intent.cloud_id:
        found = live.lookup(kind, intent.cloud_id)
        # the journal knows the id: never fall back to a name, which another object may share
        return None if is_gone(found) else found
    owned = {
        r.cloud_id for a, r in state.resources.items() if a.kind == kind and a != intent.address
    }
    candidates = [
        o
        for o in live.by_name.get(intent.address, ())
        if not is_gone(o) and o.cloud_id not in owned
    ]
    return candidates[0] if len(candidates) == 1 else None


@frozen_record
class RecoveryNote:
    """What a pending intent turned out to be: ``happened`` (e.g. "c-123 was created") and
    what that does to state (``recorded``: "now in state")."""

    address: str
    happened: str
    recorded: str

    def __str__(self) -> str:
        return f"{self.address}: {self.happened} by an interrupted run; {self.recorded}"

    def in_flight(self) -> str:
        """Said by a plan while the run that made the change still holds the lock."""
        return f"{self.address}: {self.happened} by the run in flight"

    def interrupted(self) -> str:
        """Said by a plan (which writes nothing) of a run that is gone."""
        return f"{self.address}: {self.happened} by an interrupted run (the next apply records it)"


def recover(state: State, live: LiveState) -> tuple[State, list[RecoveryNote]]:
    new = state.copy()
    notes: list[RecoveryNote] = []
    for intent in list(new.pending.values()):
        address = intent.address
        if intent.action == "create" and intent.entry is not None:
            found = _landed(intent, new, live)
            if found is not None:
                new.resources[address] = intent.entry.evolve(cloud_id=found.cloud_id)
                notes.append(
                    RecoveryNote(
                        str(address),
                        f"{found.cloud_id} was created",
                        "now in state",
                    )
                )
        elif intent.action == "update":
            entry = new.resources.get(address)
            started = intent.cloud_id
            if entry is not None and started and started != entry.cloud_id:
                new.resources[address] = entry.evolve(operation=started)
                notes.append(
                    RecoveryNote(
                        str(address),
                        f"{started} was started",
                        "the next apply resumes it",
                    )
                )
        elif intent.action == "delete":
            entry = new.resources.get(address)
            found = live.lookup(address.kind, entry.cloud_id) if entry is not None else None
            if entry is not None and is_gone(found):
                del new.resources[address]
                notes.append(RecoveryNote(str(address), "was deleted", "removed from state"))
        del new.pending[intent.id]
    return new, notes
