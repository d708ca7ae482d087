"""``reconciler.outputs``: what a managed object exposes, and the kubeconfig of a running
cluster. The pure parts on values; the v2 cluster (``k8s_cluster``, not declarable in YAML yet)
against the real emulator through the v2 client, its clock moved by ``advance``."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from reconciler import outputs
from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.emulator.testing import EmulatorHandle
from reconciler.errors import ApiError, ReconcilerError, StateError, UsageError
from reconciler.kinds import kind_named
from reconciler.kinds.base import v2_client
from reconciler.kinds.k8s_cluster import create_request
from reconciler.model import Address
from reconciler.state import PendingIntent, ResourceState, State, hash_secret

CLUSTER = Address("cluster", "prod")
K8S = Address("k8s_cluster", "prod")
USER = Address("user", "ccetest")


def entry(kind: str, cloud_id: str, **applied: object) -> ResourceState:
    return ResourceState(kind=kind, cloud_id=cloud_id, applied=dict(applied))


# --- state outputs ---------------------------------------------------------------------------


def test_state_outputs_show_ids_and_applied_attributes_but_no_secret() -> None:
    user = ResourceState(
        kind="user",
        cloud_id="ccetest",
        ownership="adopted",
        secret_hashes={"password": hash_secret("s3cret")},
        applied={"username": "ccetest"},
    )
    assert outputs.state_outputs(user) == {
        "id": "ccetest",
        "kind": "user",
        "ownership": "adopted",
        "protected": False,
        "tainted": False,
        "username": "ccetest",
    }


def test_public_attrs_drop_anything_secret_even_nested() -> None:
    values = {
        "name": "prod",
        "workers": {"count": 2, "adminPassword": "x", "nested": {"clientSecret": "y"}},
        "apiToken": "z",
        "stale": hash_secret("s3cret"),
    }
    assert outputs.public_attrs(values) == {"name": "prod", "workers": {"count": 2, "nested": {}}}


def test_engine_fields_win_over_an_applied_attribute_of_the_same_name() -> None:
    values = outputs.state_outputs(entry("namespace", "team-a", id="other", name="team-a"))
    assert values["id"] == "team-a" and values["name"] == "team-a"


def test_field_names_list_state_paths_then_the_live_fields_without_reading() -> None:
    cluster = entry("cluster", "c-1", name="prod", workers={"count": 2, "cpu": 4})
    assert outputs.field_names(CLUSTER, cluster) == [
        *outputs.STATE_FIELDS,
        "name",
        "workers",
        "workers.count",
        "workers.cpu",
        "status",
        "masterCount",
        "workerCount",
        "nodeIds",
    ]
    group = entry("instance_group", "c-1/g-1", name="pool", replicas=2)
    assert outputs.field_names(Address("instance_group", "prod/pool"), group)[-2:] == [
        "name",
        "replicas",
    ]


def test_only_cluster_live_fields_need_a_read() -> None:
    assert outputs.reads_live(CLUSTER) and outputs.reads_live(K8S)
    assert outputs.reads_live(CLUSTER, "status") and outputs.reads_live(CLUSTER, "nodeIds")
    assert not outputs.reads_live(CLUSTER, "id") and not outputs.reads_live(
        CLUSTER, "workers.count"
    )
    assert not outputs.reads_live(USER) and not outputs.reads_live(USER, "status")
    assert not outputs.reads_live(Address("instance_group", "prod/pool"))


def test_outputs_without_a_client_are_the_state_alone() -> None:
    values, found = outputs.outputs_of(CLUSTER, entry("cluster", "c-1", name="prod"), None)
    assert found and "status" not in values and values["id"] == "c-1"


@pytest.mark.parametrize(
    ("field", "want"),
    [
        ("id", "c-1"),
        ("workers", {"count": 2}),
        ("workers.count", 2),
        ("tags.team.a", "x"),  # a key holding a dot
        ("advancedOptions.a.b", 1),
    ],
)
def test_lookup_takes_names_and_dotted_paths(field: str, want: object) -> None:
    values = {
        "id": "c-1",
        "workers": {"count": 2},
        "tags": {"team.a": "x"},
        "advancedOptions": {"a": {"b": 1}},
    }
    assert outputs.lookup(values, field) == want


@pytest.mark.parametrize("field", ["nope", "workers.nope", "id.x", "workers."])
def test_lookup_of_an_unknown_field_is_a_key_error(field: str) -> None:
    with pytest.raises(KeyError):
        outputs.lookup({"id": "c-1", "workers": {"count": 2}}, field)


def test_flatten_walks_nested_mappings_and_keeps_empty_ones_as_values() -> None:
    values = {"a": 1, "b": {"c": [1, 2], "d": {}}, "e": {}}
    assert list(outputs.flatten(values)) == [("a", 1), ("b.c", [1, 2]), ("b.d", {}), ("e", {})]
    assert [n for n, _ in outputs.flatten(values, leaves_only=False)] == [
        "a",
        "b",
        "b.c",
        "b.d",
        "e",
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("c-1", "c-1"),
        ('a "quoted"\nline', 'a "quoted"\nline'),
        (2, "2"),
        (True, "true"),
        (0.5, "0.5"),
    ],
)
def test_raw_text_is_the_bare_value(value: object, text: str) -> None:
    assert outputs.raw_text(value) == text


@pytest.mark.parametrize("value", [["i-1"], {"a": 1}, None])
def test_raw_text_refuses_what_is_not_a_scalar(value: object) -> None:
    with pytest.raises(UsageError, match="use --json"):
        outputs.raw_text(value)


def test_managed_entry_says_why_an_address_is_missing() -> None:
    state = State(resources={USER: entry("user", "ccetest")})
    assert outputs.managed_entry(state, USER).cloud_id == "ccetest"
    with pytest.raises(
        StateError,
        match=r"cluster.prod is not in state \(s.json\); managed addresses: user.ccetest$",
    ):
        outputs.managed_entry(state, CLUSTER, "s.json")
    state.pending["i1"] = PendingIntent("i1", CLUSTER, "create", "c-1")
    with pytest.raises(StateError, match="interrupted run is pending; run `reconciler apply`"):
        outputs.managed_entry(state, CLUSTER)
    with pytest.raises(StateError, match="the state manages nothing"):
        outputs.managed_entry(State(), CLUSTER)


def test_cluster_access_refuses_what_is_not_a_cluster() -> None:
    with pytest.raises(UsageError, match="user.ccetest is a user, not a cluster"):
        outputs.cluster_access(USER)
    assert outputs.cluster_access(CLUSTER).running == "RUNNING"
    assert outputs.cluster_access(K8S).running == "running"


def test_every_type_maps_to_each_api() -> None:
    assert outputs.clusters() == ["cluster", "k8s_cluster"]
    for kind in outputs.clusters():
        access = outputs.cluster_access(Address(kind, "x"))
        assert set(access.api_types) == set(outputs.KUBECONFIG_TYPES)
        assert access.default_type in outputs.KUBECONFIG_TYPES
    assert set(outputs.cluster_access(CLUSTER).api_types.values()) == {
        "default",
        "internal",
        "intraVpc",
    }
    assert set(outputs.cluster_access(K8S).api_types.values()) == {"vpc", "public", "internal"}


# --- the kubeconfig file ---------------------------------------------------------------------


def test_write_private_creates_0600_and_replaces_a_looser_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "dir" / "kube.yaml"
    assert outputs.write_private(target, "one") == target
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) & 0o077 == 0
    target.chmod(0o644)
    outputs.write_private(target, "two")
    assert target.read_text() == "two" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["kube.yaml"]


def test_write_private_makes_a_relative_path_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert outputs.write_private("k.yaml", "x") == tmp_path / "k.yaml"


def test_write_private_failure_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ReconcilerError, match=r"cannot write .*file/kube.yaml"):
        outputs.write_private(blocker / "kube.yaml", "x")
    assert os.listdir(tmp_path) == ["file"]


def test_default_path_is_beside_the_state(tmp_path: Path) -> None:
    assert outputs.default_kubeconfig_path(str(tmp_path), K8S) == (
        tmp_path / ".reconciler" / "kubeconfig" / "k8s_cluster.prod.yaml"
    )


def test_read_as_config_only_for_visible_yaml_in_a_config_folder(tmp_path: Path) -> None:
    config = [str(tmp_path)]
    assert outputs.read_as_config(tmp_path / "kube.yaml", config)
    assert outputs.read_as_config(tmp_path / "sub" / "kube.yml", config)
    assert not outputs.read_as_config(tmp_path / ".reconciler" / "kubeconfig" / "a.yaml", config)
    assert not outputs.read_as_config(tmp_path / ".kube.yaml", config)
    assert not outputs.read_as_config(tmp_path / "kubeconfig", config)
    assert not outputs.read_as_config(tmp_path.parent / "kube.yaml", config)


# --- a v2 cluster against the emulator -------------------------------------------------------


@pytest.fixture
def client(emulator: EmulatorHandle) -> Iterator[CceClient]:
    creds = Credentials(emulator.access_key_id, emulator.secret_access_key)
    with CceClient.connect(emulator.url, creds) as connected:
        yield connected


def create_v2_cluster(client: CceClient) -> ResourceState:
    kind = kind_named("k8s_cluster")
    spec = kind.build_spec(
        {"name": "prod", "k8sVersion": "1.28.8", "vpcID": "vpc-1", "lbServiceVPCSubnetID": "sbn-lb"}
    )
    attrs = dict(kind.desired_attrs(spec))
    cloud_id = v2_client(client).create_cluster(create_request(attrs)).cluster_id
    return ResourceState(kind="k8s_cluster", cloud_id=cloud_id, applied=attrs)


def test_v2_kubeconfig_waits_for_running_then_parses(
    client: CceClient, emulator: EmulatorHandle
) -> None:
    emulator.set_faults(cluster_create_seconds=30)
    cluster = create_v2_cluster(client)
    with pytest.raises(ReconcilerError, match=r"k8s_cluster.prod \(cce-\w+\) is \w+, not running"):
        outputs.fetch_kubeconfig(client, K8S, cluster)

    emulator.advance(30)
    since = emulator.next_index()
    text = outputs.fetch_kubeconfig(client, K8S, cluster)
    config = yaml.safe_load(text)
    assert config["apiVersion"] == "v1" and config["kind"] == "Config"
    for section in ("clusters", "contexts", "users"):
        assert isinstance(config[section], list) and config[section]
    assert config["current-context"] == config["contexts"][0]["name"]
    paths = [e["path"] for e in emulator.requests_log(since)]
    assert paths[-1].endswith(f"/kubeconfig/{cluster.cloud_id}/vpc")  # the default: intraVpc
    assert len(paths) == 2  # the status, then the kubeconfig


@pytest.mark.parametrize(
    ("kind", "api"), [("intraVpc", "vpc"), ("vpc", "vpc"), ("internal", "internal")]
)
def test_v2_types_are_spelled_as_the_v2_api(
    client: CceClient, emulator: EmulatorHandle, kind: str, api: str
) -> None:
    cluster = create_v2_cluster(client)
    since = emulator.next_index()
    outputs.fetch_kubeconfig(client, K8S, cluster, kind)
    assert emulator.requests_log(since)[-1]["path"].endswith(f"/{api}")


def test_v2_public_kubeconfig_needs_a_public_api_server(client: CceClient) -> None:
    cluster = create_v2_cluster(client)  # this tool's v2 clusters have no exposedPublic EIP
    with pytest.raises(ApiError):
        outputs.fetch_kubeconfig(client, K8S, cluster, "public")


def test_v2_live_outputs_are_one_read(client: CceClient, emulator: EmulatorHandle) -> None:
    cluster = create_v2_cluster(client)
    since = emulator.next_index()
    values, found = outputs.outputs_of(K8S, cluster, client)
    assert found and len(emulator.requests_log(since)) == 1
    assert values["id"] == cluster.cloud_id and values["status"] == "running"
    assert values["masterCount"] == 3 and values["workerCount"] == 0
    assert values["k8sVersion"] == "1.28.8" and values["deleteResource"] is True


def test_a_deleted_v2_cluster_has_null_live_fields_and_no_kubeconfig(
    client: CceClient, emulator: EmulatorHandle
) -> None:
    cluster = create_v2_cluster(client)
    v2_client(client).delete_cluster(cluster.cloud_id)
    emulator.advance(1)
    values, found = outputs.outputs_of(K8S, cluster, client)
    assert not found
    assert {k: values[k] for k in ("status", "masterCount", "workerCount")} == dict.fromkeys(
        ("status", "masterCount", "workerCount")
    )
    with pytest.raises(ReconcilerError, match="no longer exists in the cloud"):
        outputs.fetch_kubeconfig(client, K8S, cluster)
