"""The rules a JSON Schema cannot express, checked across all files.

For: one address per resource across files, exactly one target with a usable endpoint, imports
naming declared addresses once each, each kind's own rules across entries (``Kind.config_problems``: one registry user, repositories
naming declared namespaces, instance groups declared k8s_clusters, networks that are networks
and do not overlap ...), and (only when asked) that every secret reference resolves.
Not for: the shape of each file (``validation``) or building the desired state (``specs``).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from reconciler.config.fastpath import fast_target_check
from reconciler.config.items import Item
from reconciler.config.specs import IMPORTS, declared_target, import_entries
from reconciler.config.validation import Checked
from reconciler.config.yamlload import Diagnostic, Document
from reconciler.endpoints import endpoint_problem
from reconciler.errors import SecretError
from reconciler.kinds import REGISTRY, kind_named
from reconciler.kinds import names as kind_names
from reconciler.kinds.fields import secret_ref, walk
from reconciler.model import Address, Location, Target
from reconciler.secrets import resolve_secret
from reconciler.wording import dotted

TARGET_CHOICES = ("region", "endpoint")


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
    if not checked.section_broken(IMPORTS):
        yield from _imports(checked)


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


def _imports(checked: Checked) -> Iterator[Diagnostic]:
    """Each import names a declared address, once, and no two take the same object."""
    declared = {(item.kind, item.identity): item for item in checked.items if item.identity}
    addresses: dict[Address, Location] = {}
    ids: dict[tuple[str, str], Location] = {}
    for document, jpath, entry in import_entries(checked.documents):
        to, cloud_id = entry.get("to"), entry.get("id")
        if not isinstance(to, str) or not isinstance(cloud_id, str):
            continue  # the schema says what is wrong
        at = document.value_at((*jpath, "to"))
        try:
            address = Address.parse(to, kind_names())
        except ValueError as exc:
            yield Diagnostic.at(at, f"imports: {exc}")
            continue
        if (address.kind, address.name) not in declared:
            yield Diagnostic.at(
                at,
                f"imports: {address} is not declared under "
                f"{kind_named(address.kind).config_section}; an import adopts an object as a "
                "declared address",
            )
        elif address in addresses:
            yield Diagnostic.at(
                at, f"imports: {address} imported twice: also at {addresses[address]}"
            )
        elif (address.kind, cloud_id) in ids:
            first = ids[(address.kind, cloud_id)]
            yield Diagnostic.at(
                document.value_at((*jpath, "id")),
                f"imports: {address.kind} {cloud_id} is imported twice: also at {first}",
            )
        addresses.setdefault(address, at)
        ids.setdefault((address.kind, cloud_id), document.value_at((*jpath, "id")))


def _apart(first: str, second: str) -> str | None:
    """The first file's folder when the two files are in folders side by side (neither holds
    the other): they look like two configurations, not one."""
    one, two = os.path.dirname(first) or ".", os.path.dirname(second) or "."
    common = os.path.commonpath([os.path.abspath(one), os.path.abspath(two)])
    if common in (os.path.abspath(one), os.path.abspath(two)):
        return None
    return one


def _targets(documents: list[Document], *, load_failed: bool) -> Iterator[Diagnostic]:
    declared = [document for document in documents if "target" in document.data]
    for document in declared[1:]:
        first = declared[0].key_at(("target",))
        message = f"target declared twice: also at {first}"
        apart = _apart(declared[0].path, document.path)
        if apart:  # two configurations side by side (PATH is their parent folder)
            message += f"; a configuration has one target: give one folder as PATH, such as {apart}"
        yield Diagnostic.at(document.key_at(("target",)), message)
    if documents and not declared and not load_failed:
        message = 'no target declared: add "target:" with "region" or "endpoint" to one file'
        yield Diagnostic(documents[0].path, 1, 1, message)
    for document in declared[:1]:
        target = document.data["target"]
        if not isinstance(target, dict):
            continue  # the schema words it
        yield from _target_choice(document, target)
        for key in ("endpoint", "ccrEndpoint"):
            url = target.get(key)
            # the schema words a non-http(s) value; this catches a bad host or port in one
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                continue
            problem = endpoint_problem(url)
            if problem:
                usable = (
                    "local or scheme://host[:port]" if key == "endpoint" else "scheme://host[:port]"
                )
                yield Diagnostic.at(document.value_at(("target", key)), f"{problem}; use {usable}")


def sure_target(documents: list[Document]) -> Target | None:
    """The target ``documents`` declare, when it is surely valid already: declared once, it
    passes the schema's fast path and the checks of :func:`_targets`. None: not sure (the
    whole configuration's checks then decide and explain). What a plan may start reading
    before the rest of the configuration is checked."""
    declared = [document for document in documents if "target" in document.data]
    check = fast_target_check()
    if len(declared) != 1 or check is None or not check(declared[0].data["target"]):
        return None
    if any(d.severity == "error" for d in _targets(documents, load_failed=False)):
        return None
    return declared_target(declared)


def _target_choice(document: Document, target: dict[str, Any]) -> Iterator[Diagnostic]:
    """Exactly one of region and endpoint (ccrEndpoint goes with either)."""
    chosen = [key for key in TARGET_CHOICES if key in target]
    if len(chosen) == 1:
        return
    choices = " or ".join(f'"{key}"' for key in TARGET_CHOICES)
    problem = f"needs {choices}" if not chosen else f"must have only one of {choices}"
    yield Diagnostic.at(document.value_at(("target",)), f"target {problem}")


def secret_errors(items: list[Item], secrets_base: str) -> Iterator[Diagnostic]:
    """Every secret reference of ``items`` that does not resolve, or whose value breaks its
    field's rule (``Field.rule``: what the plan refuses), at its declaration."""
    paths: dict[str, list[tuple[str, ...]]] = {}
    for item in items:
        kind = kind_named(item.kind)
        if item.kind not in paths:
            paths[item.kind] = secret_paths(item.kind)
        for jpath in paths[item.kind]:
            ref = _dig(item.data, jpath)
            if not isinstance(ref, dict):
                continue
            try:
                value = resolve_secret(secret_ref(ref), secrets_base)
            except SecretError as exc:
                # worded as the plan words it: ``user.ccetest: password: ...``
                named = item.label if item.identity is None else f"{item.kind}.{item.identity}:"
                yield Diagnostic.at(item.at(*jpath), f"{named} {dotted(jpath)}: {exc}")
                continue
            problem = kind.secret_problem(".".join(jpath), value)  # the plan's rule, known now
            if problem:
                yield Diagnostic.at(item.at(*jpath), f"{item.label} {problem}")


def secret_locations(items: list[Item]) -> dict[tuple[Address, str], Location]:
    """Where each declared secret reference's value is written (``password: {env: X}``: at
    ``{``), by address and secret name: where plan reports a secret it cannot read."""
    found: dict[tuple[Address, str], Location] = {}
    paths = {kind: secret_paths(kind) for kind in {item.kind for item in items}}
    for item in items:
        identity = item.identity
        if identity is None:
            continue
        for jpath in paths[item.kind]:
            if isinstance(_dig(item.data, jpath), dict):
                found[(Address(item.kind, identity), ".".join(jpath))] = item.at(*jpath)
    return found


def secret_paths(kind_name: str) -> list[tuple[str, ...]]:
    """The YAML paths of a kind's secret fields."""
    return [tuple(p.split(".")) for p, f in walk(kind_named(kind_name).fields) if f.secret]


def _dig(data: Any, jpath: Sequence[str]) -> Any:
    for key in jpath:
        data = data.get(key) if isinstance(data, dict) else None
    return data
