"""Field-level difference between what the user declared and what is live. Pure.

Only declared fields are compared: the desired attributes hold declared keys only, and the live
side is projected onto those keys. A field the API never reports is compared with the value
last applied (kept in state) instead, so a changed config is still seen. Plain equality is tried
first, so unchanged resources cost one comparison; deepdiff names the paths of a real change
(imported then: the field types here are loaded by every command, deepdiff only by a diff).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MISSING: Any = object()


@dataclass(frozen=True)
class FieldChange:
    path: str  # dotted: "workers.count"
    before: Any
    after: Any
    sensitive: bool = False


def project(
    desired: Mapping[str, Any], live: Mapping[str, Any], applied: Mapping[str, Any]
) -> dict[str, Any]:
    """The live values of the declared keys; the applied value where live has none."""
    out: dict[str, Any] = {}
    for key, want in desired.items():
        have = live.get(key, MISSING)
        fallback = applied.get(key, MISSING) if isinstance(applied, Mapping) else MISSING
        if isinstance(want, Mapping):
            sub_live = have if isinstance(have, Mapping) else {}
            sub_applied = fallback if isinstance(fallback, Mapping) else {}
            out[key] = project(want, sub_live, sub_applied)
        elif have is not MISSING:
            out[key] = have
        elif fallback is not MISSING:
            out[key] = fallback
        else:
            out[key] = want  # unknowable: assume as declared
    return out


def _dotted(path: list[Any]) -> str:
    return ".".join(str(p) for p in path)


def _value_at(data: Mapping[str, Any], path: list[Any]) -> Any:
    value: Any = data
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return None
    return value


def field_changes(desired: Mapping[str, Any], projected: Mapping[str, Any]) -> list[FieldChange]:
    if desired == projected:
        return []
    from deepdiff import DeepDiff

    diff = DeepDiff(projected, desired, ignore_order=True, view="tree")
    paths: set[str] = set()
    changes: list[FieldChange] = []
    for level_items in diff.values():
        for level in level_items:
            path = level.path(output_format="list")
            # a change inside a list (tags) is reported on the whole list
            while path and isinstance(path[-1], int):
                path = path[:-1]
            key = _dotted(path)
            if key in paths:
                continue
            paths.add(key)
            changes.append(FieldChange(key, _value_at(projected, path), _value_at(desired, path)))
    return sorted(changes, key=lambda c: c.path)
