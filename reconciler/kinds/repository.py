"""Repositories: a set of tags in a namespace, with a description. Tags are a set."""

from __future__ import annotations

from typing import Any

from reconciler.kinds.base import drop_none
from reconciler.model import Address, RepositorySpec, SecretRef

KIND = "repository"
REPLACE_FIELDS: frozenset[str] = frozenset()
SENSITIVE: frozenset[str] = frozenset()


def desired_attrs(spec: RepositorySpec) -> dict[str, Any]:
    return drop_none(
        {
            "namespace": spec.namespace,
            "name": spec.name,
            "tags": sorted(set(spec.tags)),
            "description": spec.description,
        }
    )


def secret_refs(spec: RepositorySpec) -> dict[str, SecretRef]:
    return {}


def dependencies(spec: RepositorySpec) -> list[Address]:
    return [Address("namespace", spec.namespace)]


def namespace_of(address: Address) -> str:
    # namespaces hold no "/" (the config forbids it), repository names may: split at the first
    return address.name.split("/", 1)[0]


def live_attrs(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "namespace": data["namespace"],
        "name": data["name"],
        "tags": sorted(set(data.get("tags") or [])),
        "description": data.get("description") or "",
    }
