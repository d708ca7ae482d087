"""Registry namespaces. The v1 API has no update: a change of ``public`` replaces it."""

from __future__ import annotations

from typing import Any

from reconciler.model import Address, NamespaceSpec, SecretRef

KIND = "namespace"
REPLACE_FIELDS = frozenset({"public"})
SENSITIVE: frozenset[str] = frozenset()


def desired_attrs(spec: NamespaceSpec) -> dict[str, Any]:
    return {"name": spec.name, "public": bool(spec.public)}


def secret_refs(spec: NamespaceSpec) -> dict[str, SecretRef]:
    return {}


def dependencies(spec: NamespaceSpec, user: Address | None) -> list[Address]:
    return [user] if user else []


def live_attrs(data: dict[str, Any]) -> dict[str, Any]:
    public = data.get("public")
    if isinstance(public, str):
        public = public.lower() in ("true", "1", "yes")
    return {"name": data["name"], "public": bool(public)}
