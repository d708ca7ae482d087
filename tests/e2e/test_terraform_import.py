"""Coming from Terraform: `import-terraform` on a state file built from the baiducloud
provider's documented schema, against the emulator seeded with the same objects; then adoption
by the ids Terraform recorded with no mutating request, and an empty plan."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient

from . import terraform_states as tf
from .conftest import Workspace

V1_PASSWORD = "V1-Passw0rd"  # what the provider stores in clear for baiducloud_cce_cluster
NODE_PASSWORD = "NodePassw0rd!"
CLUSTER_PASSWORD = "ClusterPassw0rd1"


def client_of(ws: Workspace) -> CceClient:
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    return CceClient.connect(ws.emulator.url, creds)


def seeded_state(ws: Workspace, version: str, **cluster_changes: Any) -> dict[str, Any]:
    """The objects made in the emulator and the Terraform state that records them: a module
    with a cluster and counted and for_each instance groups, a v1 cluster at the root with its
    worker password in clear, a kubeconfig data source, a tainted cluster, a deposed group and
    two unsupported types."""
    cluster = tf.k8s_cluster("prod-a", deleteResource=False)
    if version == tf.HEAD:
        cluster["tags"] = {"env": "prod"}
    groups = {key: tf.instance_group(name) for key, name in ((0, "workers-0"), (1, "workers-1"))}
    batch = tf.instance_group("batch", replicas=2, machineSpec="bcc.g5.c8m16", cpu=8, memory=16)
    legacy = tf.v1_cluster("legacy-v1")
    with client_of(ws) as client:
        cluster_id = tf.seed_k8s_cluster(client, cluster)
        group_ids = {
            key: tf.seed_instance_group(client, cluster_id, g) for key, g in groups.items()
        }
        batch_id = tf.seed_instance_group(client, cluster_id, batch)
        legacy_id = tf.seed_v1_cluster(client, legacy)
    recorded = {**cluster, **cluster_changes}
    sensitive = [tf.ADMIN_PASSWORD_PATH] if version == tf.HEAD else []
    depends = ["module.cce.baiducloud_ccev2_cluster.this"]

    def group(group_id: str, attrs: dict[str, Any], key: int | str, **kw: Any) -> dict[str, Any]:
        attributes = tf.ccev2_instance_group(group_id, cluster_id, attrs, version)
        return tf.instance(attributes, key, sensitive=sensitive, dependencies=depends, **kw)

    workers = [group(group_ids[k], groups[k], k) for k in (0, 1)]
    workers.append(group("cce-ig-0ld0ld00", groups[0], 0, deposed="8f5206d5"))
    broken = tf.k8s_cluster("broken", podCIDR="172.29.0.0/16")
    resources = [
        tf.resource(
            "baiducloud_ccev2_cluster",
            "this",
            [tf.instance(tf.ccev2_cluster(cluster_id, recorded, version))],
            module="module.cce",
        ),
        tf.resource("baiducloud_ccev2_instance_group", "workers", workers, module="module.cce"),
        tf.resource(
            "baiducloud_ccev2_instance_group",
            "pool",
            [group(batch_id, batch, "batch")],
            module="module.cce",
        ),
        tf.resource(
            "baiducloud_cce_kubeconfig",
            "legacy",
            [tf.instance(tf.kubeconfig_data_source(legacy_id), data_source=True)],
            module="module.cce",
            mode="data",
        ),
        tf.resource(
            "baiducloud_cce_cluster",
            "legacy",
            [tf.instance(tf.cce_cluster(legacy_id, legacy, version, admin_pass=V1_PASSWORD))],
        ),
        tf.resource(
            "baiducloud_ccev2_cluster",
            "broken",
            [tf.instance(tf.ccev2_cluster("cce-br0ken00", broken, version), status="tainted")],
        ),
        tf.resource("baiducloud_vpc", "main", [tf.instance({"id": "vpc-2pa2x0bjt26i"})]),
        tf.resource(
            "terraform_data",
            "marker",
            [tf.instance({"id": "9553f2fa", "input": None, "output": None})],
            provider='provider["terraform.io/builtin/terraform"]',
        ),
    ]
    return tf.state(resources)


def write_state(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "terraform.tfstate"
    path.write_text(tf.dumps(document))
    return path


CONVERTED = {
    "module.cce.baiducloud_ccev2_cluster.this": "k8s_cluster.prod-a",
    "module.cce.baiducloud_ccev2_instance_group.workers[0]": "instance_group.prod-a/workers-0",
    "module.cce.baiducloud_ccev2_instance_group.workers[1]": "instance_group.prod-a/workers-1",
    'module.cce.baiducloud_ccev2_instance_group.pool["batch"]': "instance_group.prod-a/batch",
    "baiducloud_cce_cluster.legacy": "cluster.legacy-v1",
}


@pytest.fixture
def passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NODE_ADMIN_PASSWORD", NODE_PASSWORD)
    monkeypatch.setenv("CLUSTER_ADMIN_PASSWORD", CLUSTER_PASSWORD)


@pytest.mark.parametrize("version", [tf.HEAD, tf.EARLY])
def test_convert_then_adopt_by_id_with_no_mutating_request(
    ws: Workspace, tmp_path: Path, passwords: None, version: str
) -> None:
    document = seeded_state(ws, version)
    source = write_state(tmp_path, document)
    out = ws.root / "infra"
    result = ws.cli(
        "import-terraform", str(source), "--out", str(out), "--endpoint", ws.emulator.url
    )
    assert result.code == 0, result.err
    assert sorted(p.name for p in out.iterdir()) == [
        "clusters.yaml",
        "imports.yaml",
        "instance_groups.yaml",
        "k8s_clusters.yaml",
        "target.yaml",
    ]
    written = "".join(p.read_text() for p in out.iterdir())
    for secret in (V1_PASSWORD, "S3CRET-KEY"):
        assert secret not in written + result.out + result.err
    for address, ours in CONVERTED.items():
        assert f"  {address} -> {ours} (id " in result.out

    skipped = result.out.split("Not converted (5):\n")[1].split("\n\n")[0]
    reasons = dict(line.strip().split(": ", 1) for line in skipped.splitlines())
    assert reasons.keys() == {
        "module.cce.data.baiducloud_cce_kubeconfig.legacy",
        "baiducloud_ccev2_cluster.broken",
        "module.cce.baiducloud_ccev2_instance_group.workers[0] (deposed object 8f5206d5)",
        "baiducloud_vpc.main",
        "terraform_data.marker",
    }
    assert reasons["module.cce.data.baiducloud_cce_kubeconfig.legacy"].startswith("a data source")
    assert reasons["baiducloud_ccev2_cluster.broken"].startswith("tainted in Terraform")
    assert (
        "create_before_destroy"
        in reasons[
            "module.cce.baiducloud_ccev2_instance_group.workers[0] (deposed object 8f5206d5)"
        ]
    )
    assert reasons["baiducloud_vpc.main"].startswith("unsupported type baiducloud_vpc")

    assert (
        "workers.adminPassword: {env: CLUSTER_ADMIN_PASSWORD} (Terraform keeps it in clear at worker_config.0.admin_pass"
        in result.out
    )
    # Terraform holds no instance-group password (the provider echoes ""): the optional
    # adminPassword is left out rather than given a placeholder that must be set
    assert "Set before planning: CLUSTER_ADMIN_PASSWORD." in result.out
    groups = yaml.safe_load((out / "instance_groups.yaml").read_text())["instance_groups"]
    assert groups and all("adminPassword" not in group for group in groups)
    handover = [line.strip() for line in result.out.splitlines() if "terraform state rm" in line]
    assert sorted(handover) == sorted(
        f"terraform state rm {address}" if "[" not in address else f"terraform state rm '{address}'"
        for address in CONVERTED
    )
    clusters = yaml.safe_load((out / "clusters.yaml").read_text())["clusters"]
    assert clusters[0]["workers"]["adminPassword"] == {"env": "CLUSTER_ADMIN_PASSWORD"}
    (k8s,) = yaml.safe_load((out / "k8s_clusters.yaml").read_text())["k8s_clusters"]
    assert k8s["deleteResource"] is False
    assert ("networkMode" in k8s) is (version == tf.EARLY)  # HEAD records vpc-eni: left out
    if version == tf.HEAD:
        assert 'networkMode: Terraform recorded "vpc-eni", which is not valid here' in result.out

    assert ws.cli("validate", str(out)).code == 0
    mark = ws.emulator.next_index()
    plan = ws.cli("plan", str(out), "--adopt", "--json")
    assert plan.code == 0, plan.err
    changes = {c["address"]: c for c in json.loads(plan.out)["changes"]}
    assert {a: c["action"] for a, c in changes.items()} == dict.fromkeys(
        CONVERTED.values(), "import"
    )
    ids = {i["to"]: i["id"] for i in yaml.safe_load((out / "imports.yaml").read_text())["imports"]}
    assert {a: c["cloud_id"] for a, c in changes.items()} == ids
    assert all(not c["fields"] for c in changes.values()), plan.out

    adopted = ws.cli("apply", str(out), "--adopt", "--auto-approve")
    assert adopted.code == 0, adopted.out + adopted.err
    assert "5 imported" in adopted.out
    assert ws.emulator.mutating_requests(since=mark) == []

    again = ws.cli("plan", str(out), "--detailed-exitcode")
    assert again.code == 0, again.out + again.err
    assert "No changes." in again.out and "Warning" not in again.out, again.out
    state = json.loads((out / ".reconciler" / "state.json").read_text())["resources"]
    assert {a: e["cloud_id"] for a, e in state.items()} == ids
    assert {e["ownership"] for e in state.values()} == {"adopted"}
    assert state["k8s_cluster.prod-a"]["applied"]["deleteResource"] is False
    assert V1_PASSWORD not in json.dumps(state)


def test_a_stale_record_is_shown_and_the_cloud_kept(
    ws: Workspace, tmp_path: Path, passwords: None
) -> None:
    """The provider never refreshes cluster_spec: Terraform may record a version the cluster no
    longer runs. Adopting keeps the cloud as it is and says what to declare."""
    source = write_state(tmp_path, seeded_state(ws, tf.EARLY, k8sVersion="1.26.9"))
    out = ws.root / "infra"
    result = ws.cli(
        "import-terraform", str(source), "--out", str(out), "--endpoint", ws.emulator.url
    )
    assert result.code == 0, result.err

    plan = ws.cli("plan", str(out))  # imports adopt without --adopt, as Terraform's do
    assert plan.code == 0, plan.out + plan.err
    assert "<= k8s_cluster.prod-a will be imported" in plan.out
    assert "the cloud differs from the configuration in k8sVersion" in plan.out
    assert 'k8sVersion: "1.28.8" -> "1.26.9"' in plan.out
    assert 'to keep the cloud as it is, declare k8sVersion: "1.28.8"' in plan.out

    mark = ws.emulator.next_index()
    assert ws.cli("apply", str(out), "--auto-approve").code == 0
    assert ws.emulator.mutating_requests(since=mark) == []
    (cluster,) = ws.emulator.state()["ccev2"]["clusters"]
    assert cluster["spec"]["k8sVersion"] == "1.28.8"

    replace = ws.cli("plan", str(out))
    assert replace.code == 3, replace.out  # the stale value is a version change: refused
    assert "the v2 API cannot upgrade a cluster's Kubernetes version" in replace.out
    path = out / "k8s_clusters.yaml"
    path.write_text(path.read_text().replace("k8sVersion: 1.26.9", "k8sVersion: 1.28.8"))
    assert "No changes." in ws.cli("plan", str(out)).out


def test_reads_terraform_state_pull_from_stdin(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pulled = tf.dumps(seeded_state(ws, tf.HEAD)) + "\n"  # state pull adds one more newline
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(pulled.encode())))
    result = ws.cli("import-terraform", "-", "--region", "bj")
    assert result.code == 0, result.err
    assert "# --- k8s_clusters.yaml\n" in result.out and "# --- imports.yaml\n" in result.out
    assert "Converted 5 of 10 resource instance(s) of <stdin>" in result.err
    assert "Converted" not in result.out  # stdout is only the YAML
    assert "target:\n  region: bj\n" in result.out
    # the files say what the report's next step says: imports.yaml adopts without --adopt
    assert "  reconciler apply DIR     # adopts them by id" in result.err
    assert "adopt it with `reconciler apply` (imports.yaml names each object's id)" in result.out
    assert "--adopt" not in result.out


def test_imports_that_cannot_be_adopted_are_conflicts(ws: Workspace) -> None:
    with client_of(ws) as client:
        cluster_id = tf.seed_k8s_cluster(client, tf.k8s_cluster("prod-a"))
    entry = (
        '  - name: {name}\n    k8sVersion: "1.28.8"\n    vpcID: vpc-2pa2x0bjt26i\n'
        "    masterType: managed\n    lbServiceVPCSubnetID: sbn-mnbvhnuupv1u\n"
    )
    body = "k8s_clusters:\n" + entry.format(name="prod-a") + entry.format(name="prod-b")
    body += "imports:\n  - to: k8s_cluster.prod-a\n    id: cce-n0there0\n"
    body += f"  - to: k8s_cluster.prod-b\n    id: {cluster_id}\n"
    ws.write(body)
    mark = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root), "--adopt")
    assert plan.code == 3, plan.out + plan.err
    assert "k8s_cluster.prod-a: cannot import: no k8s_cluster with id cce-n0there0" in plan.out
    assert (
        f"k8s_cluster.prod-b: cannot import: {cluster_id} is k8s_cluster.prod-a in the cloud; "
        "declare it under that name"
    ) in plan.out
    assert ws.cli("apply", str(ws.root), "--adopt", "--auto-approve").code == 3
    assert ws.emulator.mutating_requests(since=mark) == []


def test_refuses_to_overwrite_files_in_out_without_force(ws: Workspace, tmp_path: Path) -> None:
    tfstate = tmp_path / "terraform.tfstate"
    tfstate.write_text(tf.dumps(seeded_state(ws, tf.HEAD)))
    out = tmp_path / "infra"
    out.mkdir()
    mine = "# my own target\ntarget: {region: gz}\n"
    (out / "target.yaml").write_text(mine)
    refused = ws.cli("import-terraform", str(tfstate), "--out", str(out), "--region", "bj")
    assert refused.code == 1, refused.out + refused.err
    assert f"{out}: would overwrite target.yaml; nothing written" in refused.err
    assert "--force" in refused.err
    assert sorted(p.name for p in out.iterdir()) == ["target.yaml"]
    assert (out / "target.yaml").read_text() == mine
    forced = ws.cli(
        "import-terraform", str(tfstate), "--out", str(out), "--region", "bj", "--force"
    )
    assert forced.code == 0, forced.err
    assert yaml.safe_load((out / "target.yaml").read_text()) == {"target": {"region": "bj"}}
