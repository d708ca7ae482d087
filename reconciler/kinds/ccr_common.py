"""What the CCR Enterprise kinds share: the instance every object lives in.

For: the ``instance`` field each CCR kind declares, which instances a refresh lists objects of
(those the run declares or manages, or every live one for ``export``), the refusal when an
instance does not exist, the dependency on a declared instance, and cloud ids scoped to an
instance (``ccr-xxxx/42``). Not for: any one kind's rules (its module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from reconciler.kinds.fields import REPLACE, Field, text
from reconciler.model import Address, DesiredState, Spec

if TYPE_CHECKING:
    from reconciler.client.ccr import CcrClient
    from reconciler.kinds.base import LiveObject, PlanView, RefreshContext

T = TypeVar("T")

API_NAME = "CCR Enterprise"
INSTANCE = "ccr_instance"  # the kind of the instance objects live in
CCR_KINDS_PREFIX = "ccr_"
# NOT ESTABLISHED: the instance id format; anything usable as one path segment.
INSTANCE_ID = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def instance_field() -> Field:
    return Field(
        "instance",
        "Instance",
        "The id of the CCR Enterprise instance it lives in (ccr-...).",
        text(INSTANCE_ID),
        required=True,
        change=REPLACE,
        why="another instance is another object",
        doc="an instance id such as `ccr-4lbqm4u4`",
    )


def instance_of(address: Address) -> str:
    """The instance part of a CCR address (``ccr_project.ccr-x/team-a`` -> ``ccr-x``)."""
    return address.name.split("/", 1)[0]


def scoped_id(instance_id: str, object_id: int | str) -> str:
    """A cloud id unique across instances: ``ccr-x/42``."""
    return f"{instance_id}/{object_id}"


def split_scoped(cloud_id: str) -> tuple[str, str]:
    instance_id, _, object_id = cloud_id.partition("/")
    return instance_id, object_id


def instances_to_read(ctx: RefreshContext) -> list[str]:
    """The live instances whose objects a refresh lists: every one for ``export`` (no
    configuration), else those the run declares, manages or has a pending intent in."""
    live = [o.cloud_id for o in ctx.found.get(INSTANCE, [])]
    if ctx.desired is None:
        return live
    wanted = {instance_of(a) for a in ctx.desired.resources if a.kind.startswith(CCR_KINDS_PREFIX)}
    wanted |= {instance_of(a) for a in ctx.state.resources if a.kind.startswith(CCR_KINDS_PREFIX)}
    wanted |= {
        instance_of(p.address)
        for p in ctx.state.pending.values()
        if p.address.kind.startswith(CCR_KINDS_PREFIX)
    }
    return [i for i in live if i in wanted]


def per_instance(ctx: RefreshContext, read: Callable[[CcrClient, str], Iterable[T]]) -> list[T]:
    """``read(client, instance_id)`` for every instance to read, flattened."""
    return [item for i in instances_to_read(ctx) for item in read(ctx.client.ccr, i)]


def live_instance(view: PlanView, instance_id: str) -> LiveObject | None:
    return next((o for o in view.live_objects.get(INSTANCE, []) if o.cloud_id == instance_id), None)


def missing_instance(instance_id: str, view: PlanView) -> str | None:
    """Why nothing can be made in an instance that does not exist, or None."""
    if live_instance(view, instance_id) is not None:
        return None
    return (
        f"CCR Enterprise instance {instance_id} does not exist in this account and region; "
        "instances are billed orders the reconciler never places: create it in the console "
        "(or fix the id)"
    )


def instance_dependency(spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
    """The declared instance ``spec`` lives in, if it is declared."""
    declared = Address(INSTANCE, str(spec.attrs["instance"]))
    return (declared,) if declared in desired.resources else ()
