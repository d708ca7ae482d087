"""An object in sync is planned as a no-op that is the same value a ``Change`` built field by
field would be: ``plan.up_to_date`` (made without the dataclass's ``__init__``) and a live
fingerprint worked out when first read (``LiveFingerprintLater``) change nothing a reader of
the plan can see: fields, equality, ``repr``, ``dataclasses.replace``, pickling."""

from __future__ import annotations

import pickle
from dataclasses import fields, replace

from reconciler.kinds import build_spec, desired_attrs
from reconciler.kinds.base import LiveObject
from reconciler.model import Action, Address, DesiredState, SecretRef
from reconciler.plan import (
    Change,
    LiveFingerprintLater,
    LiveState,
    fingerprint,
    live_fingerprint,
    up_to_date,
)
from reconciler.planner import make_plan
from reconciler.state import ResourceState, State

LIVE = LiveObject(
    Address("repository", "team/api"),
    "team/api",
    {"namespace": "team", "name": "api", "tags": ["v1"], "description": ""},
    status="",
    details={"seen": [1, 2]},
)


def by_init(**values: object) -> Change:
    return Change(
        LIVE.address,
        Action.NOOP,
        "up to date",
        before=dict(LIVE.attrs),
        after=dict(LIVE.attrs),
        cloud_id="team/api",
        protected=True,
        depends_on=(Address("namespace", "team"),),
        secrets={"password": SecretRef(env="PW")},
        live_fingerprint=live_fingerprint(LIVE),
        **values,  # type: ignore[arg-type]
    )


def made_fast() -> Change:
    return up_to_date(
        LIVE.address,
        dict(LIVE.attrs),
        dict(LIVE.attrs),
        "team/api",
        True,
        (Address("namespace", "team"),),
        {"password": SecretRef(env="PW")},
        LIVE,
    )


def test_up_to_date_is_the_change_its_fields_make() -> None:
    fast, slow = made_fast(), by_init()
    assert fast == slow
    for field in fields(Change):
        assert getattr(fast, field.name) == getattr(slow, field.name), field.name
    assert repr(fast) == repr(slow)
    assert list(vars(fast)) == list(vars(slow))  # stored in __init__'s order: shared keys


def test_a_later_fingerprint_reads_compares_copies_and_pickles_as_its_text() -> None:
    later = replace(by_init(), live_fingerprint=LiveFingerprintLater(LIVE))
    text = live_fingerprint(LIVE)
    assert later.live_fingerprint == text
    assert later == by_init()
    assert replace(later, reason="other").live_fingerprint == text
    assert pickle.loads(pickle.dumps(later)) == later
    gone = replace(by_init(), live_fingerprint=LiveFingerprintLater(None))
    assert gone.live_fingerprint == "absent"
    assert replace(by_init(), live_fingerprint=None).live_fingerprint is None


def test_an_object_in_sync_is_planned_as_the_no_op_its_fields_make() -> None:
    namespace = build_spec("namespace", {"name": "team", "public": False})
    repo = build_spec("repository", {"namespace": "team", "name": "api", "tags": ["v1"]})
    desired = DesiredState({namespace.address: namespace, repo.address: repo})
    state = State(lineage="sync")
    by_id = {}
    for address, spec in desired.resources.items():
        attrs = dict(desired_attrs(spec))
        state.resources[address] = ResourceState(
            address.kind, address.name, fingerprint=fingerprint(attrs), applied=attrs
        )
        by_id[(address.kind, address.name)] = LiveObject(address, address.name, dict(attrs))
    live = LiveState(by_id, {o.address: (o,) for o in by_id.values()})
    plan = make_plan(desired, state, live)
    assert [c.action for c in plan.changes] == [Action.NOOP, Action.NOOP]
    planned = plan.changes[1]
    expected = Change(
        repo.address,
        Action.NOOP,
        "up to date",
        before=dict(by_id[("repository", "team/api")].attrs),
        after=desired_attrs(repo),
        cloud_id="team/api",
        depends_on=(namespace.address,),
        live_fingerprint=live_fingerprint(by_id[("repository", "team/api")]),
    )
    assert planned == expected
