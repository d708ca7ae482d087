"""Declared YAML -> model specs: the :class:`DesiredState` of a valid configuration.

For: building one spec per resource entry, the declared target, secret references and lifecycles, with
defaults filled in (``deployMode: BCC``, ``productType: postpay`` ...). The v2 kinds take their
defaults from the model: a key left out is a field left at its dataclass default. Runs only on
documents that passed every check, so it trusts the shapes it reads.
Not for: checking anything (``validation``, ``checks``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from reconciler.config.items import Item
from reconciler.config.yamlload import Document, JsonPath
from reconciler.model import (
    Address,
    ClusterSpec,
    DesiredState,
    InstanceGroupSpec,
    K8sClusterSpec,
    Lifecycle,
    Location,
    NamespaceSpec,
    RepositorySpec,
    Resource,
    SecretRef,
    Target,
    UserSpec,
    WorkersSpec,
    frozen_mapping,
)


def desired_state(documents: list[Document], items: list[Item]) -> DesiredState:
    resources: dict[Address, Resource] = {}
    for item in items:
        spec = _BUILDERS[item.kind](item.data, item.at())
        resources[spec.address] = spec
    return DesiredState(
        dict(sorted(resources.items(), key=_address_key)),
        imports={Address.parse(i["to"]): i["id"] for _, _, i in import_entries(documents)},
    )


IMPORTS = "imports"


def import_entries(
    documents: list[Document],
) -> list[tuple[Document, JsonPath, dict[str, Any]]]:
    """The ``imports`` entries of every file, each with its file and where it is in it."""
    found: list[tuple[Document, JsonPath, dict[str, Any]]] = []
    for document in documents:
        entries = document.data.get(IMPORTS)
        for index, entry in enumerate(entries if isinstance(entries, list) else ()):
            if isinstance(entry, dict):
                found.append((document, (IMPORTS, index), entry))
    return found


def _address_key(entry: tuple[Address, Resource]) -> tuple[str, str]:
    # the order of Address itself, without a Python-level __lt__ per comparison
    return entry[0].kind, entry[0].name


def declared_target(documents: list[Document]) -> Target:
    """The target the first document declaring one declares (checks allow only one)."""
    for document in documents:
        if "target" in document.data:
            data = document.data["target"]
            return Target(
                region=data.get("region"),
                endpoint=data.get("endpoint"),
                location=document.value_at(("target",)),
            )
    return Target()


def secret_ref(data: Mapping[str, Any]) -> SecretRef:
    return SecretRef(env=data.get("env"), file=data.get("file"))


_UNDECLARED_LIFECYCLE = Lifecycle()


def _lifecycle(data: Mapping[str, Any]) -> Lifecycle:
    block = data.get("lifecycle") or {}
    protect, reconcile = block.get("protect"), block.get("reconcile")
    if protect is None and reconcile is None:
        return _UNDECLARED_LIFECYCLE
    return Lifecycle(protect=protect, reconcile=reconcile)


def _user(data: dict[str, Any], location: Location) -> UserSpec:
    return UserSpec(data["username"], secret_ref(data["password"]), _lifecycle(data), location)


def _namespace(data: dict[str, Any], location: Location) -> NamespaceSpec:
    return NamespaceSpec(data["name"], bool(data.get("public", False)), _lifecycle(data), location)


def _repository(data: dict[str, Any], location: Location) -> RepositorySpec:
    return RepositorySpec(
        namespace=data["namespace"],
        name=data["name"],
        tags=tuple(data["tags"]),
        description=data.get("description"),
        lifecycle=_lifecycle(data),
        location=location,
    )


def _cluster(data: dict[str, Any], location: Location) -> ClusterSpec:
    return ClusterSpec(
        name=data["name"],
        version=data["version"],
        main_available_zone=data["mainAvailableZone"],
        container_net=data["containerNet"],
        workers=_workers(data["workers"]),
        deploy_mode=data.get("deployMode", "BCC"),
        comment=data.get("comment"),
        advanced_options=frozen_mapping(data.get("advancedOptions")),
        lifecycle=_lifecycle(data),
        location=location,
    )


def _workers(data: dict[str, Any]) -> WorkersSpec:
    admin = data.get("adminPassword")
    return WorkersSpec(
        count=int(data["count"]),
        instance_type=str(data["instanceType"]),
        cpu=int(data["cpu"]),
        memory=int(data["memory"]),
        image_id=data["imageId"],
        subnet_uuid=data["subnetUuid"],
        security_group_id=data["securityGroupId"],
        product_type=data.get("productType", "postpay"),
        image_type=data.get("imageType", "common"),
        logical_zone=data.get("logicalZone"),
        root_disk_size_gb=_optional_int(data.get("rootDiskSizeInGb")),
        root_disk_storage_type=data.get("rootDiskStorageType"),
        admin_password=secret_ref(admin) if admin is not None else None,
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


# YAML key -> spec field of the v2 kinds; the YAML keys are the kinds' attribute names.
K8S_CLUSTER_FIELDS = {
    "name": "name",
    "k8sVersion": "k8s_version",
    "vpcID": "vpc_id",
    "masterType": "master_type",
    "clusterHA": "master_ha",
    "masterVPCSubnetZone": "master_subnet_zone",
    "runtimeType": "runtime",
    "runtimeVersion": "runtime_version",
    "networkMode": "network_mode",
    "podCIDR": "pod_cidr",
    "serviceCIDR": "service_cidr",
    "lbServiceVPCSubnetID": "lb_service_subnet_id",
    "kubeProxyMode": "kube_proxy_mode",
    "description": "description",
    "tags": "tags",
    "deleteResource": "delete_resources",
    "deleteCDSSnapshot": "delete_snapshots",
}
INSTANCE_GROUP_FIELDS = {
    "cluster": "cluster",
    "name": "name",
    "replicas": "replicas",
    "machineType": "machine_type",
    "instanceType": "instance_type",
    "machineSpec": "machine_spec",
    "cpu": "cpu",
    "memory": "memory",
    "rootDiskType": "root_disk_type",
    "rootDiskSize": "root_disk_size",
    "imageID": "image_id",
    "vpcSubnetID": "subnet_id",
    "securityGroupID": "security_group_id",
    "adminPassword": "admin_password",
}


def default_of(spec_type: type, field_name: str) -> Any:
    """The model's default of one spec field (what a key left out of the YAML means)."""
    return next(f.default for f in fields(spec_type) if f.name == field_name)


def _declared(data: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {names[key]: value for key, value in data.items() if key in names}


def _k8s_cluster(data: dict[str, Any], location: Location) -> K8sClusterSpec:
    declared = _declared(data, K8S_CLUSTER_FIELDS)
    if "tags" in declared:
        declared["tags"] = frozen_mapping(declared["tags"])
    return K8sClusterSpec(**declared, lifecycle=_lifecycle(data), location=location)


def _instance_group(data: dict[str, Any], location: Location) -> InstanceGroupSpec:
    declared = _declared(data, INSTANCE_GROUP_FIELDS)
    if "admin_password" in declared:
        declared["admin_password"] = secret_ref(declared["admin_password"])
    return InstanceGroupSpec(**declared, lifecycle=_lifecycle(data), location=location)


_BUILDERS: dict[str, Callable[[dict[str, Any], Location], Resource]] = {
    "user": _user,
    "namespace": _namespace,
    "repository": _repository,
    "cluster": _cluster,
    "k8s_cluster": _k8s_cluster,
    "instance_group": _instance_group,
}
