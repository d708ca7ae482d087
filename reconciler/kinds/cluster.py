"""Kubernetes clusters. Only the worker count can change in place (scalingUp / scalingDown);
the v1 API cannot change anything else of a cluster, so every other declared field forces a
replacement (as the Terraform provider's ForceNew does)."""

from __future__ import annotations

import ipaddress
from typing import Any

from reconciler.kinds.base import drop_none, secrets_of
from reconciler.model import Address, ClusterSpec, SecretRef

KIND = "cluster"
SCALE_FIELD = "workers.count"
REPLACE_FIELDS = frozenset(
    {
        "name",  # the v1 API cannot rename a cluster
        "version",
        "mainAvailableZone",
        "containerNet",
        "deployMode",
        "comment",
        "advancedOptions",
        "workers.instanceType",
        "workers.cpu",
        "workers.memory",
        "workers.imageId",
        "workers.subnetUuid",
        "workers.securityGroupId",
        "workers.productType",
        "workers.imageType",
        "workers.logicalZone",
        "workers.rootDiskSizeInGb",
        "workers.rootDiskStorageType",
    }
)
SENSITIVE: frozenset[str] = frozenset()
# Statuses after which the object no longer exists for planning purposes.
GONE_STATUSES = frozenset({"DELETED", "DELETING"})
BROKEN_STATUSES = frozenset({"CREATE_FAILED", "ERROR", "DELETE_FAILED"})


def normal_cidr(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return text


def desired_attrs(spec: ClusterSpec) -> dict[str, Any]:
    w = spec.workers
    return drop_none(
        {
            "name": spec.name,
            "version": spec.version,
            "mainAvailableZone": spec.main_available_zone,
            "containerNet": normal_cidr(spec.container_net),
            "deployMode": spec.deploy_mode,
            "comment": spec.comment,
            "advancedOptions": dict(spec.advanced_options),
            "workers": {
                "count": w.count,
                "instanceType": str(w.instance_type),
                "cpu": w.cpu,
                "memory": w.memory,
                "imageId": w.image_id,
                "subnetUuid": w.subnet_uuid,
                "securityGroupId": w.security_group_id,
                "productType": w.product_type,
                "imageType": w.image_type,
                "logicalZone": w.logical_zone,
                "rootDiskSizeInGb": w.root_disk_size_gb,
                "rootDiskStorageType": w.root_disk_storage_type,
            },
        }
    )


def secret_refs(spec: ClusterSpec) -> dict[str, SecretRef]:
    return secrets_of({"workers.adminPassword": spec.workers.admin_password})


def dependencies(spec: ClusterSpec) -> list[Address]:
    return []


def live_attrs(cluster: dict[str, Any], nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Normalise a cluster (list item or detail) and its nodes to the desired attribute shape."""
    workers: dict[str, Any] = {
        "count": len([n for n in nodes if n.get("status") not in GONE_STATUSES])
    }
    if nodes:
        first = nodes[0]
        for key in ("instanceType", "cpu", "memory"):
            if first.get(key) not in (None, ""):
                workers[key] = str(first[key]) if key == "instanceType" else first[key]
    attrs: dict[str, Any] = {
        "name": cluster.get("clusterName", ""),
        "version": cluster.get("version"),
        "mainAvailableZone": cluster.get("mainAvailableZone"),
        "containerNet": normal_cidr(cluster["containerNet"])
        if cluster.get("containerNet")
        else None,
        "comment": cluster.get("comment"),
        "advancedOptions": cluster.get("advancedOptions") or None,
        "workers": workers,
    }
    return drop_none(attrs)
