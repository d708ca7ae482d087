"""The registry of kinds, in dependency order: the one list the engine iterates.

Adding a kind is a new module beside this one (a :class:`~reconciler.kinds.base.Kind`
subclass) and one line in ``REGISTRY``; see ARCHITECTURE.md, "Adding a kind".
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds.base import Kind, LiveObject
from reconciler.kinds.ccr_instance import CcrInstanceKind
from reconciler.kinds.ccr_private_link import CcrPrivateLinkKind
from reconciler.kinds.ccr_project import CcrProjectKind
from reconciler.kinds.ccr_public_access import CcrPublicAccessKind
from reconciler.kinds.ccr_replication_endpoint import CcrReplicationEndpointKind
from reconciler.kinds.ccr_repository import CcrRepositoryKind
from reconciler.kinds.ccr_robot import CcrRobotKind
from reconciler.kinds.cluster import ClusterKind
from reconciler.kinds.instance_group import InstanceGroupKind
from reconciler.kinds.k8s_cluster import K8sClusterKind
from reconciler.kinds.namespace import NamespaceKind
from reconciler.kinds.repository import RepositoryKind
from reconciler.kinds.table import TableKind
from reconciler.kinds.user import UserKind
from reconciler.model import KINDS, Address, SecretRef, Spec

# The kinds declared by a field table (kinds/table.py), in dependency order.
TABLE_KINDS: tuple[TableKind, ...] = (
    CcrInstanceKind(),
    CcrPublicAccessKind(),
    CcrPrivateLinkKind(),
    CcrProjectKind(),
    CcrRepositoryKind(),
    CcrRobotKind(),
    CcrReplicationEndpointKind(),
)
REGISTRY: tuple[Kind, ...] = (
    UserKind(),
    NamespaceKind(),
    RepositoryKind(),
    ClusterKind(),
    K8sClusterKind(),
    InstanceGroupKind(),
    *TABLE_KINDS,
)
_BY_NAME: dict[str, Kind] = {k.name: k for k in REGISTRY}
_BY_SPEC: dict[type, Kind] = {k.spec_type: k for k in REGISTRY if k.spec_type is not Spec}
assert tuple(_BY_NAME) == KINDS, "model.KINDS and the registry must list the same kinds in order"


def kind_named(name: str) -> Kind:
    return _BY_NAME[name]


def kind_of(spec: Any) -> Kind:
    """The kind of a spec: by its type, or by its address for a generic :class:`Spec` (the
    kinds declared by a field table)."""
    if isinstance(spec, Spec):
        return _BY_NAME[spec.address.kind]
    return _BY_SPEC[type(spec)]


def table_kinds() -> list[TableKind]:
    """The kinds declared by a field table, in dependency order."""
    return list(TABLE_KINDS)


def desired_attrs(spec: Any) -> dict[str, Any]:
    return kind_of(spec).desired_attrs(spec)


def secret_refs(spec: Any) -> dict[str, SecretRef]:
    return kind_of(spec).secret_refs(spec)


def is_gone(live: LiveObject | None) -> bool:
    """True when there is no live object, or its kind says a listed object is gone."""
    return live is None or _BY_NAME[live.address.kind].is_gone(live)


def address_order(address: Address) -> tuple[int, str]:
    """Dependency order for display: the registry's order, then the name."""
    return (KINDS.index(address.kind), address.name)


__all__ = [
    "REGISTRY",
    "Kind",
    "LiveObject",
    "address_order",
    "desired_attrs",
    "is_gone",
    "kind_named",
    "kind_of",
    "secret_refs",
    "table_kinds",
]
