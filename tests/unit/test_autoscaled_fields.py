"""Which fields an autoscaler owns: ``reconciler watch`` never repairs them."""

from __future__ import annotations

from reconciler.kinds import kind_named
from reconciler.model import Address, LiveObject


def group(autoscaler: dict[str, object] | None) -> LiveObject:
    attrs: dict[str, object] = {"name": "ig0", "replicas": 3}
    if autoscaler is not None:
        attrs["autoscaler"] = autoscaler
    return LiveObject(Address("instance_group", "c1/ig0"), "cce-ig-1", attrs)


def test_an_autoscaling_group_leaves_its_node_count_to_the_autoscaler() -> None:
    kind = kind_named("instance_group")
    on = {"enabled": True, "minReplicas": 1, "maxReplicas": 5}
    assert kind.autoscaled_fields(group(on)) == frozenset({"replicas"})


def test_a_group_without_autoscaling_owns_its_node_count() -> None:
    kind = kind_named("instance_group")
    assert kind.autoscaled_fields(group({"enabled": False})) == frozenset()
    assert kind.autoscaled_fields(group(None)) == frozenset()


def test_other_kinds_have_no_autoscaled_fields() -> None:
    live = LiveObject(Address("namespace", "team-a"), "team-a", {"name": "team-a"})
    assert kind_named("namespace").autoscaled_fields(live) == frozenset()
