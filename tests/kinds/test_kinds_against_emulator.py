"""Each kind on its own against the emulator over HTTP: create, read, normalise, update, delete,
gone. The changes are planned by the real planner and run by the real executor with a real
journal, so a kind is tested exactly as apply uses it, without the CLI around it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.apply import ApplyOptions, Executor
from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.emulator.testing import EmulatorHandle
from reconciler.errors import ReconcilerError
from reconciler.kinds import apply_inputs, build_spec, kind_named
from reconciler.kinds import names as kind_names
from reconciler.kinds.base import ConflictError, LiveObject, RefreshContext
from reconciler.model import Action, Address, DesiredState, Spec
from reconciler.plan import Plan
from reconciler.planner import make_plan
from reconciler.refresh import refresh
from reconciler.state import State
from reconciler.state.local import LocalStateStore

PASSWORD = "Passw0rd-kind1"
USER = build_spec("user", {"username": "ccetest", "password": {"env": "KIND_PASSWORD"}})


def namespace(name: str, public: bool = False) -> Spec:
    return build_spec("namespace", {"name": name, "public": public})


def repository(namespace: str, name: str, tags: tuple[str, ...], description: str) -> Spec:
    declared = {"namespace": namespace, "name": name, "tags": list(tags)}
    return build_spec("repository", {**declared, "description": description})


@dataclass
class Harness:
    client: CceClient
    store: LocalStateStore
    emulator: EmulatorHandle
    password: str = PASSWORD

    def desired(self, *specs: Spec) -> DesiredState:
        return DesiredState({s.address: s for s in specs})

    def plan(self, *specs: Spec) -> tuple[Plan, State, DesiredState]:
        desired = self.desired(*specs)
        state = self.store.read()
        live = refresh(self.client, state)
        secrets = {
            (a, "password"): self.password
            for a in desired.resources
            if a.kind == "user" and a in state.resources
        }
        return make_plan(desired, state, live, secrets), state, desired

    def apply(self, *specs: Spec) -> Plan:
        """Plan and run every change in order, one at a time; raise the first failure."""
        plan, state, desired = self.plan(*specs)
        live = refresh(self.client, state)
        with self.store.journal(state) as journal:
            executor = Executor(
                self.client,
                journal,
                journal.state,
                lambda change, name: self.password,
                apply_inputs(desired, live),
                ApplyOptions(poll_interval=0.0, progress_every=3600.0),
                lambda message: None,
                sleep=lambda seconds: None,
            )
            for change in plan.actionable:
                executor.run(change)
        return plan

    def read_all(self, kind: str) -> list[LiveObject]:
        ctx = RefreshContext(self.client, self.store.read())
        for k in ("user", "namespace", "repository", "cluster"):
            found = kind_named(k).read_all(ctx)
            ctx.found[k] = found
            if k == kind:
                return found
        raise AssertionError(kind)

    def mutations(self, since: int) -> list[tuple[str, str]]:
        return [(e["method"], e["path"]) for e in self.emulator.mutating_requests(since)]


@pytest.fixture
def h(emulator: EmulatorHandle, tmp_path: Path) -> Iterator[Harness]:
    creds = Credentials(emulator.access_key_id, emulator.secret_access_key)
    with CceClient.connect(emulator.url, creds) as client:
        yield Harness(
            client, LocalStateStore(str(tmp_path / "state.json"), kinds=kind_names()), emulator
        )


def only(plan: Plan) -> tuple[Action, ...]:
    return tuple(c.action for c in plan.actionable)


# --- user -------------------------------------------------------------------------------------


def test_user_create_read_rotate_and_forget(h: Harness) -> None:
    user = kind_named("user")
    assert only(h.apply(USER)) == (Action.CREATE,)
    live = user.read_one(h.client, USER.address, "ccetest")
    assert live is not None and live.attrs == {"username": "ccetest"}
    assert user.read_one(h.client, USER.address, "someone-else") is None
    assert h.store.read().resources[USER.address].secret_hashes["password"].startswith("pbkdf2")

    since = h.emulator.next_index()
    h.password = "Passw0rd-kind2"
    plan = h.apply(USER)
    assert plan.actionable[0].rotate_secrets == ("password",)
    assert h.mutations(since) == [("PUT", "/v1/image/user")]

    plan, _, _ = h.plan()
    assert only(plan) == (Action.FORGET,)  # no delete API: removing it only forgets it


# --- namespace --------------------------------------------------------------------------------


def test_namespace_create_normalise_delete_and_gone(h: Harness) -> None:
    ns = namespace("team-a", public=True)
    h.apply(USER, ns)
    (live,) = h.read_all("namespace")
    assert live.address == ns.address and live.attrs == {"name": "team-a", "public": True}
    assert kind_named("namespace").read_one(h.client, ns.address, "team-a") == live

    plan = h.apply(USER)
    assert only(plan) == (Action.DELETE,)
    assert h.read_all("namespace") == []
    assert kind_named("namespace").read_one(h.client, ns.address, "team-a") is None


def test_namespace_without_a_registry_user_is_a_conflict(h: Harness) -> None:
    with pytest.raises(ConflictError, match="no registry user"):
        h.apply(namespace("team-a"))
    assert h.emulator.mutating_requests() == []


def test_namespace_public_forces_replacement(h: Harness) -> None:
    h.apply(USER, namespace("team-a"))
    plan, _, _ = h.plan(USER, namespace("team-a", public=True))
    (change,) = plan.actionable
    assert change.action is Action.REPLACE and change.forces == ("public",)


# --- repository -------------------------------------------------------------------------------


def test_repository_create_update_tags_and_delete(h: Harness) -> None:
    ns = namespace("team-a")
    repo = repository("team-a", "api", ("v1", "latest"), "payment API")
    h.apply(USER, ns, repo)
    (live,) = h.read_all("repository")
    assert live.cloud_id == "team-a/api"
    assert live.attrs == {
        "namespace": "team-a",
        "name": "api",
        "tags": ["latest", "v1"],
        "description": "payment API",
    }

    since = h.emulator.next_index()
    plan = h.apply(USER, ns, repository("team-a", "api", ("v2", "latest"), "payment API"))
    assert only(plan) == (Action.UPDATE,)
    assert sorted(h.mutations(since)) == [("DELETE", "/v1/image/meta"), ("POST", "/v1/image/meta")]
    (live,) = h.read_all("repository")
    assert live.attrs["tags"] == ["latest", "v2"]

    h.apply(USER, ns)
    assert h.read_all("repository") == []
    assert kind_named("repository").read_one(h.client, repo.address, "team-a/api") is None


def test_repository_lives_in_its_namespace() -> None:
    repository = kind_named("repository")
    assert repository.container_of(Address("repository", "team-a/tools/ci")) == Address(
        "namespace", "team-a"
    )
    assert kind_named("namespace").container_of(Address("namespace", "team-a")) is None


# --- cluster ----------------------------------------------------------------------------------


def cluster(count: int, version: str = "1.20.8") -> Spec:
    workers = {
        "count": count,
        "instanceType": "10",
        "cpu": 4,
        "memory": 8,
        "imageId": "m-1",
        "subnetUuid": "sbn-1",
        "securityGroupId": "g-1",
    }
    return build_spec(
        "cluster",
        {
            "name": "prod",
            "version": version,
            "mainAvailableZone": "zoneA",
            "containerNet": "172.16.0.0/16",
            "workers": workers,
        },
    )


def test_cluster_create_scale_and_delete(h: Harness) -> None:
    kind = kind_named("cluster")
    h.apply(cluster(2))
    entry = h.store.read().resources[Address("cluster", "prod")]
    live = kind.read_one(h.client, Address("cluster", "prod"), entry.cloud_id)
    assert live is not None and live.status == "RUNNING"
    assert live.attrs["workers"]["count"] == 2 and live.attrs["containerNet"] == "172.16.0.0/16"

    plan = h.apply(cluster(3))
    assert plan.actionable[0].scale is not None and plan.actionable[0].scale.add == 1
    nodes = kind.read_one(h.client, Address("cluster", "prod"), entry.cloud_id)
    assert nodes is not None and nodes.attrs["workers"]["count"] == 3

    newest = sorted(nodes.details["nodes"], key=lambda n: (n["createTime"], n["id"]))[-1]["id"]
    plan = h.apply(cluster(2))
    assert plan.actionable[0].scale is not None
    assert plan.actionable[0].scale.remove == (newest,)

    plan, _, _ = h.plan(cluster(2, version="1.22.5"))
    assert plan.actionable[0].action is Action.REPLACE
    assert plan.actionable[0].forces == ("version",)

    h.apply()
    gone = kind.read_one(h.client, Address("cluster", "prod"), entry.cloud_id)
    assert gone is None or kind.is_gone(gone)
    assert Address("cluster", "prod") not in h.store.read().resources


def test_cluster_that_failed_to_create_is_recorded_tainted(h: Harness) -> None:
    h.emulator.set_faults(create_failure_rate=1.0)
    with pytest.raises(ReconcilerError, match="failed to create"):
        h.apply(cluster(1))
    entry = h.store.read().resources[Address("cluster", "prod")]
    assert entry.tainted and entry.cloud_id.startswith("c-")
    plan, _, _ = h.plan(cluster(1))
    assert plan.actionable[0].action is Action.REPLACE and plan.actionable[0].refused is None
