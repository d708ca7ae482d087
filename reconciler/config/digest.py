"""``config_digest``: the fingerprint a saved plan keeps of the desired content.

For: one sha256 that changes when a declared value changes and not when only files, key order or
tag order do. Not for: fingerprints of live or applied objects (``reconciler.plan``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from reconciler.model import DesiredState, Target


def config_digest(desired: DesiredState, target: Target) -> str:
    """sha256 of the desired content and its target; independent of file order, key order and
    tag order."""
    content: dict[str, Any] = {
        "target": _canonical(target),
        "resources": {
            str(address): _canonical(spec) for address, spec in desired.resources.items()
        },
    }
    if desired.imports:  # left out when empty: digests of saved plans made before imports hold
        content["imports"] = {str(address): i for address, i in desired.imports.items()}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    kind: Any = type(value)
    if kind in _PLAIN:
        return value
    names = _field_names(kind) if is_dataclass(value) and not isinstance(value, type) else None
    if names is not None:
        return {
            name: _unordered(_canonical(getattr(value, name)))
            if name == "tags"
            else _canonical(getattr(value, name))
            for name in names
        }
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _field_names(kind: Any) -> tuple[str, ...]:
    """A dataclass's fields but its ``location`` (where it was declared is not content)."""
    return tuple(f.name for f in fields(kind) if f.name != "location")


def _unordered(tags: Any) -> Any:
    """A repository's tags are a set: sorted. A v2 cluster's are a mapping, whose values count
    (sorting it would keep only the keys) and whose key order json.dumps already ignores."""
    return sorted(tags) if isinstance(tags, list) else tags
