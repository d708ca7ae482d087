"""The rules a JSON Schema cannot express, checked across all files.

For: one address per resource across files, exactly one target with a usable endpoint, each
kind's own rules across entries (``Kind.config_problems``: one registry user, repositories
naming declared namespaces, instance groups declared k8s_clusters, networks that are networks
and do not overlap ...), and (only when asked) that every secret reference resolves.
Not for: the shape of each file (``validation``) or building the desired state (``specs``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from reconciler.config.items import Item
from reconciler.config.validation import Checked
from reconciler.endpoints import endpoint_problem
from reconciler.errors import SecretError
from reconciler.kinds import REGISTRY, kind_named
from reconciler.kinds.fields import secret_ref, walk
from reconciler.secrets import resolve_secret
from reconciler.wording import dotted
from reconciler.yamlload import Diagnostic, Document


def semantic_errors(
    checked: Checked, *, load_failed: bool, environment: Document | None = None
) -> Iterator[Diagnostic]:
    """Every rule across files; ``environment`` is the environment file, which may declare the
    target. ``load_failed``: some file could not be read, so what is missing may be in it."""
    yield from _duplicate_addresses(checked.items)
    for kind in REGISTRY:
        if kind.section is not None:
            for location, message in kind.config_problems(checked):
                yield Diagnostic.at(location, message)
    declaring = [*checked.documents, *([environment] if environment is not None else [])]
    yield from _targets(declaring, load_failed=load_failed)


def _duplicate_addresses(items: list[Item]) -> Iterator[Diagnostic]:
    places: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for item in items:
        identity = item.identity
        if identity is not None:
            places[(item.kind, identity)].append(item)
    for same in places.values():
        times = "twice" if len(same) == 2 else "more than once"
        for item in same[1:]:
            yield Diagnostic.at(item.at(), f"{item.label} declared {times}: also at {same[0].at()}")


def _targets(documents: list[Document], *, load_failed: bool) -> Iterator[Diagnostic]:
    declared = [document for document in documents if "target" in document.data]
    for document in declared[1:]:
        first = declared[0].key_at(("target",))
        yield Diagnostic.at(document.key_at(("target",)), f"target declared twice: also at {first}")
    if documents and not declared and not load_failed:
        message = 'no target declared: add "target:" with "region" or "endpoint" to one file'
        yield Diagnostic(documents[0].path, 1, 1, message)
    for document in declared[:1]:
        endpoint = (
            document.data["target"].get("endpoint")
            if isinstance(document.data["target"], dict)
            else None
        )
        # the schema words a non-http(s) value; this catches a bad host or port in one
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            continue
        problem = endpoint_problem(endpoint)
        if problem:
            yield Diagnostic.at(
                document.value_at(("target", "endpoint")),
                f"{problem}; use local or scheme://host[:port]",
            )


def secret_errors(items: list[Item], base_dir: str) -> Iterator[Diagnostic]:
    """Every secret reference of ``items`` that does not resolve, at its declaration."""
    paths: dict[str, list[tuple[str, ...]]] = {}
    for item in items:
        if item.kind not in paths:
            fields = kind_named(item.kind).fields
            paths[item.kind] = [tuple(p.split(".")) for p, f in walk(fields) if f.secret]
        for jpath in paths[item.kind]:
            ref = _dig(item.data, jpath)
            if not isinstance(ref, dict):
                continue
            try:
                resolve_secret(secret_ref(ref), base_dir)
            except SecretError as exc:
                yield Diagnostic.at(item.at(*jpath), f"{item.label} {dotted(jpath)}: {exc}")


def _dig(data: Any, jpath: Sequence[str]) -> Any:
    for key in jpath:
        data = data.get(key) if isinstance(data, dict) else None
    return data
