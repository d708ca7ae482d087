"""Declared YAML -> model specs: the :class:`DesiredState` of a valid configuration.

For: one spec per resource entry, built by its kind from its field table
(``Kind.build_spec``: declared values, defaults filled in, secrets as references), the
``imports`` entries, and the declared target. Runs only on documents that passed every check,
so it trusts the shapes it reads.
Not for: checking anything (``validation``, ``checks``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.config.items import Item
from reconciler.config.yamlload import Document, JsonPath
from reconciler.kinds import kind_named
from reconciler.kinds import names as kind_names
from reconciler.model import Address, DesiredState, Location, Spec, Target


def desired_state(documents: list[Document], items: list[Item]) -> DesiredState:
    """The specs in the order of their addresses (kind, then name)."""
    by_kind: dict[str, dict[str, Spec]] = {}
    builders: dict[str, Callable[[Mapping[str, Any], Location], Spec]] = {}
    for item in items:
        build = builders.get(item.kind)
        if build is None:
            build = builders[item.kind] = kind_named(item.kind).build_spec
            by_kind[item.kind] = {}
        spec = build(item.data, item.document.value_at(item.jpath))
        by_kind[item.kind][spec.address.name] = spec
    # sorted kind by kind, by name: the order of Address, without a key function per entry
    resources = {
        spec.address: spec
        for kind in sorted(by_kind)
        for spec in (by_kind[kind][name] for name in sorted(by_kind[kind]))
    }
    return DesiredState(
        resources,
        imports={
            Address.parse(i["to"], kind_names()): i["id"] for _, _, i in import_entries(documents)
        },
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


def declared_target(documents: list[Document]) -> Target:
    """The target the first document declaring one declares (checks allow only one)."""
    for document in documents:
        if "target" in document.data:
            data = document.data["target"]
            return Target(
                region=data.get("region"),
                endpoint=data.get("endpoint"),
                ccr_endpoint=data.get("ccrEndpoint"),
                location=document.value_at(("target",)),
            )
    return Target()
