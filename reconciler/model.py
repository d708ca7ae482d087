"""Value types shared by the pipeline: addresses, desired resources, the desired state.

Frozen dataclasses only; no I/O, no imports from the engine. A desired resource holds what the
user declared: an optional field left ``None`` was not declared and is never compared.
``location`` points at the YAML node that declared the resource and is not part of equality.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

# Kind names in dependency order; ``reconciler.kinds.REGISTRY`` lists their modules in this order.
KINDS = ("user", "namespace", "repository", "cluster", "k8s_cluster", "instance_group")


def plural(kind: str) -> str:
    """``repository`` -> ``repositories``; every other kind takes an ``s``."""
    return "repositories" if kind == "repository" else f"{kind}s"


@dataclass(frozen=True, order=True)
class Address:
    """``kind.name``: ``user.ccetest``, ``namespace.team-a``, ``repository.team-a/api``."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}.{self.name}"

    @classmethod
    def parse(cls, text: str) -> Address:
        kind, sep, name = text.partition(".")
        if not sep or kind not in KINDS or not name:
            raise ValueError(
                f"{text!r} is not an address; expected KIND.NAME with KIND one of {', '.join(KINDS)}"
            )
        return cls(kind, name)


@dataclass(frozen=True)
class Location:
    path: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


NOWHERE = Location("<none>", 0, 0)


@dataclass(frozen=True)
class SecretRef:
    """A secret given by reference; exactly one of ``env`` / ``file`` is set."""

    env: str | None = None
    file: str | None = None

    def __str__(self) -> str:
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"


@dataclass(frozen=True)
class Lifecycle:
    """``protect=None`` means the block (or key) was not declared: state keeps what it had.
    ``reconcile`` narrows what ``reconciler watch`` may do with the resource (``observe``,
    ``warn`` or ``enforce``; None: the watch's mode); plan and apply ignore it."""

    protect: bool | None = None
    reconcile: str | None = None


@dataclass(frozen=True)
class UserSpec:
    username: str
    password: SecretRef
    lifecycle: Lifecycle = Lifecycle()
    location: Location = field(default=NOWHERE, compare=False)

    @property
    def address(self) -> Address:
        return Address("user", self.username)


@dataclass(frozen=True)
class NamespaceSpec:
    name: str
    public: bool = False
    lifecycle: Lifecycle = Lifecycle()
    location: Location = field(default=NOWHERE, compare=False)

    @property
    def address(self) -> Address:
        return Address("namespace", self.name)


@dataclass(frozen=True)
class RepositorySpec:
    namespace: str
    name: str
    tags: tuple[str, ...]
    description: str | None = None
    lifecycle: Lifecycle = Lifecycle()
    location: Location = field(default=NOWHERE, compare=False)

    @property
    def address(self) -> Address:
        return Address("repository", f"{self.namespace}/{self.name}")


@dataclass(frozen=True)
class WorkersSpec:
    """The worker node order of a cluster (one BCC item of ``orderContent``)."""

    count: int
    instance_type: str  # numeric code as a string: "10" (G3); the API also accepts a number
    cpu: int
    memory: int
    image_id: str
    subnet_uuid: str
    security_group_id: str
    product_type: str = "postpay"
    image_type: str = "common"
    logical_zone: str | None = None
    root_disk_size_gb: int | None = None
    root_disk_storage_type: str | None = None
    admin_password: SecretRef | None = None


def frozen_mapping(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    version: str
    main_available_zone: str
    container_net: str
    workers: WorkersSpec
    deploy_mode: str = "BCC"
    comment: str | None = None
    advanced_options: Mapping[str, Any] = field(default_factory=frozen_mapping)
    lifecycle: Lifecycle = Lifecycle()
    location: Location = field(default=NOWHERE, compare=False)

    @property
    def address(self) -> Address:
        return Address("cluster", self.name)


@dataclass(frozen=True)
class K8sClusterSpec:
    """A cluster of the CCE v2 API (``k8s_cluster.NAME``): masters, network and runtime; its
    worker nodes are instance groups. Every field is fixed at creation."""

    name: str
    k8s_version: str  # "1.28.8"
    vpc_id: str
    master_type: str = "managedPro"  # managedPro, managed, custom
    master_ha: int = 3  # masters: 1, 3 or 5
    master_subnet_zone: str | None = None  # zoneA..zoneF, for managed masters
    runtime: str = "containerd"  # containerd or docker
    runtime_version: str | None = None
    network_mode: str = "vpc-secondary-ip-auto-detect"
    pod_cidr: str | None = None
    service_cidr: str = "172.31.0.0/16"
    lb_service_subnet_id: str | None = None
    kube_proxy_mode: str = "ipvs"  # ipvs or iptables
    description: str | None = None
    delete_resources: bool = True  # delete option: release the cluster's resources with it
    delete_snapshots: bool = True
    tags: Mapping[str, str] = field(default_factory=frozen_mapping)
    lifecycle: Lifecycle = Lifecycle()
    location: Location = field(default=NOWHERE, compare=False)

    @property
    def address(self) -> Address:
        return Address("k8s_cluster", self.name)


@dataclass(frozen=True)
class InstanceGroupSpec:
    """A node pool of a v2 cluster (``instance_group.CLUSTER/NAME``). ``replicas`` changes in
    place; the instance template is fixed at creation."""

    cluster: str  # the k8s_cluster's name (address name) it belongs to
    name: str
    replicas: int
    machine_spec: str  # "bcc.g5.c2m8"
    cpu: int
    memory: int  # GB
    image_id: str
    subnet_id: str
    security_group_id: str
    instance_type: str = "N3"
    machine_type: str = "BCC"
    root_disk_type: str = "cloud_hp1"
    root_disk_size: int = 40
    admin_password: SecretRef | None = None
    lifecycle: Lifecycle = Lifecycle()
    location: Location = field(default=NOWHERE, compare=False)

    @property
    def address(self) -> Address:
        return Address("instance_group", f"{self.cluster}/{self.name}")


Resource = (
    UserSpec | NamespaceSpec | RepositorySpec | ClusterSpec | K8sClusterSpec | InstanceGroupSpec
)


@dataclass(frozen=True)
class Target:
    """Where the resources live: a region (``https://cce.<region>.baidubce.com``) or an endpoint.

    ``endpoint == "local"`` means the embedded emulator under ``.reconciler/``.
    """

    region: str | None = None
    endpoint: str | None = None
    location: Location = field(default=NOWHERE, compare=False)

    def url(self) -> str:
        if self.endpoint:
            return self.endpoint
        return f"https://cce.{self.region or 'bj'}.baidubce.com"


@dataclass(frozen=True)
class ConfigChoice:
    """Which configuration a run loads besides its paths: ``--env``, ``--var-file``, ``--var``."""

    env: str | None = None
    var_files: tuple[str, ...] = ()
    var_args: tuple[str, ...] = ()


NO_CHOICE = ConfigChoice()


class PlanMode(StrEnum):
    """What a plan is for, from the command line to the saved plan (Terraform's ``plans.Mode``):
    make the cloud match the configuration, delete everything the state manages, or only
    record what changed outside the reconciler."""

    NORMAL = "normal"
    DESTROY = "destroy"
    REFRESH_ONLY = "refresh-only"


@dataclass(frozen=True)
class DesiredState:
    """Every declared resource by address, and the existing objects declared ``imports`` adopt:
    what the configuration wants, and nothing about where the run lives (the target, the files
    and folders: ``reconciler.context.RunContext``)."""

    resources: Mapping[Address, Resource]
    # ``imports``: a declared address -> the id of the existing object it adopts
    imports: Mapping[Address, str] = field(default_factory=dict)

    @functools.cached_property
    def _first_by_kind(self) -> dict[str, Address]:
        first: dict[str, Address] = {}
        for address in self.resources:
            first.setdefault(address.kind, address)
        return first

    def first_of_kind(self, kind: str) -> Address | None:
        """The first declared address of ``kind`` (config order), computed once per state."""
        return self._first_by_kind.get(kind)

    def of_kind(self, kind: str) -> list[Resource]:
        return [r for a, r in sorted(self.resources.items()) if a.kind == kind]

    def counts(self) -> dict[str, int]:
        return {kind: sum(1 for a in self.resources if a.kind == kind) for kind in KINDS}


class Action(StrEnum):
    NOOP = "noop"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    FORGET = "forget"
    IMPORT = "import"  # adopt an existing unmanaged object into state; nothing is sent
