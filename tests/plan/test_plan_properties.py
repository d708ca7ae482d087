"""Properties of the pure planner: the order of the inputs does not matter, and a cloud that
already matches the declaration gives an empty plan."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.kinds import build_spec, desired_attrs
from reconciler.kinds.base import LiveObject
from reconciler.model import Address, DesiredState, Spec
from reconciler.plan import LiveState, fingerprint
from reconciler.planner import make_plan
from reconciler.render import plan_to_json
from reconciler.state import ResourceState, State

names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
repo_names = st.from_regex(r"[a-z][a-z0-9-]{0,4}(/[a-z0-9-]{1,4})?", fullmatch=True)
tags = st.lists(
    st.from_regex(r"[a-z0-9][a-z0-9.]{0,5}", fullmatch=True), min_size=1, max_size=4, unique=True
)


@st.composite
def declarations(draw: st.DrawFn) -> DesiredState:
    namespaces = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    resources: dict[Address, Spec] = {}
    for ns in namespaces:
        spec = build_spec("namespace", {"name": ns, "public": draw(st.booleans())})
        resources[spec.address] = spec
        for repo in draw(st.lists(repo_names, max_size=3, unique=True)):
            declared = {"namespace": ns, "name": repo, "tags": draw(tags)}
            description = draw(st.none() | st.text(max_size=10))
            if description is not None:
                declared["description"] = description
            rspec = build_spec("repository", declared)
            resources[rspec.address] = rspec
    return DesiredState(resources)


def in_sync(desired: DesiredState) -> tuple[State, LiveState]:
    state = State(lineage="prop")
    by_id = {}
    for address, spec in desired.resources.items():
        attrs = dict(desired_attrs(spec))
        cloud_id = address.name
        state.resources[address] = ResourceState(
            address.kind, cloud_id, fingerprint=fingerprint(attrs), applied=attrs
        )
        live_attrs = (
            {**attrs, "tags": sorted(attrs["tags"], reverse=True)} if "tags" in attrs else attrs
        )
        by_id[(address.kind, cloud_id)] = LiveObject(address, cloud_id, live_attrs)
    return state, LiveState(by_id, {o.address: (o,) for o in by_id.values()})


@settings(max_examples=60, deadline=None)
@given(declarations())
def test_a_cloud_that_matches_gives_no_changes(desired: DesiredState) -> None:
    state, live = in_sync(desired)
    plan = make_plan(desired, state, live)
    assert not plan.has_changes and not plan.conflicts


@settings(max_examples=60, deadline=None)
@given(declarations(), st.randoms(use_true_random=False))
def test_plan_does_not_depend_on_input_order(desired: DesiredState, rnd) -> None:  # type: ignore[no-untyped-def]
    state, live = in_sync(desired)
    half = dict(list(state.resources.items())[::2])  # some managed, some to create
    state.resources = half
    items = list(desired.resources.items())
    rnd.shuffle(items)
    shuffled = DesiredState(dict(items))
    first = plan_to_json(make_plan(desired, state, live))
    second = plan_to_json(make_plan(shuffled, state, live))
    assert first == second
