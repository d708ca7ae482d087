"""Typed calls: each endpoint's method, path, query and body on the wire, paging, strict parsing
of what the reconciler relies on (lenient for the rest), and creates that are never resent
blindly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reconciler import errors
from reconciler.client.v1 import CceClient
from reconciler.client.v1_types import (
    Ack,
    AdvancedOptions,
    BccConfig,
    CdsConfig,
    CdsPreMountInfo,
    Cluster,
    ClusterOrder,
    CreateClusterArgs,
    DiskSize,
    EipConfig,
    Namespace,
    OrderContent,
    to_wire,
)

from .conftest import AK, SK, FakeTime, Reply, ScriptedServer, error, make_transport, ok


@pytest.fixture
def client(server: ScriptedServer, fake_time: FakeTime) -> Iterator[CceClient]:
    with CceClient(make_transport(server.url, fake_time), page_size=2) as c:
        yield c


CLUSTER = {
    "clusterUuid": "c-qBH9sE28",
    "clusterName": "prod-bj",
    "status": "RUNNING",
    "version": "1.20.8",
    "region": "bj",
    "containerNet": "172.16.0.0/16",
    "mainAvailableZone": "zoneA",
    "slaveVmCount": 3,
    "masterVmCount": "3",
    "createTime": "2019-03-11T04:17:29Z",
    "advancedOptions": {"kubeProxyMode": "ipvs", "maxPodNum": 256},
    "instanceList": [{"instanceShortId": "i-Kx6YEod8", "status": "RUNNING", "extra": 1}],
    "someFutureField": {"nested": [1, 2]},
}
NODE = {
    "instanceShortId": "i-Kx6YEod8",
    "clusterUuid": "c-qBH9sE28",
    "instanceType": 10,
    "cpu": 4,
    "memory": 8,
    "status": "RUNNING",
    "unknown": True,
}


# (call, method, path, query, body, reply, check on the result)
Case = tuple[
    Callable[[CceClient], Any],
    str,
    str,
    list[tuple[str, str]],
    Any,
    Reply,
    Callable[[Any], bool],
]

CASES: dict[str, Case] = {
    "get_user": (
        lambda c: c.get_user(),
        "GET",
        "/v1/image/user",
        [],
        None,
        ok({"username": "ccetest", "createTime": "t1", "updateTime": "t2"}),
        lambda r: (r.username, r.create_time, r.update_time) == ("ccetest", "t1", "t2"),
    ),
    "create_user": (
        lambda c: c.create_user("ccetest", "passwd@123"),
        "POST",
        "/v1/image/user",
        [],
        {"username": "ccetest", "password": "passwd@123", "passwordConfirmation": "passwd@123"},
        ok(request_id="rid-cu"),
        lambda r: r == Ack("rid-cu"),
    ),
    "update_password": (
        lambda c: c.update_password("ccetest", "newpass123"),
        "PUT",
        "/v1/image/user",
        [],
        {"username": "ccetest", "password": "newpass123", "passwordConfirmation": "newpass123"},
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "get_namespace": (
        lambda c: c.get_namespace("team-a"),
        "GET",
        "/v1/image/namespace/team-a",
        [],
        None,
        ok({"namespace": "team-a", "public": True, "createTime": "t"}),
        lambda r: r == Namespace("team-a", True, "t"),
    ),
    "create_namespace": (
        lambda c: c.create_namespace("team-a", public=False, user="ccetest"),
        "POST",
        "/v1/image/namespace",
        [],
        {"namespace": "team-a", "public": False, "user": "ccetest"},
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "delete_namespace": (
        lambda c: c.delete_namespace("团队"),
        "DELETE",
        "/v1/image/namespace/团队",
        [],
        None,
        ok(request_id="rid-del"),
        lambda r: r.request_id == "rid-del",
    ),
    "create_image_meta": (
        lambda c: c.create_image_meta("team-a", "api", "latest", "payment API"),
        "POST",
        "/v1/image/meta",
        [],
        {"namespace": "team-a", "repository": "api", "tag": "latest", "description": "payment API"},
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "create_image_meta_no_description": (
        lambda c: c.create_image_meta("team-a", "api", "v1"),
        "POST",
        "/v1/image/meta",
        [],
        {"namespace": "team-a", "repository": "api", "tag": "v1"},
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "get_image_meta": (
        lambda c: c.get_image_meta("team-a", "api", "latest"),
        "GET",
        "/v1/image/meta",
        [("namespace", "team-a"), ("repository", "api"), ("tag", "latest")],
        None,
        ok({"namespace": "team-a", "repository": "api", "tag": "latest", "description": "d"}),
        lambda r: (r.tag, r.description, r.create_time) == ("latest", "d", ""),
    ),
    "delete_image_meta_tag": (
        lambda c: c.delete_image_meta("team-a", "api", "latest"),
        "DELETE",
        "/v1/image/meta",
        [("namespace", "team-a"), ("repository", "api"), ("tag", "latest")],
        None,
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "delete_image_meta_repository": (
        lambda c: c.delete_image_meta("team-a", "api"),
        "DELETE",
        "/v1/image/meta",
        [("namespace", "team-a"), ("repository", "api")],
        None,
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "get_cluster": (
        lambda c: c.get_cluster("c-qBH9sE28"),
        "GET",
        "/v1/cluster/c-qBH9sE28",
        [],
        None,
        ok(CLUSTER),
        lambda r: (
            (r.cluster_uuid, r.master_vm_count, r.instance_list[0].instance_short_id)
            == ("c-qBH9sE28", 3, "i-Kx6YEod8")
        ),
    ),
    "create_cluster_dict": (
        lambda c: c.create_cluster({"clusterName": "x", "orderContent": {"items": []}}),
        "POST",
        "/v1/cluster",
        [],
        {"clusterName": "x", "orderContent": {"items": []}},
        ok({"clusterUuid": "c-new", "orderId": ["o-1", "o-2"]}, request_id="rid-cc"),
        lambda r: r == ClusterOrder("c-new", ("o-1", "o-2"), "rid-cc"),
    ),
    "delete_cluster": (
        lambda c: c.delete_cluster("c-qBH9sE28", delete_eip_cds=True),
        "DELETE",
        "/v1/cluster/c-qBH9sE28",
        [("deleteEipCds", "true"), ("deleteSnap", "false")],
        None,
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "scale_up": (
        lambda c: c.scale_up("c-1", OrderContent.of([EipConfig(100)]), dcc_uuid="d-1"),
        "POST",
        "/v1/cluster",
        [("scalingUp", "")],
        {
            "clusterUuid": "c-1",
            "orderContent": {
                "items": [
                    {
                        "config": {
                            "bandwidthInMbps": 100,
                            "subProductType": "netraffic",
                            "purchaseNum": 1,
                            "productType": "postpay",
                            "serviceType": "EIP",
                        }
                    }
                ]
            },
            "dccUuid": "d-1",
        },
        ok({"clusterUuid": "c-1", "orderId": ["o-9"]}),
        lambda r: r.order_ids == ("o-9",),
    ),
    "scale_down": (
        lambda c: c.scale_down("c-1", ["i-1", "i-2"], delete_snap=True),
        "POST",
        "/v1/cluster",
        [("deleteEipCds", "false"), ("deleteSnap", "true"), ("scalingDown", "")],
        {"clusterUuid": "c-1", "nodeInfo": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]},
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "list_versions": (
        lambda c: c.list_versions(),
        "GET",
        "/v1/cluster/versions",
        [],
        None,
        ok({"data": ["1.13.4", "1.20.8"]}),
        lambda r: r == ("1.13.4", "1.20.8"),
    ),
    "get_kubeconfig": (
        lambda c: c.get_kubeconfig("c-1", "internal"),
        "GET",
        "/v1/cluster/kubeconfig",
        [("clusterUuid", "c-1"), ("type", "internal")],
        None,
        ok({"data": "apiVersion: v1\nkind: Config\n"}),
        lambda r: r.startswith("apiVersion: v1"),
    ),
    "get_quota": (
        lambda c: c.get_quota(),
        "GET",
        "/v1/cluster",
        [("quota", "")],
        None,
        ok({"cluster": 20, "clusterUsed": 2, "slave": 100, "slaveUsed": "7"}),
        lambda r: (r.cluster, r.cluster_used, r.slave, r.slave_used) == (20, 2, 100, 7),
    ),
    "get_container_net": (
        lambda c: c.get_container_net("vpc-1", "192.168.0.0/24", 1000),
        "POST",
        "/v1/cluster/get_container_net",
        [],
        {"vpcShortId": "vpc-1", "vpcCidr": "192.168.0.0/24", "size": 1000},
        ok({"containerNet": "172.16.0.0/16", "capacity": 65536}),
        lambda r: (r.container_net, r.capacity) == ("172.16.0.0/16", 65536),
    ),
    "check_container_net": (
        lambda c: c.check_container_net("vpc-1", "192.168.0.0/24", "172.16.0.0/16"),
        "POST",
        "/v1/cluster/check_container_net",
        [],
        {"vpcShortId": "vpc-1", "vpcCidr": "192.168.0.0/24", "containerNetCidr": "172.16.0.0/16"},
        ok({"conflict": False}),
        lambda r: r.data == {"conflict": False},
    ),
    "shift_in": (
        lambda c: c.shift_in("c-1", ["i-1"], need_rebuild=True, image_id="m-1"),
        "POST",
        "/v1/cluster/existed_node",
        [("action", "shift_in")],
        {
            "clusterUuid": "c-1",
            "needRebuild": True,
            "instanceType": "BCC",
            "nodeInfoList": [{"instanceId": "i-1"}],
            "imageId": "m-1",
        },
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "shift_out": (
        lambda c: c.shift_out("c-1", ["i-1"]),
        "POST",
        "/v1/cluster/existed_node",
        [("action", "shift_out")],
        {"clusterUuid": "c-1", "nodeInfoList": [{"instanceId": "i-1"}]},
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "upgrade_cluster": (
        lambda c: c.upgrade_cluster("c-1", "1.22.5"),
        "POST",
        "/v1/cluster/cluster_upgrade/upgrade",
        [],
        {"clusterUuid": "c-1", "version": "1.22.5"},
        ok(),
        lambda r: isinstance(r, Ack),
    ),
    "list_node_flavors": (
        lambda c: c.list_node_flavors(zone="zoneA"),
        "POST",
        "/v1/node/flavor/list",
        [],
        {"zone": "zoneA"},
        ok({"flavors": [{"cpu": 4}]}),
        lambda r: r.data["flavors"][0]["cpu"] == 4,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_call_on_the_wire(client: CceClient, server: ScriptedServer, name: str) -> None:
    call, method, path, query, body, reply, check = CASES[name]
    server.script(reply)
    result = call(client)
    seen = server.seen[0]
    assert seen.verified == AK
    assert (seen.method, seen.path) == (method, path)
    assert sorted(seen.query) == sorted(query)
    assert (seen.json() if seen.body else None) == body
    assert check(result), result
    assert server.count() == 1


def _nodes(start: int, stop: int) -> list[dict[str, Any]]:
    """Distinct nodes (a list naming one node twice is a ShapeError)."""
    return [{**NODE, "instanceShortId": f"i-{n:08d}"} for n in range(start, stop)]


def _page(key: str, entries: list[Any], next_marker: str | None) -> Reply:
    page = {"marker": "", "isTruncated": next_marker is not None, "maxKeys": 2, key: entries}
    if next_marker:
        page["nextMarker"] = next_marker
    return ok(page)


def test_paging_follows_markers_across_three_pages(
    client: CceClient, server: ScriptedServer
) -> None:
    clusters = [{**CLUSTER, "clusterUuid": f"c-{i}"} for i in range(5)]
    server.script(
        _page("clusters", clusters[0:2], "m-2"),
        _page("clusters", clusters[2:4], "m-4"),
        _page("clusters", clusters[4:5], None),
    )
    found = client.list_clusters(status="RUNNING")
    assert [c.cluster_uuid for c in found] == [f"c-{i}" for i in range(5)]
    queries = [dict(s.query) for s in server.seen]
    assert queries == [
        {"status": "RUNNING", "maxKeys": "2"},
        {"status": "RUNNING", "maxKeys": "2", "marker": "m-2"},
        {"status": "RUNNING", "maxKeys": "2", "marker": "m-4"},
    ]
    assert all(s.verified == AK for s in server.seen)


@pytest.mark.parametrize(
    ("call", "path", "key", "entry", "query"),
    [
        (
            lambda c: c.list_namespaces("ccetest"),
            "/v1/image/namespace",
            "namespaces",
            {"namespace": "team-a", "public": "true"},
            {"user": "ccetest"},
        ),
        (
            lambda c: c.list_images("ccetest", namespace="team-a"),
            "/v1/image",
            "images",
            {"namespace": "team-a", "repository": "api", "tags": ["latest", "v1"]},
            {"user": "ccetest", "namespace": "team-a"},
        ),
        (
            lambda c: c.list_nodes("c-qBH9sE28"),
            "/v1/node",
            "nodes",
            NODE,
            {"clusterUuid": "c-qBH9sE28"},
        ),
    ],
    ids=["namespaces", "images", "nodes"],
)
def test_every_list_pages(
    client: CceClient,
    server: ScriptedServer,
    call: Callable[[CceClient], Any],
    path: str,
    key: str,
    entry: dict[str, Any],
    query: dict[str, str],
) -> None:
    id_key = next(k for k in ("namespace", "repository", "instanceShortId") if k in entry)
    one, two, three = ({**entry, id_key: f"{entry[id_key]}-{n}"} for n in range(3))
    server.script(_page(key, [one, two], "m1"), _page(key, [three], None))
    assert len(call(client)) == 3
    assert [s.path for s in server.seen] == [path, path]
    assert dict(server.seen[1].query) == {**query, "maxKeys": "2", "marker": "m1"}


def test_an_empty_list_is_empty(client: CceClient, server: ScriptedServer) -> None:
    server.script(ok({"clusters": [], "isTruncated": False}))
    assert client.list_clusters() == ()


@pytest.mark.parametrize("next_marker", [None, ""], ids=["missing", "empty"])
def test_a_truncated_page_without_a_next_marker_is_a_shape_error(
    client: CceClient, server: ScriptedServer, next_marker: str | None
) -> None:
    page: dict[str, Any] = {"isTruncated": True, "nodes": [NODE]}
    if next_marker is not None:
        page["nextMarker"] = next_marker
    server.script(ok(page, request_id="rid-cut"))
    with pytest.raises(errors.ShapeError, match="nextMarker: missing or empty") as info:
        client.list_nodes("c-1")
    assert (info.value.method, info.value.path, info.value.request_id) == (
        "GET",
        "/v1/node",
        "rid-cut",
    )
    assert server.count() == 1


def test_a_next_marker_that_does_not_move_on_is_a_shape_error(
    client: CceClient, server: ScriptedServer
) -> None:
    nodes = [{**NODE, "instanceShortId": f"i-{n}"} for n in range(4)]
    server.script(
        ok({"isTruncated": True, "nextMarker": "m1", "nodes": nodes[:2]}),
        ok({"isTruncated": True, "nextMarker": "m1", "nodes": nodes[2:]}),
    )
    with pytest.raises(errors.ShapeError, match="does not move on") as info:
        client.list_nodes("c-1")
    assert info.value.request_id == "rid-ok"
    assert server.count() == 2


def test_fewer_items_than_the_total_count_is_a_shape_error(
    client: CceClient, server: ScriptedServer
) -> None:
    server.script(
        ok({"isTruncated": True, "nextMarker": "m1", "nodes": _nodes(0, 2), "totalCount": 5}),
        ok({"isTruncated": False, "nodes": _nodes(2, 3), "totalCount": 5}, request_id="rid-short"),
    )
    with pytest.raises(errors.ShapeError, match="totalCount is 5 but 3 came back") as info:
        client.list_nodes("c-1")
    assert info.value.request_id == "rid-short"


LISTS: dict[str, tuple[Callable[[CceClient], Any], str, str, dict[str, Any]]] = {
    "clusters": (lambda c: c.list_clusters(), "/v1/cluster", "clusters", CLUSTER),
    "nodes": (lambda c: c.list_nodes("c-1"), "/v1/node", "nodes", NODE),
    "namespaces": (
        lambda c: c.list_namespaces("ccetest"),
        "/v1/image/namespace",
        "namespaces",
        {"namespace": "team-a", "public": False},
    ),
    "images": (
        lambda c: c.list_images("ccetest"),
        "/v1/image",
        "images",
        {"namespace": "team-a", "repository": "api", "tags": ["v1"]},
    ),
}
# What broke apply and destroy before: `{}` or `null` read as "nothing exists".
MALFORMED_PAGES: dict[str, tuple[Callable[[str, dict[str, Any]], Any], str]] = {
    "empty-object": (lambda key, item: {}, "{key}: missing"),
    "null-list": (lambda key, item: {key: None, "isTruncated": False}, "{key}: null"),
    "object-list": (
        lambda key, item: {key: {}, "isTruncated": False},
        "{key}: expected a list, got object",
    ),
    "no-isTruncated": (lambda key, item: {key: [item]}, "isTruncated: missing"),
    "null-body": (lambda key, item: None, "expected a JSON object, got null"),
    "item-not-object": (
        lambda key, item: {key: ["x"], "isTruncated": False},
        "{key}[0]: expected a JSON object, got string",
    ),
}


@pytest.mark.parametrize("shape", list(MALFORMED_PAGES))
@pytest.mark.parametrize("kind", list(LISTS))
def test_a_malformed_list_is_a_shape_error_never_an_empty_list(
    client: CceClient, server: ScriptedServer, kind: str, shape: str
) -> None:
    call, path, key, item = LISTS[kind]
    page, needle = MALFORMED_PAGES[shape]
    server.script(ok(page(key, item), request_id="rid-bad"))
    with pytest.raises(errors.ShapeError) as info:
        call(client)
    error = info.value
    assert isinstance(error, errors.BadResponseError)
    assert needle.format(key=key) in error.message
    assert (error.method, error.path, error.status, error.request_id) == (
        "GET",
        path,
        200,
        "rid-bad",
    )
    assert str(error).startswith(f"GET {path}: HTTP 200: ")
    assert str(error).endswith("(request id rid-bad)")


REQUIRED_KEYS: dict[str, tuple[str, list[str]]] = {
    "clusters": ("clusters", ["clusterUuid", "clusterName", "status"]),
    "nodes": ("nodes", ["instanceShortId", "status"]),
    "namespaces": ("namespaces", ["namespace", "public"]),
    "images": ("images", ["namespace", "repository", "tags"]),
}


@pytest.mark.parametrize("problem", ["missing", "null"])
@pytest.mark.parametrize(
    ("kind", "field"),
    [(kind, field) for kind, (_, fields) in REQUIRED_KEYS.items() for field in fields],
)
def test_a_list_item_without_a_key_the_tool_relies_on_is_named(
    client: CceClient, server: ScriptedServer, kind: str, field: str, problem: str
) -> None:
    call, _, key, item = LISTS[kind]
    broken = {k: v for k, v in item.items() if k != field}
    if problem == "null":
        broken[field] = None
    server.script(ok({key: [item, broken], "isTruncated": False}))
    with pytest.raises(errors.ShapeError) as info:
        call(client)
    assert f"{key}[1].{field}: {problem} (keys present: {{" in info.value.message


@pytest.mark.parametrize(
    ("call", "reply", "needle"),
    [
        (lambda c: c.get_user(), {"createTime": "t"}, "username: missing"),
        (lambda c: c.get_user(), {"username": ""}, "username: empty"),
        (lambda c: c.get_quota(), {"cluster": 1, "clusterUsed": 0, "slave": 5}, "slaveUsed"),
        (lambda c: c.list_versions(), {"versions": ["1.20.8"]}, "data: missing"),
        (lambda c: c.list_versions(), {"data": ["1.20.8", 1]}, "data[1]: expected a string"),
        (lambda c: c.get_kubeconfig("c-1"), {"data": None}, "data: null"),
        (lambda c: c.create_cluster({}), {"orderId": ["o"]}, "clusterUuid: missing"),
        (lambda c: c.get_namespace("team-a"), {"namespace": "team-a"}, "public: missing"),
    ],
    ids=["user", "user-empty", "quota", "versions", "versions-type", "kubeconfig", "create", "ns"],
)
def test_single_answers_are_strict_too(
    client: CceClient,
    server: ScriptedServer,
    call: Callable[[CceClient], Any],
    reply: Any,
    needle: str,
) -> None:
    server.script(ok(reply))
    with pytest.raises(errors.ShapeError) as info:
        call(client)
    assert needle in info.value.message


def test_optional_fields_stay_optional(client: CceClient, server: ScriptedServer) -> None:
    """Documented-optional and informative fields take defaults: only what decisions rest on
    is required."""
    minimal = {"clusterUuid": "c-1", "clusterName": "prod", "status": "RUNNING"}
    server.script(
        ok({**minimal, "advancedOptions": None, "instanceList": None, "comment": None}),
        ok({"clusterUuid": "c-1"}),  # a create's orderId is not read
        ok({"namespace": "a", "repository": "b", "tag": "c", "description": None}),
        ok({"namespaces": [{"namespace": "a", "public": "false"}], "isTruncated": False}),
    )
    cluster = client.get_cluster("c-1")
    assert (cluster.advanced_options, cluster.instance_list, cluster.comment) == ({}, (), "")
    assert (cluster.slave_vm_count, cluster.create_time) == (0, "")
    assert client.create_cluster({}).order_ids == ()
    meta = client.get_image_meta("a", "b", "c")
    assert (meta.description, meta.create_time) == ("", "")
    assert client.list_namespaces("u") == (Namespace("a", False, ""),)


def test_parsing_is_lenient_where_it_may_be(client: CceClient, server: ScriptedServer) -> None:
    second_node = {"instanceShortId": "i-2", "instanceType": "13", "status": "CREATING"}
    server.script(_page("nodes", [NODE, second_node], None))
    first, second = client.list_nodes("c-qBH9sE28")
    assert (first.instance_type, first.cpu, first.memory, first.status) == ("10", 4, 8, "RUNNING")
    assert first.raw["unknown"] is True
    assert (second.instance_type, second.cpu, second.cluster_uuid) == ("13", 0, "")
    server.script(ok(CLUSTER))
    cluster = client.get_cluster("c-qBH9sE28")
    assert cluster.advanced_options == {"kubeProxyMode": "ipvs", "maxPodNum": 256}
    assert cluster.raw["someFutureField"]["nested"] == (1, 2)
    with pytest.raises(TypeError):
        cluster.raw["x"] = 1  # type: ignore[index]
    assert cluster == Cluster.from_json(CLUSTER)
    assert hash(cluster) == hash(Cluster.from_json(CLUSTER))  # frozen values stay hashable
    assert len({first, second}) == 2


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        (ok({"clusterName": "no id"}, request_id="rid-bad"), "clusterUuid: missing"),
        (ok(None, request_id="rid-bad"), "expected a JSON object, got null"),
        (ok([CLUSTER], request_id="rid-bad"), "expected a JSON object, got list"),
        (ok({**CLUSTER, "slaveVmCount": "many"}, request_id="rid-bad"), "slaveVmCount"),
        (ok({**CLUSTER, "instanceList": {"a": 1}}, request_id="rid-bad"), "instanceList"),
        (ok({**CLUSTER, "clusterName": ["x"]}, request_id="rid-bad"), "clusterName"),
    ],
    ids=["missing-id", "empty-body", "list", "bad-number", "bad-list", "bad-string"],
)
def test_an_answer_of_the_wrong_shape_is_a_bad_response(
    client: CceClient, server: ScriptedServer, reply: Reply, needle: str
) -> None:
    server.script(reply)
    with pytest.raises(errors.BadResponseError) as info:
        client.get_cluster("c-qBH9sE28")
    assert needle in info.value.message
    assert (info.value.status, info.value.request_id) == (200, "rid-bad")


def test_a_typed_create_cluster_body(client: CceClient, server: ScriptedServer) -> None:
    args = CreateClusterArgs(
        cluster_name="prod-bj",
        version="1.20.8",
        main_available_zone="zoneA",
        container_net="172.16.0.0/16",
        comment="made by tests",
        advanced_options=AdvancedOptions(kube_proxy_mode="ipvs", set_os_security=True),
        cds_pre_mount_info=CdsPreMountInfo("/data", (DiskSize("50", "ssd"),)),
        order_content=OrderContent.of(
            [
                BccConfig(
                    cpu=4,
                    memory=8,
                    image_id="m-Nlv9C0tF",
                    subnet_uuid="sbn-1",
                    security_group_id="g-1",
                    purchase_num=3,
                    logical_zone="zoneA",
                    admin_pass="s3cret-pass",
                ),
                CdsConfig((DiskSize("50", "ssd", ""),)),
            ]
        ),
    )
    assert "s3cret-pass" not in repr(args)
    server.script(ok({"clusterUuid": "c-new", "orderId": ["o-1"]}))
    assert client.create_cluster(args).cluster_uuid == "c-new"
    assert server.seen[0].json() == {
        "clusterName": "prod-bj",
        "version": "1.20.8",
        "mainAvailableZone": "zoneA",
        "containerNet": "172.16.0.0/16",
        "deployMode": "BCC",
        "comment": "made by tests",
        "advancedOptions": {"kubeProxyMode": "ipvs", "setOSSecurity": True},
        "cdsPreMountInfo": {
            "mountPath": "/data",
            "cdsConfig": [{"size": "50", "volumeType": "ssd"}],
        },
        "orderContent": {
            "items": [
                {
                    "config": {
                        "cpu": 4,
                        "memory": 8,
                        "imageId": "m-Nlv9C0tF",
                        "subnetUuid": "sbn-1",
                        "securityGroupId": "g-1",
                        "instanceType": "10",
                        "purchaseNum": 3,
                        "productType": "postpay",
                        "imageType": "common",
                        "gpuCount": 0,
                        "logicalZone": "zoneA",
                        "adminPass": "s3cret-pass",
                        "serviceType": "BCC",
                    }
                },
                {
                    "config": {
                        "cdsDiskSize": [{"size": "50", "volumeType": "ssd", "snapshotId": ""}],
                        "purchaseNum": 1,
                        "productType": "postpay",
                        "serviceType": "CDS",
                    }
                },
            ]
        },
    }


def test_to_wire_passes_plain_data_through() -> None:
    assert to_wire({"a": [1, {"b": None}], "c": (2,)}) == {"a": [1, {"b": None}], "c": [2]}


CREATES: dict[str, Callable[[CceClient], Any]] = {
    "create_user": lambda c: c.create_user("ccetest", "passwd@123"),
    "create_namespace": lambda c: c.create_namespace("team-a", public=True, user="ccetest"),
    "create_cluster": lambda c: c.create_cluster({"clusterName": "x"}),
    "scale_up": lambda c: c.scale_up("c-1", {"items": []}),
    "scale_down": lambda c: c.scale_down("c-1", ["i-1"]),
    "shift_in": lambda c: c.shift_in("c-1", ["i-1"], need_rebuild=False),
    "upgrade_cluster": lambda c: c.upgrade_cluster("c-1", "1.22.5"),
}


@pytest.mark.parametrize("name", list(CREATES))
def test_creates_with_a_lost_answer_are_not_resent(
    client: CceClient, server: ScriptedServer, name: str
) -> None:
    server.default = Reply(drop=True)
    with pytest.raises(errors.OutcomeUnknownError):
        CREATES[name](client)
    assert server.count() == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_cluster("c-1"),
        lambda c: c.delete_namespace("team-a"),
        lambda c: c.update_password("ccetest", "p4ssword"),
        lambda c: c.create_image_meta("team-a", "api", "latest"),
    ],
    ids=["get", "delete", "update", "image-meta-upsert"],
)
def test_safe_calls_with_a_lost_answer_are_retried(
    client: CceClient, server: ScriptedServer, call: Callable[[CceClient], Any]
) -> None:
    server.script(Reply(drop=True), ok(CLUSTER))
    call(client)
    assert server.count() == 2


def test_server_errors_come_through_typed(client: CceClient, server: ScriptedServer) -> None:
    server.script(error("Cce.warning.ClusterNotExist", "rid-404"))
    with pytest.raises(errors.NotFoundError) as info:
        client.get_cluster("c-gone")
    assert (info.value.status, info.value.request_id) == (404, "rid-404")


@pytest.mark.parametrize("bad", ["", ".", "..", "a/../b", "a//b"])
def test_unusable_path_segments_are_refused_before_sending(
    client: CceClient, server: ScriptedServer, bad: str
) -> None:
    with pytest.raises(errors.UsageError):
        client.get_namespace(bad)
    assert server.count() == 0


def test_existed_bcc_nodes_are_listed_by_page_number(
    client: CceClient, server: ScriptedServer
) -> None:
    node = {"instanceId": "i-1", "name": "n", "internalIp": "10.0.0.1"}
    server.script(
        ok({"totalCount": 3, "nodeList": [node, node]}),
        ok({"totalCount": 3, "nodeList": [node]}),
    )
    nodes = client.list_existed_bcc_nodes("c-1", keywordType="name", keyword="n")
    assert [n.internal_ip for n in nodes] == ["10.0.0.1"] * 3
    bodies = [s.json() for s in server.seen]
    assert [b["pageNo"] for b in bodies] == [1, 2]
    assert bodies[0] == {
        "keywordType": "name",
        "keyword": "n",
        "clusterUuid": "c-1",
        "pageNo": 1,
        "pageSize": 2,
    }


def test_from_environment(server: ScriptedServer) -> None:
    env = {"BCE_ACCESS_KEY_ID": AK, "BCE_SECRET_ACCESS_KEY": SK}
    with CceClient.from_environment(server.url + "/", environ=env) as client:
        server.script(ok({"data": ["1.20.8"]}))
        assert client.list_versions() == ("1.20.8",)
        assert client.stats().by_method == {"GET": 1}
        assert SK not in repr(client)
    assert server.seen[0].verified == AK


def test_from_environment_without_credentials() -> None:
    with pytest.raises(errors.UsageError, match="BCE_SECRET_ACCESS_KEY"):
        CceClient.from_environment(region="bj", environ={"BCE_ACCESS_KEY_ID": AK})


def test_page_size_is_bounded(server: ScriptedServer, fake_time: FakeTime) -> None:
    transport = make_transport(server.url, fake_time)
    for bad in (0, 1001):
        with pytest.raises(ValueError):
            CceClient(transport, page_size=bad)
    transport.close()


# --- calls that are right under every reading of the provisional registry API ---------------


def _images(*images: dict[str, Any]) -> Reply:
    return ok({"images": list(images), "isTruncated": False})


def _image(repository: str, *tags: str) -> dict[str, Any]:
    return {"namespace": "team-a", "repository": repository, "tags": list(tags)}


def test_find_namespace_reads_the_list_not_the_single_get(
    client: CceClient, server: ScriptedServer
) -> None:
    namespaces = [{"namespace": n, "public": n == "b"} for n in ("a", "b")]
    server.script(
        ok({"username": "ccetest"}),
        ok({"namespaces": namespaces, "isTruncated": False}),
        ok({"namespaces": namespaces, "isTruncated": False}),
    )
    assert client.find_namespace("b") == Namespace("b", True, "")
    assert client.find_namespace("c", user="ccetest") is None
    assert [(s.method, s.path) for s in server.seen] == [
        ("GET", "/v1/image/user"),
        ("GET", "/v1/image/namespace"),
        ("GET", "/v1/image/namespace"),
    ]
    assert dict(server.seen[1].query)["user"] == "ccetest"


def test_find_namespace_without_a_registry_user_is_none(
    client: CceClient, server: ScriptedServer
) -> None:
    server.script(error("Cce.warning.UserNotExist"))
    assert client.find_namespace("a") is None
    assert server.count() == 1


def test_find_image_filters_what_the_list_returns(
    client: CceClient, server: ScriptedServer
) -> None:
    other_namespace = {**_image("api", "v1"), "namespace": "team-b"}
    server.script(_images(other_namespace, _image("web", "v1"), _image("api", "latest")))
    found = client.find_image("team-a", "api", user="ccetest")
    assert found is not None and (found.namespace, found.tags) == ("team-a", ("latest",))
    assert dict(server.seen[0].query) == {"user": "ccetest", "namespace": "team-a", "maxKeys": "2"}


def test_delete_repository_deletes_tag_by_tag(client: CceClient, server: ScriptedServer) -> None:
    server.script(
        _images(_image("api", "latest", "v1", "v2")),
        ok(),
        error("RegistryTagNotFound"),  # deleted meanwhile: done all the same
        ok(),
        _images(_image("web", "v1")),
    )
    assert client.delete_repository("team-a", "api", user="ccetest") == ("latest", "v1", "v2")
    deletes = [dict(s.query) for s in server.seen if s.method == "DELETE"]
    assert deletes == [
        {"namespace": "team-a", "repository": "api", "tag": tag} for tag in ("latest", "v1", "v2")
    ]
    assert server.count() == 5


def test_delete_repository_goes_on_while_tags_are_listed(
    client: CceClient, server: ScriptedServer
) -> None:
    """A server that lists only some tags at a time, then keeps an empty repository listed:
    the leftover tags are deleted, then the repository itself."""
    server.script(
        _images(_image("api", "v1")),
        ok(),
        _images(_image("api", "v2")),
        ok(),
        _images(_image("api")),
        error("RegistryRepositoryNotFound"),
        _images(),
    )
    assert client.delete_repository("team-a", "api", user="ccetest") == ("v1", "v2")
    assert [dict(s.query).get("tag") for s in server.seen if s.method == "DELETE"] == [
        "v1",
        "v2",
        None,
    ]


def test_delete_repository_gives_up_when_tags_keep_coming(
    client: CceClient, server: ScriptedServer
) -> None:
    server.default = lambda seen: _images(_image("api", "v1")) if seen.method == "GET" else ok()
    with pytest.raises(errors.BadResponseError, match="still listed after deleting its tags"):
        client.delete_repository("team-a", "api", user="ccetest")
    assert server.count() == 2 * 3 + 1


def test_delete_repository_of_a_repository_already_gone(
    client: CceClient, server: ScriptedServer
) -> None:
    server.script(ok({"username": "ccetest"}), error("RegistryNamespaceNotExist"))
    assert client.delete_repository("team-a", "api") == ()
    assert server.count() == 2


def test_delete_repository_stops_on_a_real_refusal(
    client: CceClient, server: ScriptedServer
) -> None:
    server.script(_images(_image("api", "v1")), error("Cce.NamespaceRepositoryOrTagNull"))
    with pytest.raises(errors.FatalServerError):
        client.delete_repository("team-a", "api", user="ccetest")
