"""Taking an existing cloud object under management (``reconciler import ADDR ID``).

Reads the object by id through its kind, checks it is the object the address names, and
builds its state entry: ownership ``adopted``, the declared spec's fingerprint, and the live
attributes as what it had when adopted. Not for: writing state (the caller holds the lock).
"""

from __future__ import annotations

from reconciler.client.v1 import CceClient
from reconciler.errors import ReconcilerError, StateError, UsageError
from reconciler.kinds import kind_named
from reconciler.model import Address, DesiredState
from reconciler.plan import fingerprint
from reconciler.state import ADOPTED, ResourceState, State


def adopted_entry(
    desired: DesiredState, state: State, client: CceClient, address: Address, cloud_id: str
) -> ResourceState:
    if address in state.resources:
        raise StateError(
            f"{address} is already in state (id {state.resources[address].cloud_id}); "
            f"`reconciler state rm {address}` first"
        )
    spec = desired.resources.get(address)
    if spec is None:
        raise UsageError(
            f"{address} is not declared in the configuration, so the next plan would delete it; "
            f"declare it first (`reconciler export --kind {address.kind}` writes YAML for what "
            "exists), or adopt everything declared at once with `reconciler apply --adopt`"
        )
    kind = kind_named(address.kind)
    live = kind.read_one(client, address, cloud_id)
    if live is None:
        raise ReconcilerError(
            f"cannot import {address}: no {address.kind} with id {cloud_id} exists"
        )
    if kind.natural_id(live.attrs) and live.address != address:
        raise ReconcilerError(f"cannot import {address}: id {cloud_id} is {live.address}")
    return ResourceState(
        kind=address.kind,
        cloud_id=cloud_id,
        ownership=ADOPTED,
        protect=bool(spec.lifecycle.protect),
        fingerprint=fingerprint(kind.desired_attrs(spec)),
        applied=dict(live.attrs),
    )
