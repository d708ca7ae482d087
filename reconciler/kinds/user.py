"""The registry user: one per account; no delete API, so removing it from config forgets it."""

from __future__ import annotations

from typing import Any

from reconciler.kinds.base import secrets_of
from reconciler.model import Address, SecretRef, UserSpec

KIND = "user"
REPLACE_FIELDS: frozenset[str] = frozenset()  # a different username is a different address
SENSITIVE = frozenset({"password"})


def desired_attrs(spec: UserSpec) -> dict[str, Any]:
    return {"username": spec.username}


def secret_refs(spec: UserSpec) -> dict[str, SecretRef]:
    return secrets_of({"password": spec.password})


def dependencies(spec: UserSpec) -> list[Address]:
    return []


def live_attrs(data: dict[str, Any]) -> dict[str, Any]:
    return {"username": data["username"]}
