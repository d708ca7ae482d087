"""Declared YAML -> model specs: the :class:`DesiredState` of a valid configuration.

For: one spec per resource entry, built by its kind from its field table
(``Kind.build_spec``: declared values, defaults filled in, secrets as references), and the
target. Runs only on documents that passed every check, so it trusts the shapes it reads.
Not for: checking anything (``validation``, ``checks``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.config.items import Item
from reconciler.kinds import kind_named
from reconciler.model import Address, DesiredState, Location, Spec, Target
from reconciler.yamlload import Document


def desired_state(
    documents: list[Document], items: list[Item], base_dir: str, files: tuple[str, ...]
) -> DesiredState:
    resources: dict[Address, Spec] = {}
    builders: dict[str, Callable[[Mapping[str, Any], Location], Spec]] = {}
    for item in items:
        build = builders.get(item.kind)
        if build is None:
            build = builders[item.kind] = kind_named(item.kind).build_spec
        spec = build(item.data, item.at())
        resources[spec.address] = spec
    return DesiredState(
        target=_target(documents),
        resources=dict(sorted(resources.items(), key=_address_key)),
        base_dir=base_dir,
        files=files,
    )


def _address_key(entry: tuple[Address, Spec]) -> tuple[str, str]:
    # the order of Address itself, without a Python-level __lt__ per comparison
    return entry[0].kind, entry[0].name


def _target(documents: list[Document]) -> Target:
    for document in documents:
        if "target" in document.data:
            data = document.data["target"]
            return Target(
                region=data.get("region"),
                endpoint=data.get("endpoint"),
                location=document.value_at(("target",)),
            )
    return Target()
