"""CCE v2 endpoints through the emulator's machinery: both path spellings, paging, validation
and error codes, signatures, injected faults, the request log and persistence across restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.emulator import EmulatorOptions, start_emulator
from reconciler.emulator.testing import EmulatorHandle

from .helpers import assert_error
from .test_ccev2_sdk_shapes import PREFIX, SDK_CREATE_CLUSTER, SDK_CREATE_GROUP, V2, v2_error

INVALID = "cce.warning.InvalidParam"


def with_cluster(**changes: Any) -> bytes:
    body = json.loads(SDK_CREATE_CLUSTER)
    for dotted, value in changes.items():
        target = body["cluster"]
        *parents, last = dotted.split("__")
        for parent in parents:
            target = target[parent]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return json.dumps(body).encode()


def cluster_page(v2: V2, **query: str) -> dict[str, Any]:
    return v2.ok(v2("GET", "/clusters", query))["clusterPage"]


@pytest.fixture
def v2(emulator: EmulatorHandle) -> V2:
    return V2(emulator)


@pytest.fixture
def short(emulator: EmulatorHandle) -> V2:
    return V2(emulator, "/v2")


# -- paths ----------------------------------------------------------------------------------


def test_both_path_spellings_serve_the_same_resources(v2: V2, short: V2) -> None:
    cluster_id = short.create_cluster()
    assert v2.cluster(cluster_id) == short.cluster(cluster_id)
    group_id = v2.create_group(cluster_id)
    assert short.group(cluster_id, group_id) == v2.group(cluster_id, group_id)
    short.ok(short("DELETE", f"/cluster/{cluster_id}/instancegroup/{group_id}"))
    v2.ok(v2("DELETE", f"/cluster/{cluster_id}"))
    v2_error(short("GET", f"/cluster/{cluster_id}"), "cce.warning.ClusterNotFound", 404)


def test_unknown_paths(v2: V2, emulator: EmulatorHandle) -> None:
    assert_error(v2("GET", "/cluster/cce-x/nothing"), "InvalidURI")
    assert_error(V2(emulator, "/v3")("GET", "/clusters"), "InvalidVersion")
    assert_error(V2(emulator, "/api/cce/service/v9")("GET", "/clusters"), "InvalidVersion")


def test_requests_are_logged_with_the_mutating_flag(v2: V2, emulator: EmulatorHandle) -> None:
    cluster_id = v2.create_cluster()
    v2.cluster(cluster_id)
    log = emulator.requests_log()
    assert [(e["method"], e["path"], e["mutating"], e["status"]) for e in log] == [
        ("POST", f"{PREFIX}/cluster", True, 200),
        ("GET", f"{PREFIX}/cluster/{cluster_id}", False, 200),
    ]


# -- paging ---------------------------------------------------------------------------------


def test_cluster_pages(v2: V2) -> None:
    ids = [v2.create_cluster() for _ in range(5)]
    pages = [
        cluster_page(v2, pageNo=str(n), pageSize="2", orderBy="clusterID") for n in (1, 2, 3, 4)
    ]
    assert [p["totalCount"] for p in pages] == [5] * 4
    listed = [[c["spec"]["clusterID"] for c in p["clusterList"]] for p in pages]
    assert listed == [sorted(ids)[0:2], sorted(ids)[2:4], sorted(ids)[4:], []]
    descending = cluster_page(v2, orderBy="clusterID", order="desc")
    assert descending["order"] == "DESC"
    assert [c["spec"]["clusterID"] for c in descending["clusterList"]] == sorted(ids, reverse=True)


def test_cluster_list_defaults_and_limits(v2: V2) -> None:
    page = cluster_page(v2)
    assert {k: page[k] for k in ("keywordType", "orderBy", "order", "pageNo", "pageSize")} == {
        "keywordType": "clusterName",
        "orderBy": "clusterName",
        "order": "ASC",
        "pageNo": 1,
        "pageSize": 10,
    }
    assert cluster_page(v2, pageSize="1000000")["pageSize"] == 1000
    assert cluster_page(v2, pageNo="0", pageSize="0")["pageSize"] == 10


@pytest.mark.parametrize(
    "query",
    [{"pageNo": "-1"}, {"pageSize": "ten"}, {"order": "sideways"}, {"keywordType": "vpcID"},
     {"orderBy": "nodeNum"}],
)  # fmt: skip
def test_cluster_list_refuses_bad_queries(v2: V2, query: dict[str, str]) -> None:
    v2_error(v2("GET", "/clusters", query), INVALID, 400)


def test_cluster_keyword_search(v2: V2) -> None:
    prod = v2.create_cluster(with_cluster(clusterName="Prod-BJ"))
    v2.create_cluster(with_cluster(clusterName="staging"))
    found = cluster_page(v2, keyword="prod")["clusterList"]
    assert [c["spec"]["clusterID"] for c in found] == [prod]
    by_id = cluster_page(v2, keywordType="clusterID", keyword=prod[4:])["clusterList"]
    assert [c["spec"]["clusterID"] for c in by_id] == [prod]


def test_group_and_instance_pages(v2: V2) -> None:
    cluster_id = v2.create_cluster()
    groups = [v2.create_group(cluster_id) for _ in range(3)]
    path = f"/cluster/{cluster_id}/instancegroups"
    everything = v2.ok(v2("GET", path))["page"]
    assert [g["spec"]["cceInstanceGroupID"] for g in everything["list"]] == groups
    second = v2.ok(v2("GET", path, {"pageNo": "2", "pageSize": "2"}))["page"]
    assert (second["pageNo"], second["pageSize"], second["totalCount"]) == (2, 2, 3)
    assert [g["spec"]["cceInstanceGroupID"] for g in second["list"]] == groups[2:]
    path = f"/cluster/{cluster_id}/instancegroup/{groups[0]}/instances"
    first = v2.ok(v2("GET", path, {"pageNo": "1", "pageSize": "1"}))["page"]
    assert (len(first["list"]), first["totalCount"]) == (1, 2)
    v2_error(v2("GET", path, {"pageNo": "x"}), INVALID, 400)


# -- validation and not-found ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        with_cluster(clusterName=""),
        with_cluster(clusterName="no spaces allowed"),
        with_cluster(k8sVersion="1.99.0"),
        with_cluster(vpcID=None),
        with_cluster(masterConfig=None),
        with_cluster(masterConfig__masterType="virtual"),
        with_cluster(masterConfig__clusterHA=4),
        with_cluster(containerNetworkConfig__mode="flannel"),
        with_cluster(containerNetworkConfig__lbServiceVPCSubnetID=None),
        with_cluster(containerNetworkConfig__clusterPodCIDR=None),
        with_cluster(containerNetworkConfig__clusterPodCIDR="172.31.0.0/17"),
        with_cluster(containerNetworkConfig__clusterIPServiceCIDR="10.0.0.1/16"),
        with_cluster(forbidDelete="yes"),
        with_cluster(masterConfig__masterType="custom"),
        b'{"options":{}}',
    ],
    ids=lambda b: b.decode()[-60:],
)
def test_create_cluster_refuses_invalid_specs(v2: V2, body: bytes) -> None:
    v2_error(v2("POST", "/cluster", body=body), INVALID, 400)
    assert v2.ok(v2("GET", "/clusters"))["clusterPage"]["totalCount"] == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b""])
def test_malformed_json(v2: V2, body: bytes) -> None:
    v2_error(v2("POST", "/cluster", body=body), "cce.warning.MalformedJSON", 400)


def test_keys_and_enums_match_case_insensitively_like_go(v2: V2) -> None:
    body = SDK_CREATE_CLUSTER.replace(b'"clusterName"', b'"ClusterName"').replace(
        b'"managedPro"', b'"MANAGEDPRO"'
    )
    spec = v2.cluster(v2.create_cluster(body))["spec"]
    assert (spec["clusterName"], spec["masterConfig"]["masterType"]) == ("c1", "managedPro")


@pytest.mark.parametrize(
    "changes",
    [
        {"instanceGroupName": ""},
        {"replicas": -1},
        {"replicas": None},
        {"clusterRole": "master"},
        {"cleanPolicy": "Shred"},
        {"instanceTemplate": None},
        {"clusterID": "cce-someother"},
    ],
    ids=str,
)
def test_create_group_refuses_invalid_specs(v2: V2, changes: dict[str, Any]) -> None:
    cluster_id = v2.create_cluster()
    body = json.loads(SDK_CREATE_GROUP)
    for key, value in changes.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    path = f"/cluster/{cluster_id}/instancegroup"
    v2_error(v2("POST", path, body=json.dumps(body).encode()), INVALID, 400)


def test_template_checks(v2: V2) -> None:
    cluster_id = v2.create_cluster()
    body = json.loads(SDK_CREATE_GROUP)
    body["instanceTemplate"]["adminPassword"] = "short"
    path = f"/cluster/{cluster_id}/instancegroup"
    v2_error(v2("POST", path, body=json.dumps(body).encode()), INVALID, 400)
    body["instanceTemplate"]["adminPassword"] = "Good1pass!"
    group_id = v2.create_group(cluster_id, json.dumps(body).encode())
    template = v2.group(cluster_id, group_id)["spec"]["instanceTemplate"]
    assert "adminPassword" not in template  # never echoed
    del body["instanceTemplate"]["vpcConfig"]["vpcSubnetID"]
    v2_error(v2("POST", path, body=json.dumps(body).encode()), INVALID, 400)


def test_not_found_codes(v2: V2) -> None:
    cluster_id, other = v2.create_cluster(), v2.create_cluster()
    group_id = v2.create_group(cluster_id)
    v2_error(v2("GET", "/cluster/cce-unknown0"), "cce.warning.ClusterNotFound", 404)
    v2_error(v2("GET", "/cluster/cce-unknown0/instancegroups"), "cce.warning.ClusterNotFound", 404)
    for path in (
        f"/cluster/{cluster_id}/instancegroup/cce-ig-unknown0",
        f"/cluster/{other}/instancegroup/{group_id}",  # a group of another cluster
    ):
        v2_error(v2("GET", path), "cce.warning.NoSuchObject", 404)


def test_kubeconfig_rules(v2: V2, emulator: EmulatorHandle) -> None:
    cluster_id = v2.create_cluster()
    v2_error(v2("GET", f"/kubeconfig/{cluster_id}/public"), INVALID, 400)  # no EIP
    v2_error(v2("GET", f"/kubeconfig/{cluster_id}/admin"), INVALID, 400)
    exposed = v2.create_cluster(with_cluster(masterConfig__exposedPublic=True))
    eip = v2.cluster(exposed)["status"]["clusterBLB"]["eip"]
    assert eip and eip in v2.ok(v2("GET", f"/kubeconfig/{exposed}/public"))["kubeConfig"]
    emulator.set_faults(cluster_create_seconds=30)
    pending = v2.create_cluster()
    v2_error(v2("GET", f"/kubeconfig/{pending}/vpc"), "cce.warning.OperationNotAllowed", 403)


# -- signatures and faults ------------------------------------------------------------------


def test_unsigned_and_tampered_requests_are_refused(v2: V2, emulator: EmulatorHandle) -> None:
    unsigned = requests.get(emulator.url + PREFIX + "/clusters", timeout=10)
    assert_error(unsigned, "InvalidHTTPAuthHeader")
    good = v2("GET", "/clusters", {"pageNo": "1", "pageSize": "10"})
    forged = requests.get(
        emulator.url + PREFIX + "/clusters?pageNo=2&pageSize=10",
        headers={k: v for k, v in good.request.headers.items() if k != "Content-Length"},
        timeout=10,
    )
    assert_error(forged, "SignatureDoesNotMatch")


def test_an_injected_error_creates_nothing(v2: V2, emulator: EmulatorHandle) -> None:
    emulator.set_faults(fail_next=["InternalError"])
    assert_error(v2("POST", "/cluster", body=SDK_CREATE_CLUSTER), "InternalError")
    assert v2.ok(v2("GET", "/clusters"))["clusterPage"]["totalCount"] == 0


def test_a_dropped_answer_still_commits(v2: V2, emulator: EmulatorHandle) -> None:
    emulator.set_faults(fail_next=["drop"])
    with pytest.raises(requests.ConnectionError):
        v2("POST", "/cluster", body=SDK_CREATE_CLUSTER)
    assert v2.ok(v2("GET", "/clusters"))["clusterPage"]["totalCount"] == 1
    assert emulator.requests_log()[0]["fault"] == "drop"


def test_read_faults_hit_v2_reads(v2: V2, emulator: EmulatorHandle) -> None:
    emulator.set_faults(fail_next_any=["ServiceUnavailable"])
    assert_error(v2("GET", "/clusters"), "ServiceUnavailable")
    v2.ok(v2("GET", "/clusters"))


# -- persistence ----------------------------------------------------------------------------


def test_v2_state_survives_a_restart(tmp_path: Path) -> None:
    options = EmulatorOptions(port=0, db_path=str(tmp_path / "v2.db"), cluster_create_seconds=30)
    with start_emulator(options) as running:
        handle = EmulatorHandle(running)
        v2 = V2(handle)
        cluster_id = v2.create_cluster()
        handle.advance(30)
        group_id = v2.create_group(cluster_id)
        handle.advance(10)
        before = handle.state()["ccev2"]
    with start_emulator(options) as running:
        handle = EmulatorHandle(running)
        v2 = V2(handle)
        assert handle.state()["ccev2"] == before
        group = v2.group(cluster_id, group_id)
        assert (group["spec"]["replicas"], group["status"]["readyReplicas"]) == (2, 0)
        handle.advance(20)
        assert v2.group(cluster_id, group_id)["status"]["readyReplicas"] == 2
        handle.reset()
        assert handle.state()["ccev2"] == {
            "clusters": [],
            "instanceGroups": [],
            "instances": [],
            "addons": [],
            "workflows": [],
            "autoscalers": [],
        }
