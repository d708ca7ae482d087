"""The registry of kinds, in dependency order: the one list the engine iterates.

Adding a kind is a new module beside this one (a :class:`~reconciler.kinds.base.Kind`
subclass with its field table; see ARCHITECTURE.md, "Adding a kind") and one line in
``BUILT_IN``. A kind defined elsewhere (a plugin, a test) is added with :func:`register` before
the command runs: from then on the configuration accepts its section, the schemas describe it,
and plan, apply, export, import and refresh handle it like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.addon import AddonKind
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
from reconciler.kinds.user import UserKind
from reconciler.model import Address, DesiredState, SecretRef, Spec
from reconciler.plan import LiveState

BUILT_IN: tuple[Kind, ...] = (
    UserKind(),
    NamespaceKind(),
    RepositoryKind(),
    ClusterKind(),
    K8sClusterKind(),
    InstanceGroupKind(),
    AddonKind(),
    CcrInstanceKind(),
    CcrPublicAccessKind(),
    CcrPrivateLinkKind(),
    CcrProjectKind(),
    CcrRepositoryKind(),
    CcrRobotKind(),
    CcrReplicationEndpointKind(),
)
REGISTRY: list[Kind] = list(BUILT_IN)
_BY_NAME: dict[str, Kind] = {k.name: k for k in REGISTRY}
_ORDER: dict[str, int] = {k.name: i for i, k in enumerate(REGISTRY)}
_NAMES: tuple[str, ...] = tuple(_BY_NAME)


def register(kind: Kind) -> None:
    """Add a kind after the registered ones (after what it can depend on). Registering a kind
    of the same name again replaces it in place (a test that registers its kind per test)."""
    if kind.name in _BY_NAME:
        REGISTRY[_ORDER[kind.name]] = kind
    else:
        _ORDER[kind.name] = len(REGISTRY)
        REGISTRY.append(kind)
    _BY_NAME[kind.name] = kind
    _changed()


def unregister(name: str) -> None:
    """Remove a kind added with :func:`register` (the built-in kinds stay)."""
    if name in _BY_NAME and _BY_NAME[name] not in BUILT_IN:
        REGISTRY.remove(_BY_NAME.pop(name))
        _ORDER.clear()
        _ORDER.update({k.name: i for i, k in enumerate(REGISTRY)})
        _changed()


_generation = 0


def _changed() -> None:
    global _generation, _NAMES
    _generation += 1
    _NAMES = tuple(_BY_NAME)


def generation() -> int:
    """A number that changes whenever the registry does: the key of what is derived from it
    and cached (the schemas and their validators)."""
    return _generation


def names() -> tuple[str, ...]:
    """Every kind's name, in dependency order."""
    return _NAMES


def kind_named(name: str) -> Kind:
    return _BY_NAME[name]


def kind_of(spec: Spec) -> Kind:
    return _BY_NAME[spec.address.kind]


def sections() -> dict[str, Kind]:
    """The YAML list -> the kind it declares, in dependency order."""
    return {k.config_section: k for k in REGISTRY if k.section is not None}


def desired_attrs(spec: Spec) -> Mapping[str, Any]:
    return kind_of(spec).desired_attrs(spec)


def secret_refs(spec: Spec) -> Mapping[str, SecretRef]:
    return kind_of(spec).secret_refs(spec)


def build_spec(kind: str, data: Mapping[str, Any]) -> Spec:
    """The spec of a YAML entry of ``kind``, as the configuration builds it (for tests and
    tools; the entry must be valid)."""
    return _BY_NAME[kind].build_spec(data)


def apply_inputs(desired: DesiredState, live: LiveState) -> dict[str, Any]:
    """kind -> what its changes need from the whole run (``Kind.apply_inputs``)."""
    return {k.name: k.apply_inputs(desired, live) for k in REGISTRY}


def is_gone(live: LiveObject | None) -> bool:
    """True when there is no live object, or its kind says a listed object is gone."""
    return live is None or _BY_NAME[live.address.kind].is_gone(live)


def address_order(address: Address) -> tuple[int, str]:
    """Dependency order for display: the registry's order, then the name."""
    return (_ORDER[address.kind], address.name)


__all__ = [
    "REGISTRY",
    "Kind",
    "LiveObject",
    "address_order",
    "apply_inputs",
    "build_spec",
    "desired_attrs",
    "generation",
    "is_gone",
    "kind_named",
    "kind_of",
    "names",
    "register",
    "secret_refs",
    "sections",
    "unregister",
]
