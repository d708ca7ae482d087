"""The rules a JSON Schema cannot express, checked across all files.

For: one address per resource across files, one registry user, repositories naming declared
namespaces and instance groups declared k8s_clusters, container networks that are networks (and,
for the v2 clusters, pod networks that overlap neither their service network nor one another,
and are declared for kubenet), exactly one target with a usable endpoint, imports naming
declared addresses once each, and (only when asked) that every secret reference resolves.
Not for: the shape of each file (``validation``) or building the desired state (``specs``).
"""

from __future__ import annotations

import difflib
import ipaddress
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from reconciler.config.items import Item
from reconciler.config.messages import dotted, show
from reconciler.config.specs import IMPORTS, default_of, import_entries, secret_ref
from reconciler.config.validation import Checked
from reconciler.config.yamlload import Diagnostic, Document
from reconciler.endpoints import endpoint_problem
from reconciler.errors import SecretError
from reconciler.model import Address, K8sClusterSpec, Location, plural
from reconciler.secret_rules import secret_problem
from reconciler.secrets import resolve_secret

SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "user": ("password",),
    "cluster": ("workers", "adminPassword"),
    "instance_group": ("adminPassword",),
}
# The network of services when a k8s_cluster declares none; a pod network must not overlap it.
DEFAULT_SERVICE_CIDR: str = default_of(K8sClusterSpec, "service_cidr")
KUBENET = "kubenet"


def semantic_errors(
    checked: Checked, *, load_failed: bool, environment: Document | None = None
) -> Iterator[Diagnostic]:
    """Every rule across files; ``environment`` is the environment file, which may declare the
    target. ``load_failed``: some file could not be read, so what is missing may be in it."""
    yield from _duplicate_addresses(checked.items)
    yield from _more_than_one_user(checked.items)
    if not checked.section_broken("namespaces"):
        yield from _undeclared(checked.items, "repository", "namespace", "namespace")
    if not checked.section_broken("k8s_clusters"):
        yield from _undeclared(checked.items, "instance_group", "cluster", "k8s_cluster")
    yield from _container_nets(
        [
            item
            for item in checked.items
            if item.kind == "cluster" and checked.clean(item, "containerNet")
        ]
    )
    yield from _v2_networks(checked)
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


def _more_than_one_user(items: list[Item]) -> Iterator[Diagnostic]:
    by_name: dict[str, Item] = {}
    for item in items:
        if item.kind == "user" and item.identity is not None:
            by_name.setdefault(item.identity, item)
    users = list(by_name.values())
    for item in users[1:]:
        message = (
            f"{item.label}: only one registry user is allowed per account "
            f"(Cce.MoreThanOneUserPerAccount); {users[0].label} is declared at {users[0].at()}"
        )
        yield Diagnostic.at(item.at(), message)


def _undeclared(items: list[Item], kind: str, key: str, target: str) -> Iterator[Diagnostic]:
    """Each ``kind`` entry's ``key`` names a declared ``target`` (a repository's namespace, an
    instance group's k8s_cluster)."""
    declared = [item.identity for item in items if item.kind == target and item.identity]
    known = set(declared)
    section = plural(target)
    for item in items:
        name = item.data.get(key)
        if item.kind != kind or not isinstance(name, str) or name in known:
            continue
        message = f'{item.label} refers to {target} "{name}", which is not declared under {section}'
        close = difflib.get_close_matches(name, declared, n=1)
        if close:
            message += f'; did you mean "{close[0]}"?'
        elif target == "k8s_cluster" and any(
            other.kind == "cluster" and other.identity == name for other in items
        ):
            message += f' ("{name}" is a v1 cluster, under clusters; instance groups belong to k8s_clusters)'
        yield Diagnostic.at(item.at(key), message)


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
            address = Address.parse(to)
        except ValueError as exc:
            yield Diagnostic.at(at, f"imports: {exc}")
            continue
        if (address.kind, address.name) not in declared:
            yield Diagnostic.at(
                at,
                f"imports: {address} is not declared under {plural(address.kind)}; an import "
                "adopts an object as a declared address",
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


def _container_nets(items: list[Item]) -> Iterator[Diagnostic]:
    for item in items:
        text = item.data.get("containerNet")
        if item.kind == "cluster" and isinstance(text, str):
            problem = _cidr_problem(text)
            if problem:
                yield Diagnostic.at(
                    item.at("containerNet"),
                    f"{item.label} containerNet {show(text)} is invalid: {problem}",
                )


def _v2_networks(checked: Checked) -> Iterator[Diagnostic]:
    """The CIDRs of the v2 clusters: each a network, podCIDR declared for kubenet, and no pod
    network overlapping its cluster's service network or another cluster's pod network."""
    clusters = [item for item in checked.items if item.kind == "k8s_cluster"]
    pods: list[tuple[Item, ipaddress.IPv4Network]] = []
    for item in clusters:
        if item.data.get("networkMode") == KUBENET and "podCIDR" not in item.data:
            message = (
                f'{item.label} needs "podCIDR": networkMode {KUBENET} takes the pod network from it'
            )
            yield Diagnostic.at(item.at(), message)
        networks: dict[str, ipaddress.IPv4Network] = {}
        for key in ("podCIDR", "serviceCIDR"):
            text = item.data.get(key)
            if not isinstance(text, str) or not checked.valid(item, key):
                continue
            problem = _cidr_problem(text)
            if problem:
                yield Diagnostic.at(
                    item.at(key), f"{item.label} {key} {show(text)} is invalid: {problem}"
                )
            else:
                networks[key] = ipaddress.IPv4Network(text)
        pod = networks.get("podCIDR")
        if pod is None:
            continue
        pods.append((item, pod))
        yield from _pod_service_overlap(item, pod, networks.get("serviceCIDR"))
    yield from _pod_overlaps(pods)


def _pod_service_overlap(
    item: Item, pod: ipaddress.IPv4Network, service: ipaddress.IPv4Network | None
) -> Iterator[Diagnostic]:
    declared = "serviceCIDR" in item.data
    if service is None and declared:
        return  # malformed, reported already
    service = service or ipaddress.IPv4Network(DEFAULT_SERVICE_CIDR)
    if pod.overlaps(service):
        which = "serviceCIDR" if declared else "the default serviceCIDR"
        yield Diagnostic.at(
            item.at("podCIDR"),
            f"{item.label} podCIDR {pod} overlaps {which} {service}; pods and services need "
            "separate networks",
        )


def _pod_overlaps(pods: list[tuple[Item, ipaddress.IPv4Network]]) -> Iterator[Diagnostic]:
    """Each overlap once, at the later declaration; a cluster declared twice is reported as a
    duplicate, not as overlapping itself."""
    for index, (item, pod) in enumerate(pods):
        for other, theirs in pods[:index]:
            if other.identity != item.identity and pod.overlaps(theirs):
                yield Diagnostic.at(
                    item.at("podCIDR"),
                    f"{item.label} podCIDR {pod} overlaps the podCIDR {theirs} of "
                    f"{other.label} at {other.at('podCIDR')}",
                )
                break


def _cidr_problem(text: str) -> str | None:
    try:
        ipaddress.IPv4Network(text, strict=True)
    except ipaddress.NetmaskValueError:
        return "the prefix length must be 0-32"
    except ValueError as exc:
        if "host bits set" not in str(exc):
            return "not an IPv4 network"
        return f"host bits are set; did you mean {ipaddress.IPv4Network(text, strict=False)}?"
    return None


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


def secret_errors(items: list[Item], secrets_base: str) -> Iterator[Diagnostic]:
    for item in items:
        jpath = SECRET_FIELDS.get(item.kind, ())
        ref = _dig(item.data, jpath)
        if not jpath or not isinstance(ref, dict):
            continue
        try:
            value = resolve_secret(secret_ref(ref), secrets_base)
        except SecretError as exc:
            yield Diagnostic.at(item.at(*jpath), f"{item.label} {dotted(jpath)}: {exc}")
            continue
        problem = secret_problem(item.kind, jpath[-1], value)  # the plan's rule, known now
        if problem:
            yield Diagnostic.at(item.at(*jpath), f"{item.label} {problem}")


def _dig(data: Any, jpath: Sequence[str]) -> Any:
    for key in jpath:
        data = data.get(key) if isinstance(data, dict) else None
    return data
