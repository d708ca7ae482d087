"""Field-level difference between what the user declared and what is live. Pure.

Only declared fields are compared: the desired attributes hold declared keys only, and the live
side is projected onto those keys. A field the API never reports is compared with the value
last applied (kept in state) instead, so a changed config is still seen. Plain equality is tried
first, so unchanged resources cost one comparison. A change of mappings, scalars and lists of
scalars (nearly every change: a description, a count, a tag list) is named here, as deepdiff
names it; any other (a list of mappings, a list in a list) by deepdiff itself, imported then:
it costs a plan ~0.1 s to import and ~0.3 ms per changed object.
``tests/unit/test_field_changes.py`` checks the two agree on generated values.
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
    paths = plain_change_paths(projected, desired)
    if paths is None:
        paths = deepdiff_change_paths(projected, desired)
    changes: dict[str, FieldChange] = {}
    for path in paths:
        key = _dotted(path)
        if key not in changes:
            changes[key] = FieldChange(key, _value_at(projected, path), _value_at(desired, path))
    return sorted(changes.values(), key=lambda c: c.path)


_SCALARS = (str, int, float, bool, type(None))


def plain_change_paths(
    before: Any, after: Any, path: tuple[Any, ...] = ()
) -> list[list[Any]] | None:
    """The paths deepdiff (``ignore_order=True``, a change inside a list named by the list)
    would name between ``before`` and ``after``, or None for a difference it alone words."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        if before.keys() != after.keys():
            return None  # how deepdiff words it depends on its version; never from project()
        found: list[list[Any]] = []
        for key in before:
            if not isinstance(key, str):
                return None
            inner = plain_change_paths(before[key], after[key], (*path, key))
            if inner is None:
                return None
            found.extend(inner)
        return found
    if isinstance(before, list) and isinstance(after, list):
        if not all(isinstance(item, _SCALARS) and item == item for item in (*before, *after)):
            return None  # mappings in a list are paired by similarity; NaN is never equal
        same = {(type(x), x) for x in before} == {(type(x), x) for x in after}
        return [] if same else [list(path)]
    for value in (before, after):
        if not isinstance(value, (*_SCALARS, Mapping, list)) or value != value:
            return None
    if type(before) is type(after) and before == after:
        return []
    return [list(path)]


def deepdiff_change_paths(before: Any, after: Any) -> list[list[Any]]:
    """The paths of deepdiff's differences; a change inside a list is named by the list."""
    from deepdiff import DeepDiff

    diff = DeepDiff(before, after, ignore_order=True, view="tree")
    paths: list[list[Any]] = []
    for level_items in diff.values():
        for level in level_items:
            path = level.path(output_format="list")
            while path and isinstance(path[-1], int):
                path = path[:-1]
            paths.append(path)
    return paths
