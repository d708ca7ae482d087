"""Mutate recorded answers field by field and run `reconciler plan` against each: a malformed
answer is a ShapeError (exit 1, naming the endpoint and the request id) or handled correctly,
never an internal error, never a mutating request, and never a plan that would create, delete
or scale a managed object from it.

An account holding every kind (a registry user, a namespace, a repository, a v1 cluster with two
nodes, a v2 cluster with an instance group) is applied once per module, through a fault proxy
(tests/faultproxy.py); the answers of an in-sync plan are recorded. Every field of every
recorded answer (lists at their first item) gets each mutation that applies to it: ``null``,
a type swap (a string for a number, a number for a string, an object for a list ...), an empty
container (``""``, ``[]``, ``{}``) and a missing key.

``make test`` runs a fixed, evenly spread part of those cases (every ``STRIDE``-th, in a stable
order: every endpoint and every mutation are among them); ``make test-long``
(RECONCILER_LONG=1) runs them all. Nothing here is random.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import EmulatorOptions, start_emulator
from reconciler.emulator.testing import EmulatorHandle
from tests.e2e.conftest import PASSWORD, Workspace
from tests.faultproxy import Answer, FaultProxy

from .scenario import LONG_SWEEP, NODE_PASSWORD, V2_CLUSTER
from .test_faults import record

CONFIG = f"""users:
  - username: ccetest
    password: {{env: CCR_PASSWORD}}
namespaces:
  - name: team-a
repositories:
  - namespace: team-a
    name: api
    tags: [latest, v1]
    description: payment API
clusters:
  - name: prod
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 172.16.0.0/16
    workers: {{count: 2, instanceType: "10", cpu: 4, memory: 8, imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}}
k8s_clusters:
  - name: {V2_CLUSTER}
    k8sVersion: "1.28.8"
    vpcID: vpc-shop0example
    masterType: managedPro
    clusterHA: 3
    masterVPCSubnetZone: zoneA
    runtimeType: containerd
    networkMode: kubenet
    podCIDR: 172.28.0.0/16
    serviceCIDR: 172.31.0.0/16
    lbServiceVPCSubnetID: sbn-shop0lb
    tags: {{team: shop}}
instance_groups:
  - cluster: {V2_CLUSTER}
    name: general
    replicas: 2
    machineSpec: bcc.g5.c2m8
    cpu: 2
    memory: 8
    imageID: m-shop0image
    vpcSubnetID: sbn-shop0nodes
    securityGroupID: g-shop0nodes
    adminPassword: {{env: NODE_ADMIN_PASSWORD}}
"""
MUTATIONS = ("null", "swap", "empty", "drop")
# The one kind a complete list decides "gone" for: the registry has no read of one repository.
# Its name is its id and its create an upsert of tags, so creating it again makes no second one.
UPSERTED = "repository."
STRIDE = 7  # make test: every 7th case (coprime to the 4 mutations, so each gets its turn)
SHAPE = re.compile(
    r"(does not have the expected shape|unexpected answer|the answers do not agree).*request id \S+"
)
IDS = re.compile(r"/(c-|cce-|i-)[A-Za-z0-9-]+")


@dataclass(frozen=True)
class Case:
    endpoint: str  # the path with ids as {id}, for reading
    path: str  # the exact path the rule rewrites
    field: tuple[str | int, ...]
    mutation: str

    def __str__(self) -> str:
        return f"{self.endpoint} {'.'.join(map(str, self.field))} {self.mutation}"


def _swap(value: Any) -> Any:
    if isinstance(value, bool):
        return "true"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return 7
    if isinstance(value, list):
        return {"0": value[0] if value else None}
    if isinstance(value, dict):
        return [value]
    return "null"  # None: a string where the answer said null


def _empty(value: Any) -> Any:
    return {str: "", list: [], dict: {}}.get(type(value), value)


def mutations_of(value: Any, in_object: bool) -> list[str]:
    found = ["swap"]
    if value is not None:
        found.append("null")
    if isinstance(value, str | list | dict) and value != _empty(value):
        found.append("empty")
    if in_object:
        found.append("drop")
    return [m for m in MUTATIONS if m in found]


def fields_of(
    data: Any, at: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any, bool]]:
    """(path, value, whether its parent is an object) of every field; lists at their first item."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*at, key), value, True
            yield from fields_of(value, (*at, key))
    elif isinstance(data, list) and data:
        yield (*at, 0), data[0], False
        yield from fields_of(data[0], (*at, 0))


def mutate(data: Any, field: tuple[str | int, ...], mutation: str) -> Any:
    """``data`` with ``mutation`` applied at ``field``; unchanged when it has no such field
    (another answer of the same path: ``GET /v1/cluster?quota``)."""
    *parents, last = field
    node = data
    for part in (*parents, last):
        try:
            node[part]
        except (KeyError, IndexError, TypeError):
            return data
        node = node[part]
    node = data
    for part in parents:
        node = node[part]
    if mutation == "drop":
        del node[last]
    else:
        node[last] = (
            {"null": None, "swap": _swap, "empty": _empty}[mutation](node[last])
            if (mutation != "null")
            else None
        )
    return data


def cases_of(answers: list[Answer]) -> list[Case]:
    seen: set[str] = set()
    cases = []
    for answer in answers:
        if answer.method != "GET" or answer.path in seen:
            continue
        seen.add(answer.path)
        endpoint = IDS.sub(lambda m: "/{id}", answer.path)
        for field, value, in_object in fields_of(answer.data):
            for mutation in mutations_of(value, in_object):
                cases.append(Case(endpoint, answer.path, field, mutation))
    return sorted(cases, key=lambda c: (c.endpoint, c.path, str(c.field), c.mutation))


@dataclass
class Account:
    ws: Workspace
    proxy: FaultProxy
    cases: list[Case]
    state: str  # the state document after the setup apply


def _set_environment(mp: pytest.MonkeyPatch, emulator: EmulatorHandle) -> None:
    mp.setenv("BCE_ACCESS_KEY_ID", emulator.access_key_id)
    mp.setenv("BCE_SECRET_ACCESS_KEY", emulator.secret_access_key)
    mp.setenv("CCR_PASSWORD", PASSWORD)
    mp.setenv("NODE_ADMIN_PASSWORD", NODE_PASSWORD)


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    """One emulator, proxy and applied account for the module (plans never change them)."""
    root = tmp_path_factory.mktemp("fuzz")
    options = EmulatorOptions(
        port=0,
        db_path=str(root / "emulator.db"),
        seed=1,
        cluster_create_seconds=0.0,
        cluster_delete_seconds=0.0,
    )
    with start_emulator(options) as running, pytest.MonkeyPatch.context() as mp:
        emulator = EmulatorHandle(running)
        proxy = FaultProxy(emulator.url)
        try:
            _set_environment(mp, emulator)
            config = root / "config"
            config.mkdir()
            ws = Workspace(config, emulator)
            (config / "main.yaml").write_text(f"target:\n  endpoint: {proxy.url}\n{CONFIG}")
            applied = ws.cli("apply", str(config), "--auto-approve")
            assert applied.code == 0, applied.out + applied.err
            proxy.record = True
            clean = ws.cli("plan", str(config), "--detailed-exitcode")
            assert clean.code == 0, clean.out + clean.err
            proxy.record = False
            yield Account(ws, proxy, cases_of(proxy.answers), ws.state_file().read_text())
        finally:
            proxy.stop()
            emulator.close()


def endpoints(account: Account) -> list[str]:
    return sorted({c.endpoint for c in account.cases})


# The endpoints an in-sync plan of CONFIG reads (checked against the recording below).
ENDPOINTS = (
    "/api/cce/service/v2/cluster/{id}/instancegroup/{id}/instances",
    "/api/cce/service/v2/cluster/{id}/instancegroups",
    "/api/cce/service/v2/clusters",
    "/v1/cluster",
    "/v1/image",
    "/v1/image/namespace",
    "/v1/image/user",
    "/v1/node",
)


def test_the_recording_covers_every_endpoint_a_plan_reads(account: Account) -> None:
    assert endpoints(account) == list(ENDPOINTS)
    assert len(account.cases) > 200


def judge(account: Account, case: Case) -> str | None:
    """What is wrong with the plan made from ``case``'s answer, or None."""
    ws, proxy = account.ws, account.proxy
    proxy.clear()
    proxy.rewrite(case.path, lambda call, data: mutate(data, case.field, case.mutation))
    since = ws.emulator.next_index()
    result = ws.cli("plan", str(ws.root), "--json")
    said = result.out + result.err
    if "Traceback" in said or "internal error" in said:
        return f"an internal error: {result.err.strip()[:300]}"
    if ws.emulator.mutating_requests(since):
        return "a mutating request"
    if result.code == 1:
        return None if SHAPE.search(result.err) else f"exit 1 without a ShapeError: {result.err}"
    if result.code not in (0, 2, 3):
        return f"exit {result.code}: {result.err}"
    plan = json.loads(result.out)
    if result.code == 3:
        return None if plan["refusals"] else "exit 3 without a refusal"
    for change in plan["changes"]:
        recreated = change["action"] == "create" and change["address"].startswith(UPSERTED)
        if change["action"] not in ("noop", "update") and not recreated or change.get("scale"):
            return f"{change['address']}: {change['action']} {change.get('scale') or ''}"
    return None


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_mutated_answer_is_a_shape_error_or_handled(
    account: Account, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_environment(monkeypatch, account.ws.emulator)
    every = [c for c in account.cases if c.endpoint == endpoint]
    chosen = every if LONG_SWEEP else [c for c in every if account.cases.index(c) % STRIDE == 0]
    assert chosen, f"no case for {endpoint}"
    problems = [f"{case}: {problem}" for case in chosen if (problem := judge(account, case))]
    assert Path(account.ws.state_file()).read_text() == account.state  # plan wrote nothing
    record(
        {
            "suite": "answer-fuzz",
            "endpoint": endpoint,
            "cases": len(chosen),
            "mutations": sorted({c.mutation for c in chosen}),
            "problems": len(problems),
        }
    )
    assert problems == [], "\n".join(problems)
