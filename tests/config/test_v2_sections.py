"""The CCE v2 sections, ``k8s_clusters:`` and ``instance_groups:``: what they become, their
defaults, and that their keys, the schemas and the kinds' field tables agree.

The exact messages of invalid v2 files are in the corpus (``corpus/v2-*``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.config import config_digest, load_config, load_desired_state, schema_documents
from reconciler.config.fastpath import fast_check
from reconciler.config.yamlload import read_document
from reconciler.errors import ConfigError
from reconciler.kinds import kind_named
from reconciler.kinds import names as kind_names
from reconciler.model import Address, Lifecycle, SecretRef

REPO = Path(__file__).resolve().parents[2]
Write = Callable[[dict[str, str | bytes]], Path]

TARGET = "target:\n  endpoint: local\n"
CLUSTER = """k8s_clusters:
  - name: prod
    k8sVersion: "1.28.8"
    vpcID: vpc-a1b2c3d4e5f6
    lbServiceVPCSubnetID: sbn-lb
"""
GROUP = """instance_groups:
  - cluster: prod
    name: pool-a
    replicas: 2
    machineSpec: bcc.g5.c2m8
    cpu: 2
    memory: 8
    imageID: m-image
    vpcSubnetID: sbn-node
    securityGroupID: g-sg
"""
FULL = """k8s_clusters:
  - name: prod
    k8sVersion: "1.30.1"
    vpcID: vpc-a1b2c3d4e5f6
    masterType: managed
    clusterHA: 5
    masterVPCSubnetZone: zoneB
    runtimeType: docker
    runtimeVersion: "20.10.24"
    networkMode: kubenet
    podCIDR: 10.8.0.0/16
    serviceCIDR: 10.9.0.0/16
    lbServiceVPCSubnetID: sbn-lb
    kubeProxyMode: iptables
    description: production
    tags: {team: a, cost: "42"}
    forbidDelete: true
    clusterAutoscaler: {expander: least-waste, scaleDownEnabled: true, scaleDownUnneededTime: 10}
    deleteResource: false
    deleteCDSSnapshot: false
    lifecycle: {protect: true}
instance_groups:
  - cluster: prod
    name: pool-a
    replicas: 0
    machineType: BBC
    instanceType: N5
    machineSpec: bcc.c5.c8m16
    cpu: 8
    memory: 16
    rootDiskType: enhanced_ssd_pl1
    rootDiskSize: 100
    imageID: m-image
    vpcSubnetID: sbn-node
    securityGroupID: esg-sg
    adminPassword: {file: secrets/node.txt}
    labels: {team: a, tier: web}
    taints: [{key: dedicated, value: gpu, effect: NoSchedule}, {key: spot, effect: NoExecute}]
    annotations: {owner: shop}
    autoscaler: {enabled: false}
    kubeletVersion: "1.30.1"
    containerRuntimeVersion: "20.10.24"
    upgrade: {batchSize: 3, pausePolicy: FirstBatch}
    lifecycle: {protect: false}
"""
CLUSTER_ADDRESS = Address("k8s_cluster", "prod")
GROUP_ADDRESS = Address("instance_group", "prod/pool-a")


def diagnostics(root: Path) -> list[str]:
    """The messages, with paths relative to ``root``."""
    with pytest.raises(ConfigError) as failed:
        load_desired_state([str(root)])
    return [line.replace(f"{root}/", "") for line in failed.value.diagnostics]


def keys_of(kind: str) -> set[str]:
    """The YAML keys of a kind's field table."""
    return {f.key for f in kind_named(kind).fields}


def test_every_key_reaches_the_model(write_files: Write) -> None:
    state = load_desired_state([str(write_files({"a.yaml": TARGET + FULL}))])
    cluster = state.resources[CLUSTER_ADDRESS]
    assert dict(cluster.attrs) == {
        "name": "prod",
        "k8sVersion": "1.30.1",
        "vpcID": "vpc-a1b2c3d4e5f6",
        "masterType": "managed",
        "clusterHA": 5,
        "masterVPCSubnetZone": "zoneB",
        "runtimeType": "docker",
        "runtimeVersion": "20.10.24",
        "networkMode": "kubenet",
        "podCIDR": "10.8.0.0/16",
        "serviceCIDR": "10.9.0.0/16",
        "lbServiceVPCSubnetID": "sbn-lb",
        "kubeProxyMode": "iptables",
        "description": "production",
        "tags": {"team": "a", "cost": "42"},
        "forbidDelete": True,
        "clusterAutoscaler": {
            "enabled": True,
            "expander": "least-waste",
            "scaleDownEnabled": True,
            "scaleDownUnneededTime": 10,
            "skipNodesWithLocalStorage": True,
            "skipNodesWithSystemPods": True,
        },
        "deleteResource": False,
        "deleteCDSSnapshot": False,
    }
    assert cluster.lifecycle == Lifecycle(protect=True)
    group = state.resources[GROUP_ADDRESS]
    assert dict(group.attrs) == {
        "name": "pool-a",
        "replicas": 0,
        "machineType": "BBC",
        "instanceType": "N5",
        "machineSpec": "bcc.c5.c8m16",
        "cpu": 8,
        "memory": 16,
        "rootDiskType": "enhanced_ssd_pl1",
        "rootDiskSize": 100,
        "imageID": "m-image",
        "vpcSubnetID": "sbn-node",
        "securityGroupID": "esg-sg",
        "autoscaler": {"enabled": False, "priority": 0},
        "labels": ["team=a", "tier=web"],  # compared as key=value pairs
        "taints": [
            {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
            {"key": "spot", "value": "", "effect": "NoExecute"},
        ],
        "annotations": ["owner=shop"],
        "kubeletVersion": "1.30.1",
        "containerRuntimeVersion": "20.10.24",
        "upgrade": {"batchSize": 3, "pausePolicy": "FirstBatch", "drainNodes": True},
    }
    assert group.secrets == {"adminPassword": SecretRef(file="secrets/node.txt")}
    assert group.lifecycle == Lifecycle(protect=False)


def test_keys_left_out_take_the_kinds_defaults(write_files: Write) -> None:
    state = load_desired_state([str(write_files({"a.yaml": TARGET + CLUSTER + GROUP}))])
    assert dict(state.resources[CLUSTER_ADDRESS].attrs) == {
        "name": "prod",
        "k8sVersion": "1.28.8",
        "vpcID": "vpc-a1b2c3d4e5f6",
        "masterType": "managedPro",
        "clusterHA": 3,
        "runtimeType": "containerd",
        "networkMode": "vpc-secondary-ip-auto-detect",
        "serviceCIDR": "172.31.0.0/16",
        "lbServiceVPCSubnetID": "sbn-lb",
        "kubeProxyMode": "ipvs",
        "forbidDelete": False,
        "deleteResource": True,
        "deleteCDSSnapshot": True,
    }
    assert dict(state.resources[GROUP_ADDRESS].attrs) == {
        "name": "pool-a",
        "replicas": 2,
        "machineType": "BCC",
        "instanceType": "N3",
        "machineSpec": "bcc.g5.c2m8",
        "cpu": 2,
        "memory": 8,
        "rootDiskType": "cloud_hp1",
        "rootDiskSize": 40,
        "imageID": "m-image",
        "vpcSubnetID": "sbn-node",
        "securityGroupID": "g-sg",
    }
    assert (
        state.counts(kind_names())["k8s_cluster"] == 1
        and state.counts(kind_names())["instance_group"] == 1
    )


@pytest.mark.parametrize(
    ("schema", "kind"),
    [("k8s-cluster.schema.json", "k8s_cluster"), ("instance-group.schema.json", "instance_group")],
)
def test_every_key_of_the_schema_is_a_field_of_the_kind(schema: str, kind: str) -> None:
    keys = set(schema_documents()[schema]["properties"]) - {"lifecycle"}
    assert keys == keys_of(kind)


@pytest.mark.parametrize(
    ("schema", "kind"),
    [("k8s-cluster.schema.json", "k8s_cluster"), ("instance-group.schema.json", "instance_group")],
)
def test_the_defaults_the_schemas_document_are_the_kinds(schema: str, kind: str) -> None:
    documented = {
        key: prop["default"]
        for key, prop in schema_documents()[schema]["properties"].items()
        if "default" in prop
    }
    assert documented == {f.key: f.default for f in kind_named(kind).fields if f.has_default}


def test_the_yaml_keys_are_the_kinds_attribute_names(write_files: Write) -> None:
    """What a plan shows (and ``export`` would write) reads like the YAML."""
    state = load_desired_state([str(write_files({"a.yaml": TARGET + FULL}))])
    cluster_attrs = kind_named("k8s_cluster").desired_attrs(state.resources[CLUSTER_ADDRESS])
    assert set(cluster_attrs) == keys_of("k8s_cluster")
    group_attrs = kind_named("instance_group").desired_attrs(state.resources[GROUP_ADDRESS])
    # the cluster is in the address; the password is a secret, never an attribute
    assert set(group_attrs) == keys_of("instance_group") - {"cluster", "adminPassword"}


def test_variables_fill_v2_values_with_their_types(write_files: Write) -> None:
    variables = """variables:
  env: {type: string, default: dev}
  replicas: {type: integer, default: 3}
  tags: {type: map, default: {team: a}}
  release: {type: boolean, default: false}
"""
    body = (
        CLUSTER.replace("name: prod", "name: shop-${var.env}")
        + "    tags: ${var.tags}\n    deleteResource: ${var.release}\n"
        + GROUP.replace("cluster: prod", "cluster: shop-${var.env}").replace(
            "replicas: 2", "replicas: ${var.replicas}"
        )
    )
    root = write_files({"a.yaml": TARGET + variables + body})
    state = load_desired_state([str(root)])
    cluster = state.resources[Address("k8s_cluster", "shop-dev")].attrs
    assert dict(cluster["tags"]) == {"team": "a"} and cluster["deleteResource"] is False
    group = state.resources[Address("instance_group", "shop-dev/pool-a")]
    assert group.attrs["replicas"] == 3


def test_kubenet_without_pod_cidr_is_reported_with_the_entrys_other_mistakes(
    write_files: Write,
) -> None:
    body = CLUSTER + "    networkMode: kubenet\n    podCidr: 10.0.0.0/16\n"
    found = diagnostics(write_files({"a.yaml": TARGET + body}))
    assert [line.split(": error: ")[1] for line in found] == [
        'k8s_cluster "prod" needs "podCIDR": networkMode kubenet takes the pod network from it',
        'unknown key "podCidr"; did you mean "podCIDR"?',
    ]


def test_cidrs_are_checked_even_when_the_entry_misses_a_key(write_files: Write) -> None:
    body = CLUSTER.replace("    vpcID: vpc-a1b2c3d4e5f6\n", "") + "    podCIDR: 10.0.0.1/16\n"
    found = diagnostics(write_files({"a.yaml": TARGET + body}))
    assert len(found) == 2 and "host bits are set; did you mean 10.0.0.0/16?" in found[1]


def test_a_cluster_declared_twice_does_not_overlap_itself(write_files: Write) -> None:
    body = CLUSTER + "    podCIDR: 10.0.0.0/16\n"
    root = write_files({"a.yaml": TARGET + body, "b.yaml": body})
    assert diagnostics(root) == [
        'b.yaml:2:5: error: k8s_cluster "prod" declared twice: also at a.yaml:4:5'
    ]


def test_pod_networks_of_v1_and_v2_clusters_are_separate_rules(write_files: Write) -> None:
    """A v2 pod network is compared with the v2 clusters' only; the v1 kind refuses its own
    overlaps at plan time."""
    v1 = """clusters:
  - name: legacy
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 10.0.0.0/16
    workers: {count: 1, instanceType: "10", cpu: 4, memory: 8, imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}
"""
    root = write_files({"a.yaml": TARGET + v1 + CLUSTER + "    podCIDR: 10.0.0.0/16\n"})
    assert load_desired_state([str(root)]).counts(kind_names())["k8s_cluster"] == 1


def test_a_broken_k8s_clusters_section_does_not_cascade_into_instance_groups(
    write_files: Write,
) -> None:
    root = write_files({"a.yaml": TARGET + "k8s_clusters: {name: prod}\n" + GROUP})
    assert diagnostics(root) == ["a.yaml:3:15: error: k8s_clusters must be a list, got a mapping"]


def test_digest_covers_the_values_of_v2_tags_not_their_order(write_files: Write) -> None:
    def digest(folder: str, tags: str) -> str:
        body = TARGET + CLUSTER + f"    tags: {tags}\n"
        loaded = load_config([str(write_files({f"{folder}/a.yaml": body}) / folder)])
        return config_digest(loaded.desired, loaded.target)

    base = digest("a", "{team: a, env: prod}")
    assert digest("b", "{env: prod, team: a}") == base
    assert digest("c", "{team: a, env: dev}") != base


def test_the_fast_path_accepts_the_v2_example() -> None:
    check = fast_check()
    assert check is not None
    for path in sorted((REPO / "examples" / "v2").glob("*.yaml")):
        document = read_document(str(path))
        assert check(document.data), path


def test_the_v2_example_is_valid_and_complete() -> None:
    result = load_config([str(REPO / "examples" / "v2")])
    assert result.warnings == ()
    counts = result.desired.counts(kind_names())
    assert (counts["k8s_cluster"], counts["instance_group"], counts["cluster"]) == (1, 2, 0)
    assert counts["addon"] == 2
    groups: list[Any] = result.desired.of_kind("instance_group")
    assert len({g.attrs["machineSpec"] for g in groups}) == 2
    # one pool with a fixed count and a node upgrade to make, one autoscaled
    assert {
        ("replicas" in g.attrs, g.attrs.get("autoscaler", {}).get("enabled")) for g in groups
    } == {
        (True, None),
        (False, True),
    }
    assert any("containerRuntimeVersion" in g.attrs for g in groups)
