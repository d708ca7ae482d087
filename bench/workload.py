"""A benchmark workspace: a configuration of N resources, the emulator database holding them,
and a state file that manages them, all consistent, so a plan finds everything in sync.

For: setting up a large in-sync world fast. The cloud side is seeded through the emulator's
model layer in this process (no HTTP, no latency); the state entries are built the way
``apply`` builds them (``desired_attrs`` of the loaded spec, its fingerprint, the cloud id, a
salted hash of the password). Only the config loader and the kinds' ``desired_attrs`` are used
from the engine, so what the plan compares is what a real apply would have written.
Not for: measuring anything (``bench.probe``) or starting the emulator (``bench.server``).

Shape of N declared resources: one registry user, ``max(1, N // 100)`` namespaces, one cluster
from N >= 100 and three from N >= 100,000 (1,000 namespaces and a few clusters), the rest
repositories spread evenly over the namespaces, one YAML file per namespace
(``repositories/<ns>.yaml``) beside ``main.yaml``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.config import load_desired_state
from reconciler.emulator.cce_v1.models import ClusterRequest, Clusters
from reconciler.emulator.cce_v1.orders import parse_order
from reconciler.emulator.registry_v1.models import Registry
from reconciler.emulator.server import open_store
from reconciler.emulator.settings import Knobs, Settings
from reconciler.emulator.store import Store
from reconciler.kinds import desired_attrs
from reconciler.kinds import names as kind_names
from reconciler.kinds.cluster import cluster_body
from reconciler.model import Address, DesiredState, Spec
from reconciler.plan import fingerprint
from reconciler.state import ResourceState, State, hash_secret
from reconciler.state.local import LocalStateStore

USERNAME = "benchuser"
PASSWORD = "Bench-passw0rd"
PASSWORD_ENV = "BENCH_CCR_PASSWORD"
CLUSTER = "bench-cluster"
CLUSTER_WORKERS = 2
MANY_CLUSTERS_FROM = 100_000
MANY_CLUSTERS = 3
HEADER = "# yaml-language-server: $schema=../schemas/config.schema.json\n"


@dataclass(frozen=True)
class Shape:
    """How many resources of each kind N declared resources are made of."""

    size: int
    namespaces: int
    clusters: int
    repositories: int

    @classmethod
    def of(cls, size: int) -> Shape:
        namespaces = max(1, size // 100)
        clusters = 0 if size < 100 else 1 if size < MANY_CLUSTERS_FROM else MANY_CLUSTERS
        repositories = size - 1 - namespaces - clusters
        if repositories < 0:
            raise ValueError(f"N = {size} is too small for a user, a namespace and a cluster")
        return cls(size, namespaces, clusters, repositories)

    def cluster_names(self) -> list[str]:
        return [CLUSTER if i == 0 else f"{CLUSTER}-{i + 1}" for i in range(self.clusters)]

    def namespace_names(self) -> list[str]:
        return [f"ns{i:04d}" for i in range(self.namespaces)]

    def repositories_of(self) -> Iterator[tuple[str, str, str]]:
        """(namespace, repository, tag) of every repository, round-robin over the namespaces."""
        names = self.namespace_names()
        for i in range(self.repositories):
            yield names[i % len(names)], f"app{i:05d}", "v1"


# -- configuration ---------------------------------------------------------------------------


def write_config(root: Path, shape: Shape, endpoint: str) -> None:
    """``main.yaml`` (target, user, namespaces, cluster) and one file of repositories per namespace."""
    root.mkdir(parents=True, exist_ok=True)
    main: dict[str, Any] = {
        "target": {"endpoint": endpoint},
        "users": [{"username": USERNAME, "password": {"env": PASSWORD_ENV}}],
        "namespaces": [{"name": name} for name in shape.namespace_names()],
    }
    if shape.clusters:
        main["clusters"] = [cluster_yaml(name, i) for i, name in enumerate(shape.cluster_names())]
    _dump(root / "main.yaml", main)
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for namespace, name, tag in shape.repositories_of():
        by_namespace.setdefault(namespace, []).append(repository_yaml(namespace, name, tag))
    for namespace, entries in by_namespace.items():
        _dump(root / "repositories" / f"{namespace}.yaml", {"repositories": entries})


def repository_yaml(namespace: str, name: str, tag: str) -> dict[str, Any]:
    return {
        "namespace": namespace,
        "name": name,
        "tags": [tag],
        "description": f"{name} images",
    }


def change_repositories(root: Path, shape: Shape, count: int, revision: str) -> list[str]:
    """Give the first ``count`` repositories of the config the description ``NAME images,
    REVISION`` (a new revision each time, so every call changes them); their addresses."""
    by_file: dict[str, list[str]] = {}
    changed = []
    for namespace, name, _tag in itertools.islice(shape.repositories_of(), count):
        by_file.setdefault(namespace, []).append(name)
        changed.append(f"repository.{namespace}/{name}")
    for namespace, names in by_file.items():
        path = root / "repositories" / f"{namespace}.yaml"
        text = path.read_text(encoding="utf-8")
        for name in names:
            text, found = re.subn(
                rf"^(\s*description: ){name} images.*$",
                rf"\g<1>{name} images, {revision}",
                text,
                count=1,
                flags=re.MULTILINE,
            )
            if not found:
                raise ValueError(f"{path}: no description of {name} to change")
        path.write_text(text, encoding="utf-8")
    return changed


def cluster_yaml(name: str = CLUSTER, number: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "version": "1.20.8",
        "mainAvailableZone": "zoneA",
        "containerNet": f"172.{16 + number}.0.0/16",
        "workers": {
            "count": CLUSTER_WORKERS,
            "instanceType": "10",
            "cpu": 4,
            "memory": 8,
            "imageId": "m-bench001",
            "subnetUuid": "sbn-bench001",
            "securityGroupId": "g-bench001",
        },
    }


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=200)
    path.write_text(HEADER + text, encoding="utf-8")


# -- the cloud -------------------------------------------------------------------------------


def seed_emulator(db_path: Path, shape: Shape, repositories: bool = True) -> dict[str, str]:
    """Fill a fresh emulator database; return the cloud id of each cluster by name."""
    settings = Settings(Knobs(namespace_quota=shape.namespaces + 10, cluster_create_seconds=0.0))
    store = open_store(str(db_path), settings)
    try:
        return seed_model(store, shape, repositories)
    finally:
        store.close()


def seed_model(store: Store, shape: Shape, repositories: bool = True) -> dict[str, str]:
    """Fill an emulator's store (one running in this process, or a database file's)."""
    registry = Registry(store)
    registry.create_user(USERNAME, PASSWORD, PASSWORD)
    for name in shape.namespace_names():
        registry.create_namespace(name, False, USERNAME)
    if repositories:
        for namespace, name, tag in shape.repositories_of():
            registry.put_tag(namespace, name, tag, f"{name} images")
    clusters = Clusters(store)
    return {
        name: _seed_cluster(clusters, name, number)
        for number, name in enumerate(shape.cluster_names())
    }


def _seed_cluster(clusters: Clusters, name: str, number: int) -> str:
    """A RUNNING cluster with its workers, made from the same wire body apply would send."""
    spec = cluster_yaml(name, number)
    body = cluster_body(spec, admin_password=None)
    request = ClusterRequest(
        name=spec["name"],
        version=spec["version"],
        main_zone=spec["mainAvailableZone"],
        container_net=spec["containerNet"],
        order=parse_order(body["orderContent"]),
    )
    uuid, _orders = clusters.create(request)
    clusters.settle()  # create time 0: CREATING -> RUNNING now
    return uuid


# -- state -----------------------------------------------------------------------------------


def write_state(
    path: Path,
    desired: DesiredState,
    cluster_ids: dict[str, str],
    skip: Iterable[Address] = (),
    endpoint: str | None = None,
) -> int:
    """A state file managing every declared resource (but ``skip``), recording ``endpoint`` as
    its target as an apply there would; return the entries written."""
    left_out = set(skip)
    state = State(target=endpoint)
    for address, spec in desired.resources.items():
        if address in left_out:
            continue
        cloud_id = cluster_ids[address.name] if address.kind == "cluster" else _natural_id(spec)
        state.resources[address] = _entry(address, spec, cloud_id)
    path.unlink(missing_ok=True)  # a new lineage: the store refuses to overwrite another one
    LocalStateStore(path, kinds=kind_names()).write(state)
    return len(state.resources)


def _natural_id(spec: Spec) -> str:
    return spec.address.name  # a repository's is NAMESPACE/NAME, as its address


def _entry(address: Address, spec: Any, cloud_id: str) -> ResourceState:
    applied = dict(desired_attrs(spec))
    hashes = {"password": hash_secret(PASSWORD)} if address.kind == "user" else {}
    return ResourceState(
        kind=address.kind,
        cloud_id=cloud_id,
        protect=False,
        fingerprint=fingerprint(applied),
        secret_hashes=hashes,
        applied=applied,
    )


# -- all together ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """Where one benchmark world lives: its config folder, state file and emulator database."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def db(self) -> Path:
        return self.root / "emulator.db"


def build_config_and_state(
    workspace: Workspace,
    shape: Shape,
    endpoint: str,
    cluster_ids: dict[str, str],
    skip_kinds: frozenset[str] = frozenset(),
) -> DesiredState:
    """Write the config for ``endpoint`` and a matching state (without ``skip_kinds``)."""
    write_config(workspace.config, shape, endpoint)
    desired = load_desired_state([str(workspace.config)])
    skip = [a for a in desired.resources if a.kind in skip_kinds]
    write_state(workspace.state, desired, cluster_ids, skip, endpoint)
    return desired
