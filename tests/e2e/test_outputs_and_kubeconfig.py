"""`reconciler output` and `reconciler kubeconfig` after a real apply against the emulator:
what a bootstrap script chains once the cloud matches the configuration."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.kinds import kind_named
from reconciler.kinds import names as kind_names
from reconciler.kinds.base import v2_client
from reconciler.kinds.k8s_cluster import create_request
from reconciler.model import Address
from reconciler.state import ResourceState, State
from reconciler.state.local import LocalStateStore

from .conftest import BASE, Result, Workspace


def applied(ws: Workspace) -> dict[str, dict[str, object]]:
    """Apply the e2e BASE config; return the state's resources."""
    ws.write(BASE)
    result = ws.cli("apply", str(ws.root), "--auto-approve")
    assert result.code == 0, result.out + result.err
    resources: dict[str, dict[str, object]] = json.loads(ws.state_file().read_text())["resources"]
    return resources


def run(ws: Workspace, *args: str) -> Result:
    return ws.cli(*args, "-c", str(ws.root))


def cluster_nodes(ws: Workspace, cluster_id: str) -> list[str]:
    (cluster,) = [c for c in ws.emulator.state()["clusters"] if c["clusterUuid"] == cluster_id]
    return sorted(n["instanceShortId"] for n in cluster["instanceList"])


# --- output ----------------------------------------------------------------------------------


def test_output_table_lists_every_managed_address(ws: Workspace) -> None:
    resources = applied(ws)
    result = run(ws, "output")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["ADDRESS", "ID", "STATUS", "DETAILS"]
    assert [line.split()[0] for line in lines[1:]] == [
        "user.ccetest",
        "namespace.team-a",
        "namespace.team-b",
        "repository.team-a/api",
        "repository.team-a/worker",
        "repository.team-b/web",
        "cluster.prod",
    ]
    cluster_line = lines[-1].split(maxsplit=3)
    assert cluster_line[1:3] == [resources["cluster.prod"]["cloud_id"], "RUNNING"]
    assert "2 workers" in cluster_line[3]
    assert lines[1].split()[1:3] == ["ccetest", "-"]
    assert "pbkdf2" not in result.out


def test_output_json_is_keyed_by_address_with_state_and_live_fields(ws: Workspace) -> None:
    resources = applied(ws)
    result = run(ws, "output", "--json")
    assert result.code == 0, result.err
    assert "pbkdf2" not in result.out and "secret_hashes" not in result.out
    found = json.loads(result.out)
    assert list(found) == [
        "user.ccetest",
        "namespace.team-a",
        "namespace.team-b",
        "repository.team-a/api",
        "repository.team-a/worker",
        "repository.team-b/web",
        "cluster.prod",
    ]
    assert found["user.ccetest"] == {
        "id": "ccetest",
        "kind": "user",
        "ownership": "created",
        "protected": False,
        "tainted": False,
        "username": "ccetest",
    }
    assert found["namespace.team-b"]["id"] == "team-b" and found["namespace.team-b"]["public"]
    assert found["repository.team-a/api"]["id"] == "team-a/api"
    assert found["repository.team-a/api"]["tags"] == ["latest", "v1"]
    cluster = found["cluster.prod"]
    cluster_id = resources["cluster.prod"]["cloud_id"]
    assert cluster["id"] == cluster_id and cluster["workers"]["count"] == 2
    assert cluster["status"] == "RUNNING"
    assert cluster["workerCount"] == 2 and isinstance(cluster["masterCount"], int)
    assert sorted(cluster["nodeIds"]) == cluster_nodes(ws, str(cluster_id))


def test_output_of_one_address_and_one_field(ws: Workspace) -> None:
    resources = applied(ws)
    cluster_id = str(resources["cluster.prod"]["cloud_id"])

    result = run(ws, "output", "cluster.prod")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert f'id = "{cluster_id}"' in lines
    assert "workers.count = 2" in lines and 'status = "RUNNING"' in lines

    as_json = json.loads(run(ws, "output", "repository.team-a/api", "--json").out)
    assert as_json["tags"] == ["latest", "v1"] and as_json["description"] == "payment API"
    assert run(ws, "output", "repository.team-a/api", "tags").out == '["latest", "v1"]\n'
    assert run(ws, "output", "cluster.prod", "id").out == f'"{cluster_id}"\n'
    assert run(ws, "output", "cluster.prod", "workers.count", "--raw").out == "2"


def test_output_raw_state_field_prints_the_bare_id_without_reading_the_cloud(
    ws: Workspace,
) -> None:
    resources = applied(ws)
    since = ws.emulator.next_index()
    result = run(ws, "output", "cluster.prod", "id", "--raw")
    assert result.code == 0, result.err
    assert result.out == resources["cluster.prod"]["cloud_id"]  # no quotes, no newline
    assert ws.emulator.requests_log(since) == []


def test_output_live_field_takes_one_cluster_read(ws: Workspace) -> None:
    resources = applied(ws)
    cluster_id = resources["cluster.prod"]["cloud_id"]
    since = ws.emulator.next_index()
    result = run(ws, "output", "cluster.prod", "status", "--raw")
    assert result.code == 0, result.err
    assert result.out == "RUNNING"
    sent = [(e["method"], e["path"]) for e in ws.emulator.requests_log(since)]
    assert sent == [("GET", f"/v1/cluster/{cluster_id}"), ("GET", "/v1/node")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("cluster.nope",),
            "error: cluster.nope is not in state (",
        ),
        (
            ("cluster.prod", "bogus"),
            "error: cluster.prod has no output 'bogus'; its outputs: id, kind, ownership,",
        ),
        (("cluster.prod", "nodeIds", "--raw"), "--raw prints only a string, number or boolean"),
        (("cluster.prod", "--raw"), "--raw prints one value: give ADDR and FIELD"),
        (("cluster.prod", "id", "--raw", "--json"), "--raw and --json cannot be used together"),
        (("nope.prod",), "'nope.prod' is not an address"),
    ],
)
def test_output_errors_exit_1_with_a_clear_message(
    ws: Workspace, args: tuple[str, ...], message: str
) -> None:
    applied(ws)
    result = run(ws, "output", *args)
    assert result.code == 1
    assert message in result.err
    assert result.out == ""


def test_output_unknown_address_lists_the_managed_ones(ws: Workspace) -> None:
    applied(ws)
    result = run(ws, "output", "cluster.nope", "id")
    assert result.code == 1
    assert "managed addresses: user.ccetest, namespace.team-a," in result.err
    assert "cluster.prod" in result.err
    unknown = run(ws, "output", "cluster.prod", "bogus").err
    assert "workers.count" in unknown and "nodeIds" in unknown and "status" in unknown


# --- kubeconfig ------------------------------------------------------------------------------


def test_kubeconfig_writes_a_private_file_and_prints_only_its_path(ws: Workspace) -> None:
    resources = applied(ws)
    result = run(ws, "kubeconfig", "cluster.prod")
    assert result.code == 0, result.err
    path = Path(result.out.strip())
    assert result.out == f"{path}\n"
    assert path == ws.root / ".reconciler" / "kubeconfig" / "cluster.prod.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    assert config["apiVersion"] == "v1" and config["kind"] == "Config"
    for section in ("clusters", "contexts", "users"):
        assert isinstance(config[section], list) and config[section]
    assert config["current-context"] in [c["name"] for c in config["contexts"]]
    token = config["users"][0]["user"]["token"]
    assert token not in result.out and token not in result.err
    assert token not in ws.state_file().read_text()
    assert config["clusters"][0]["name"] == resources["cluster.prod"]["cloud_id"]


def test_kubeconfig_replaces_a_looser_file_with_a_0600_one(ws: Workspace) -> None:
    applied(ws)
    target = ws.root / ".kube" / "prod.yaml"  # hidden: never read as configuration
    target.parent.mkdir()
    target.write_text("old")
    os.chmod(target, 0o644)
    result = run(ws, "kubeconfig", "cluster.prod", "--out", str(target), "--type", "intraVpc")
    assert result.code == 0, result.err
    assert result.out == f"{target}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    server = yaml.safe_load(target.read_text())["clusters"][0]["cluster"]["server"]
    assert server == "https://192.168.0.10:6443"  # the emulator's intraVpc address
    assert [p.name for p in target.parent.iterdir()] == ["prod.yaml"]  # no temporary left


def test_kubeconfig_written_into_the_config_folder_is_warned_about_and_skipped(
    ws: Workspace,
) -> None:
    applied(ws)
    result = run(ws, "kubeconfig", "cluster.prod", "--out", str(ws.root / "kubeconfig.yaml"))
    assert result.code == 0, result.err
    assert result.out == f"{ws.root / 'kubeconfig.yaml'}\n"
    assert "plan recognises it as a kubeconfig and skips it" in result.err
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # not `user is missing required key "username"`
    assert f"{ws.root / 'kubeconfig.yaml'}:1:1: warning: not read as configuration" in plan.err
    (ws.root / ".reconcilerignore").write_text("kubeconfig.yaml\n")
    quiet = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert (quiet.code, quiet.err) == (0, ""), quiet.err


def test_kubeconfig_types_map_to_the_v1_api(ws: Workspace) -> None:
    applied(ws)
    since = ws.emulator.next_index()
    for kind in ("public", "internal", "intraVpc", "vpc"):
        assert run(ws, "kubeconfig", "cluster.prod", "--type", kind).code == 0
    sent = [e["query"] for e in ws.emulator.requests_log(since) if "kubeconfig" in e["path"]]
    assert [q.get("type") for q in sent] == ["default", "internal", "intraVpc", "intraVpc"]


def test_kubeconfig_out_dash_prints_the_kubeconfig(ws: Workspace) -> None:
    applied(ws)
    result = run(ws, "kubeconfig", "cluster.prod", "--out", "-")
    assert result.code == 0, result.err
    assert yaml.safe_load(result.out)["kind"] == "Config"
    assert not (ws.root / ".reconciler" / "kubeconfig").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("namespace.team-a",),
            "error: namespace.team-a is a namespace, not a cluster: a kubeconfig exists only for "
            "cluster.NAME and k8s_cluster.NAME",
        ),
        (("cluster.nope",), "error: cluster.nope is not in state ("),
        (("cluster.prod", "--type", "eip"), "Invalid value for '--type': 'eip' is not one of"),
    ],
)
def test_kubeconfig_errors_exit_1_with_a_clear_message(
    ws: Workspace, args: tuple[str, ...], message: str
) -> None:
    applied(ws)
    result = run(ws, "kubeconfig", *args)
    assert result.code == 1
    assert message in result.err
    assert result.out == ""
    assert not (ws.root / ".reconciler" / "kubeconfig").exists()


def test_kubeconfig_of_a_cluster_still_creating(ws: Workspace) -> None:
    ws.emulator.set_faults(cluster_create_seconds=3600)
    ws.write(BASE)
    timed_out = ws.cli("apply", str(ws.root), "--auto-approve", "--timeout", "cluster=1s")
    assert timed_out.code == 1

    pending = run(ws, "kubeconfig", "cluster.prod")
    assert pending.code == 1
    assert "cluster.prod is not in state" in pending.err and "pending" in pending.err

    # the rerun takes the cluster into state and waits for it again (here: 1 s, then gives up)
    recovered = ws.cli("apply", str(ws.root), "--auto-approve", "--timeout", "cluster=1s")
    assert "was created by an interrupted run; now in state" in recovered.out
    assert "still coming up (status CREATING)" in recovered.out
    assert recovered.code == 1 and "timed out" in recovered.out
    creating = run(ws, "kubeconfig", "cluster.prod")
    assert creating.code == 1
    assert "is CREATING, not RUNNING: its kubeconfig can be fetched once it runs" in creating.err
    assert run(ws, "output", "cluster.prod", "status", "--raw").out == "CREATING"
    assert not (ws.root / ".reconciler" / "kubeconfig").exists()

    ws.emulator.advance(3600)
    done = run(ws, "kubeconfig", "cluster.prod")
    assert done.code == 0, done.err
    assert stat.S_IMODE(Path(done.out.strip()).stat().st_mode) == 0o600


def test_k8s_cluster_output_and_kubeconfig(ws: Workspace) -> None:
    """A v2 cluster (the YAML cannot declare one yet: created through the v2 client and put
    in state by hand) through the same two commands."""
    ws.write("")
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    kind = kind_named("k8s_cluster")
    spec = kind.build_spec(
        {"name": "prod", "k8sVersion": "1.28.8", "vpcID": "vpc-1", "lbServiceVPCSubnetID": "sbn-lb"}
    )
    attrs = dict(kind.desired_attrs(spec))
    with CceClient.connect(ws.emulator.url, creds) as client:
        cluster_id = v2_client(client).create_cluster(create_request(attrs)).cluster_id
    entry = ResourceState(kind="k8s_cluster", cloud_id=cluster_id, applied=attrs)
    ws.state_file().parent.mkdir()
    managed = {Address("k8s_cluster", "prod"): entry}
    LocalStateStore(ws.state_file(), kinds=kind_names()).write(
        State(resources=managed, target=ws.emulator.url)
    )

    assert run(ws, "output", "k8s_cluster.prod", "status", "--raw").out == "running"
    assert run(ws, "output", "k8s_cluster.prod", "id", "--raw").out == cluster_id
    result = run(ws, "kubeconfig", "k8s_cluster.prod")
    assert result.code == 0, result.err
    path = Path(result.out.strip())
    assert path == ws.root / ".reconciler" / "kubeconfig" / "k8s_cluster.prod.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text())["kind"] == "Config"
    last = ws.emulator.requests_log()[-1]["path"]
    assert last.endswith(f"/kubeconfig/{cluster_id}/vpc")
