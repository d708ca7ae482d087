"""The resource entries of the configuration files, and how to name one in a message.

For: the sections (``users``, ``namespaces`` ... ``k8s_clusters``, ``instance_groups``) and the
kind each holds, the keys that make up an address (``instance_group.CLUSTER/NAME``), and
:class:`Item`, one entry of one file with its position.
Not for: checking the entries (``validation``, ``checks``) or building specs (``specs``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.config.yamlload import Document, JsonPath
from reconciler.model import Location

SECTIONS = {
    "users": "user",
    "namespaces": "namespace",
    "repositories": "repository",
    "clusters": "cluster",
    "k8s_clusters": "k8s_cluster",
    "instance_groups": "instance_group",
}
IDENTITY = {
    "user": ("username",),
    "namespace": ("name",),
    "repository": ("namespace", "name"),
    "cluster": ("name",),
    "k8s_cluster": ("name",),
    "instance_group": ("cluster", "name"),
}


@dataclass(frozen=True)
class Item:
    """One entry of a resource list, e.g. ``namespaces[2]`` of one file."""

    kind: str
    document: Document
    jpath: JsonPath
    data: dict[str, Any]

    def at(self, *sub: str | int) -> Location:
        return self.document.value_at((*self.jpath, *sub))

    @property
    def identity(self) -> str | None:
        return identity(self.kind, self.data)

    @property
    def label(self) -> str:
        return label(self.kind, self.data)


def identity(kind: str, data: Mapping[str, Any]) -> str | None:
    """The name part of the address (``team-a/api`` for a repository), if well formed."""
    parts = [data.get(key) for key in IDENTITY[kind]]
    if not all(isinstance(part, str) for part in parts):
        return None
    return "/".join(str(part) for part in parts)


def label(kind: str, data: Any) -> str:
    """``namespace "team-a"``, or just the kind while the entry has no well-formed name."""
    name = identity(kind, data) if isinstance(data, dict) else None
    return kind if name is None else f'{kind} "{name}"'


def items_of(document: Document) -> Iterator[Item]:
    for section, kind in SECTIONS.items():
        entries = document.data.get(section)
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                if isinstance(entry, dict):
                    yield Item(kind, document, (section, index), entry)
