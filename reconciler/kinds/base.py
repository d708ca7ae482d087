"""What every kind shares: the live object shape and the per-kind policy interface. Pure.

A kind module (user, namespace, repository, cluster) says how a declared resource becomes
comparable attributes, which fields force a replacement, what it depends on, and how live API
objects are normalised. Executing changes is ``reconciler.apply``'s job, through
``reconciler.kinds.ops``; nothing here speaks HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import Address, SecretRef


@dataclass(frozen=True)
class LiveObject:
    """One object as read from the API, normalised to the attributes a desired spec declares."""

    address: Address
    cloud_id: str
    attrs: Mapping[str, Any]
    status: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)  # e.g. a cluster's nodes


def drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """Keep declared fields only (None = not declared), recursively."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            value = drop_none(value)
            if value:
                out[key] = value
        elif value is not None:
            out[key] = value
    return out


def secrets_of(pairs: Mapping[str, SecretRef | None]) -> dict[str, SecretRef]:
    return {k: v for k, v in pairs.items() if v is not None}
