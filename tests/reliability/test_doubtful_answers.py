"""Never act on a doubtful answer. Through the real CLI, with a fault proxy (tests/faultproxy.py)
in front of the emulator making the answers the emulator never gives:

- an object listed twice (within a page, or page 2 repeating page 1) is a ShapeError, never an
  extra worker to remove; a node count is changed only when the cluster's own count and its
  node list agree, and the step is checked against the node list again before it is sent;
- an empty list is not "nothing there": an object the state knows and the list left out is read
  by its id, and only a positive not-found makes it gone; a ``null`` list is a ShapeError on
  v1 and v2; two live objects answering to one managed address are a conflict.

Every case asserts the exit code, the message (endpoint and request id), the requests the
emulator received (no mutating request where nothing may change) and the cloud it is left with.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.client.credentials import Credentials
from reconciler.client.v2 import CceV2Client
from reconciler.client.v2_types import InstanceGroupCreate, InstanceSpecBody
from tests.e2e.conftest import Result, Workspace
from tests.faultproxy import Call, FaultProxy, fault_proxy

from .scenario import V2_CONFIG, V2_GROUPS, v2_clusters, v2_groups, v2_instances
from .test_faults import record

V2 = "/api/cce/service/v2"
GROUPS = f"{V2}/cluster/*/instancegroups"
GROUP_NODES = f"{V2}/cluster/*/instancegroup/*/instances"
REQUEST_ID = re.compile(r"request id [0-9a-f-]{8,}")


def cluster_yaml(count: int) -> str:
    return f"""clusters:
  - name: prod
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 172.16.0.0/16
    workers: {{count: {count}, instanceType: "10", cpu: 4, memory: 8, imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}}
"""


@pytest.fixture
def proxy(ws: Workspace) -> Iterator[FaultProxy]:
    with fault_proxy(ws.emulator.url) as running:
        yield running


def configure(ws: Workspace, proxy: FaultProxy, body: str) -> None:
    """The configuration, aimed at the proxy (from the first apply on: state records its target)."""
    (ws.root / "main.yaml").write_text(f"target:\n  endpoint: {proxy.url}\n{body}")


# Waits are bounded, so that a run that acted on a doubtful answer (and waits for what cannot
# happen, like the pre-fix tool after removing a node it counted twice) fails fast.
WAIT_LIMITS = ("--timeout", "cluster=10s", "--timeout", "instance_group=10s")


def apply(ws: Workspace, *extra: str) -> Result:
    result = ws.cli("apply", str(ws.root), "--auto-approve", *WAIT_LIMITS, *extra)
    assert "Traceback" not in result.out + result.err
    assert "internal error" not in result.err
    return result


def nodes_of(ws: Workspace, name: str = "prod") -> list[str]:
    (cluster,) = [
        c
        for c in ws.emulator.state()["clusters"]
        if c["clusterName"] == name and c["status"] == "RUNNING"
    ]
    return sorted(n["instanceShortId"] for n in cluster["nodes"])


def managed(ws: Workspace) -> dict[str, str]:
    return {
        a: e["cloud_id"] for a, e in json.loads(ws.state_file().read_text())["resources"].items()
    }


def _empty_page(call: Call, data: Any) -> Any:
    """A well-formed empty v2 page (``page`` / ``list``)."""
    return {**data, "page": {**data["page"], "totalCount": 0, "list": []}}


# --- 1. an object listed twice is a ShapeError, never a count ------------------------------------


def _node_twice_on_the_page(call: Call, data: Any) -> Any:
    return {**data, "nodes": data["nodes"] + data["nodes"][:1]}


def _page_two_repeats_page_one(call: Call, data: Any) -> Any:
    """Page 1 says it is full and truncated, and its nextMarker (-1) starts the list again."""
    if "marker" in call.query:
        return data
    return {**data, "isTruncated": True, "nextMarker": "-1", "maxKeys": len(data["nodes"])}


@pytest.mark.parametrize(
    ("workers", "declared", "rewrite", "where"),
    [
        (1, 1, _node_twice_on_the_page, "(page 1)"),
        (1, 1, _page_two_repeats_page_one, "(page 2)"),
        (3, 1, _node_twice_on_the_page, "(page 1)"),
    ],
    ids=["one-node-twice-on-a-page", "page-2-repeats-page-1", "three-to-one-with-a-duplicate"],
)
def test_a_node_listed_twice_stops_the_run_and_removes_nothing(
    ws: Workspace, proxy: FaultProxy, workers: int, declared: int, rewrite: Any, where: str
) -> None:
    configure(ws, proxy, cluster_yaml(workers))
    assert apply(ws).code == 0
    before = nodes_of(ws)
    configure(ws, proxy, cluster_yaml(declared))
    proxy.rewrite("/v1/node", rewrite)
    since = ws.emulator.next_index()
    result = apply(ws)
    assert result.code == 1, result.out
    assert "GET /v1/node" in result.err and "is listed twice " + where in result.err
    assert REQUEST_ID.search(result.err), result.err
    assert ws.emulator.mutating_requests(since) == []
    assert nodes_of(ws) == before  # today: the only node (or all three) scaled away


def test_an_empty_node_list_against_the_clusters_own_count_stops_a_scale_down(
    ws: Workspace, proxy: FaultProxy
) -> None:
    configure(ws, proxy, cluster_yaml(3))
    assert apply(ws).code == 0
    before = nodes_of(ws)
    configure(ws, proxy, cluster_yaml(1))
    proxy.rewrite("/v1/node", lambda call, data: {**data, "nodes": []})
    since = ws.emulator.next_index()
    result = apply(ws)
    assert result.code == 1, result.out
    assert "says slaveVmCount 3 for " in result.err
    assert "but GET /v1/node (request id" in result.err
    assert "GET /v1/cluster (request id" in result.err
    assert ws.emulator.mutating_requests(since) == []
    assert nodes_of(ws) == before  # today: scaled up to 4


def test_a_scale_down_is_checked_against_the_node_list_before_it_is_sent(
    ws: Workspace, proxy: FaultProxy
) -> None:
    """The plan's list is sound; the one read right before the scale-down lacks a node."""
    configure(ws, proxy, cluster_yaml(3))
    assert apply(ws).code == 0
    before = nodes_of(ws)
    configure(ws, proxy, cluster_yaml(2))

    def one_node_fewer_later(call: Call, data: Any) -> Any:
        if call.number == 0:
            return data  # the refresh
        return {**data, "nodes": data["nodes"][:-1]}  # the check before the scale-down

    proxy.rewrite("/v1/node", one_node_fewer_later)
    since = ws.emulator.next_index()
    result = apply(ws)
    assert result.code == 1, result.out + result.err
    assert "cluster.prod: failed: GET /v1/node (request id" in result.out
    assert "lists 2 worker node(s)" in result.out and "nothing was sent" in result.out
    assert ws.emulator.mutating_requests(since) == []
    assert nodes_of(ws) == before


def test_an_empty_group_node_list_stops_a_v2_scale_down_at_once(
    ws: Workspace, proxy: FaultProxy
) -> None:
    """Today the plan names no node, apply sends nothing and waits until the limit."""
    configure(ws, proxy, V2_CONFIG)
    assert apply(ws).code == 0
    configure(ws, proxy, V2_CONFIG.replace("replicas: 2", "replicas: 1"))
    proxy.rewrite(GROUP_NODES, _empty_page)
    since = ws.emulator.next_index()
    result = apply(ws)
    assert result.code == 1, result.out
    assert "the answers do not agree" in result.err and "says replicas 2, but GET " in result.err
    assert "lists 0 node(s)" in result.err
    assert REQUEST_ID.search(result.err), result.err
    assert ws.emulator.mutating_requests(since) == []
    assert len(v2_instances(ws.emulator.state())) == sum(V2_GROUPS.values())


# --- 2. gone needs a positive not-found on the object's id ---------------------------------------


def _null_page(call: Call, data: Any) -> Any:
    return {**data, "page": {**data["page"], "totalCount": 0, "list": None}}


def _no_clusters(call: Call, data: Any) -> Any:
    return {**data, "clusterPage": {**data["clusterPage"], "totalCount": 0, "clusterList": []}}


@pytest.mark.parametrize(
    ("pattern", "rewrite"),
    [(GROUPS, _empty_page), (f"{V2}/clusters", _no_clusters)],
    ids=["groups-listed-empty", "clusters-listed-empty"],
)
def test_an_empty_v2_list_is_checked_by_id_and_creates_nothing(
    ws: Workspace, proxy: FaultProxy, pattern: str, rewrite: Any
) -> None:
    configure(ws, proxy, V2_CONFIG)
    assert apply(ws).code == 0
    ids = managed(ws)
    proxy.rewrite(pattern, rewrite)
    since = ws.emulator.next_index()
    result = apply(ws)
    assert result.code == 0, result.err
    assert "No changes" in result.out
    assert ws.emulator.mutating_requests(since) == []  # today: a second group (or cluster)
    reads = {r["path"] for r in ws.emulator.requests_log(since) if r["method"] == "GET"}
    cluster_id = ids["k8s_cluster.shop"]
    if pattern == GROUPS:  # every group read by its id
        for address, cloud_id in ids.items():
            if address.startswith("instance_group."):
                group_path = f"{V2}/cluster/{cluster_id}/instancegroup/{cloud_id.split('/')[1]}"
                assert group_path in reads
    else:  # the cluster read by its id, then its groups listed
        assert {f"{V2}/cluster/{cluster_id}", f"{V2}/cluster/{cluster_id}/instancegroups"} <= reads
    assert managed(ws) == ids
    cloud = ws.emulator.state()
    assert len(v2_clusters(cloud)) == 1 and len(v2_groups(cloud)) == len(V2_GROUPS)


def test_a_null_v2_list_is_a_shape_error(ws: Workspace, proxy: FaultProxy) -> None:
    configure(ws, proxy, V2_CONFIG)
    assert apply(ws).code == 0
    ids = managed(ws)
    proxy.rewrite(GROUPS, _null_page)
    since = ws.emulator.next_index()
    result = apply(ws)
    assert result.code == 1, result.out
    assert "page.list: null" in result.err and REQUEST_ID.search(result.err)
    assert ws.emulator.mutating_requests(since) == []
    assert managed(ws) == ids


@pytest.mark.parametrize(
    ("rewrite", "expect"),
    [
        (lambda call, data: {**data, "clusters": []}, 0),
        (lambda call, data: {**data, "clusters": None}, 1),
    ],
    ids=["empty", "null"],
)
def test_an_empty_v1_cluster_list_is_checked_by_id(
    ws: Workspace, proxy: FaultProxy, rewrite: Any, expect: int
) -> None:
    configure(ws, proxy, cluster_yaml(1))
    assert apply(ws).code == 0
    ids = managed(ws)
    proxy.rewrite("/v1/cluster", rewrite)
    since = ws.emulator.next_index()
    result = apply(ws)
    assert result.code == expect, result.out + result.err
    if expect == 0:
        assert "No changes" in result.out
        paths = [r["path"] for r in ws.emulator.requests_log(since)]
        assert f"/v1/cluster/{ids['cluster.prod']}" in paths
    else:
        assert "clusters: null" in result.err
    assert ws.emulator.mutating_requests(since) == []
    assert managed(ws) == ids


def test_a_deleted_object_is_gone_only_after_a_not_found_on_its_id(
    ws: Workspace, proxy: FaultProxy
) -> None:
    """The other side: a group really deleted outside is read by id, not found, and created
    again (the one case where a missing object is planned as gone)."""
    configure(ws, proxy, V2_CONFIG)
    assert apply(ws).code == 0
    cluster_id, group_id = managed(ws)["instance_group.shop/compute"].split("/")
    credentials = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceV2Client.connect(ws.emulator.url, credentials) as v2:
        v2.delete_instance_group(cluster_id, group_id, delete_instances=True)
    result = ws.cli("plan", str(ws.root))
    assert result.code == 0, result.err
    assert "instance_group.shop/compute" in result.out and "deleted outside" in result.out


def test_two_live_objects_answering_to_one_address_are_a_conflict(
    ws: Workspace, proxy: FaultProxy
) -> None:
    configure(ws, proxy, V2_CONFIG)
    assert apply(ws).code == 0
    cluster_id, group_id = managed(ws)["instance_group.shop/compute"].split("/")
    credentials = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    template = InstanceSpecBody("N5", vpc_subnet_id="sbn-shop0nodes", machine_spec="bcc.c5.c8m16")
    with CceV2Client.connect(ws.emulator.url, credentials) as v2:
        twin = v2.create_instance_group(cluster_id, InstanceGroupCreate("compute", template, 1))
    since = ws.emulator.next_index()
    result = ws.cli("plan", str(ws.root))
    assert result.code == 3, result.out + result.err
    assert f"is {cluster_id}/{group_id} in state, but {cluster_id}/{twin.instance_group_id}" in (
        result.out + result.err
    )
    assert apply(ws).code == 3
    assert ws.emulator.mutating_requests(since) == []


# --- 3. paging is bounded by what the answers announce and a per-list limit ----------------------

NAMESPACES_CONFIG = """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: team-a
"""


# "Forever" ends here, so that a tool without bounds (today's) fails the test instead of hanging.
FOREVER = 5_000


def _fresh_marker_forever(call: Call, data: Any) -> Any:
    """The issue's server: every page says it is truncated, with a new nextMarker."""
    if call.number >= FOREVER:
        return data
    return {**data, "isTruncated": True, "nextMarker": f"m{call.number}"}


def _one_new_namespace_per_page_forever(call: Call, data: Any) -> Any:
    """A cleverer one: full pages (it announces maxKeys 1), each with a new namespace."""
    item = {"namespace": f"ns{call.number:07d}", "public": False, "createTime": ""}
    return {
        **data,
        "namespaces": [item],
        "maxKeys": 1,
        "isTruncated": call.number < FOREVER,
        "nextMarker": f"m{call.number}",
    }


@pytest.mark.parametrize(
    ("rewrite", "message", "most"),
    [
        (_fresh_marker_forever, "page 1 holds 1 of maxKeys 1000 items but says isTruncated", 1),
        (_one_new_namespace_per_page_forever, "more than 1,000 pages, the per-list limit", 1000),
        (
            lambda call, data: {**data, "totalCount": 10**12},
            "totalCount 1000000000000 is beyond the per-list limit of 100,000",
            1,
        ),
    ],
    ids=["fresh-marker-forever", "full-pages-forever", "total-beyond-the-limit"],
)
def test_endless_v1_pages_stop_at_what_the_answers_announce(
    ws: Workspace,
    proxy: FaultProxy,
    rewrite: Any,
    message: str,
    most: int,
    request: pytest.FixtureRequest,
) -> None:
    configure(ws, proxy, NAMESPACES_CONFIG)
    assert apply(ws).code == 0
    proxy.rewrite("/v1/image/namespace", rewrite)
    started = time.monotonic()
    result = ws.cli("plan", str(ws.root))
    elapsed = time.monotonic() - started
    pages = proxy.calls("/v1/image/namespace")
    case = request.node.callspec.id
    record({"suite": "paging", "case": case, "pages": pages, "s": elapsed})
    assert result.code == 1, result.out
    assert "GET /v1/image/namespace" in result.err and message in result.err, result.err
    assert pages == most  # today: 1,867 pages in 90 s, and counting


def test_a_v2_total_beyond_the_per_list_limit_stops_at_the_first_page(
    ws: Workspace, proxy: FaultProxy
) -> None:
    configure(ws, proxy, V2_CONFIG)
    assert apply(ws).code == 0
    proxy.rewrite(
        f"{V2}/clusters",
        lambda call, data: {**data, "clusterPage": {**data["clusterPage"], "totalCount": 10**9}},
    )
    result = ws.cli("plan", str(ws.root))
    assert result.code == 1, result.out
    assert "clusterPage.totalCount: 1000000000 is outside 0..100,000" in result.err
    assert proxy.calls(f"{V2}/clusters") == 1  # today: up to a million pages


# --- 6. every field of an answer goes through the strict reader ----------------------------------


def _set(path: str, value: Any) -> Any:
    """A rewrite setting ``path`` (dotted, list indexes as numbers) in every answer to ``value``."""
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]

    def rewrite(call: Call, data: Any) -> Any:
        node = data
        for part in parents:
            node = node[part]
        node[last] = value
        return data

    return rewrite


CLUSTER_ITEM = "clusterPage.clusterList.0.spec"
GROUP_ITEM = "page.list.0.spec"


@pytest.mark.parametrize(
    ("pattern", "path", "value", "message"),
    [
        (f"{V2}/clusters", f"{CLUSTER_ITEM}.tags", "team=shop", "spec.tags: expected a list"),
        (f"{V2}/clusters", f"{CLUSTER_ITEM}.tags", [{}], "spec.tags[0].tagKey: missing"),
        (f"{V2}/clusters", f"{CLUSTER_ITEM}.tags", [None], "spec.tags[0]: expected a JSON object"),
        (f"{V2}/clusters", f"{CLUSTER_ITEM}.tags", {"team": "shop"}, "spec.tags: expected a list"),
        (
            f"{V2}/clusters",
            f"{CLUSTER_ITEM}.masterConfig.managedClusterMasterOption",
            "zoneA",
            "masterConfig.managedClusterMasterOption: expected an object, got str",
        ),
        (
            GROUPS,
            f"{GROUP_ITEM}.instanceTemplate.instanceResource",
            "bcc.g5.c2m8",
            "instanceTemplate.instanceResource: expected an object, got str",
        ),
        (GROUPS, f"{GROUP_ITEM}.replicas", -1, "spec.replicas: -1 is negative, not a count"),
    ],
    ids=[
        "tags-a-string",
        "tags-an-empty-object",
        "tags-a-null",
        "tags-an-object",
        "master-option-a-string",
        "instance-resource-a-string",
        "negative-replicas",
    ],
)
def test_a_malformed_v2_field_is_a_shape_error_never_an_internal_error(
    ws: Workspace, proxy: FaultProxy, pattern: str, path: str, value: Any, message: str
) -> None:
    configure(ws, proxy, V2_CONFIG)
    assert apply(ws).code == 0
    proxy.rewrite(pattern, _set(path, value))
    since = ws.emulator.next_index()
    result = apply(ws)
    assert result.code == 1, result.out
    assert message in result.err and REQUEST_ID.search(result.err), result.err
    assert ws.emulator.mutating_requests(since) == []
