"""load_desired_state and config_digest: what a valid configuration becomes, and the rules."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.config import config_digest, load_config, load_desired_state
from reconciler.errors import ConfigError
from reconciler.kinds import build_spec
from reconciler.kinds import names as kind_names
from reconciler.model import Address, Lifecycle, Location, SecretRef, Target

REPO = Path(__file__).resolve().parents[2]
Write = Callable[[dict[str, str | bytes]], Path]

TARGET = "target:\n  endpoint: local\n"
CLUSTER = """clusters:
  - name: prod
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 172.16.0.0/16
    workers:
      count: 2
      instanceType: 10
      cpu: 4
      memory: 8
      imageId: m-1
      subnetUuid: sbn-1
      securityGroupId: g-1
"""

NO_CCR = {kind: 0 for kind in kind_names() if kind.startswith("ccr_")}


def diagnostics(paths: list[str], **kwargs: bool) -> list[str]:
    with pytest.raises(ConfigError) as failed:
        load_desired_state(paths, **kwargs)
    return failed.value.diagnostics


def test_quickstart_becomes_the_expected_desired_state() -> None:
    loaded = load_config([str(REPO / "examples" / "quickstart")])
    state = loaded.desired
    assert loaded.target == Target(endpoint="local")
    assert state.counts(kind_names()) == {
        "user": 1,
        "namespace": 2,
        "repository": 4,
        "cluster": 1,
        "k8s_cluster": 0,
        "instance_group": 0,
        "addon": 0,
        **NO_CCR,
    }
    assert state.resources[Address("user", "ccetest")] == build_spec(
        "user", {"username": "ccetest", "password": {"env": "CCR_PASSWORD"}}
    )
    assert state.resources[Address("namespace", "team-b")] == build_spec(
        "namespace", {"name": "team-b", "public": True}
    )
    assert state.resources[Address("repository", "team-a/api")] == build_spec(
        "repository",
        {
            "namespace": "team-a",
            "name": "api",
            "tags": ["latest", "v1.2"],
            "description": "payment API images",
        },
    )
    cluster = state.resources[Address("cluster", "demo")].attrs
    assert (cluster["version"], cluster["mainAvailableZone"], cluster["containerNet"]) == (
        "1.20.8",
        "zoneA",
        "172.16.0.0/16",
    )
    assert (cluster["workers"]["count"], cluster["workers"]["instanceType"]) == (2, "10")


def test_platform_merges_several_files() -> None:
    folder = REPO / "examples" / "platform"
    loaded = load_config([str(folder)])
    state = loaded.desired
    assert loaded.target == Target(region="bj")
    assert loaded.secrets_base == str(folder)
    assert [Path(f).name for f in loaded.files] == [
        "clusters.yaml",
        "target.yaml",
        "team-payments.yaml",
        "team-search.yaml",
        "users.yaml",
    ]
    assert Address("repository", "payments/tools/migrate") in state.resources
    assert state.counts(kind_names()) == {
        "user": 1,
        "namespace": 3,
        "repository": 6,
        "cluster": 2,
        "k8s_cluster": 0,
        "instance_group": 0,
        "addon": 0,
        **NO_CCR,
    }


def test_defaults_and_normalisation(write_files: Write) -> None:
    root = write_files({"c.yaml": TARGET + "namespaces:\n  - name: a\n" + CLUSTER})
    state = load_desired_state([str(root / "c.yaml")])
    cluster = state.resources[Address("cluster", "prod")]
    assert cluster.attrs["workers"] == {
        "count": 2,
        "instanceType": "10",
        "cpu": 4,
        "memory": 8,
        "imageId": "m-1",
        "subnetUuid": "sbn-1",
        "securityGroupId": "g-1",
        "productType": "postpay",
        "imageType": "common",
    }
    assert (
        cluster.attrs["deployMode"] == "BCC"
        and "advancedOptions" not in cluster.attrs
        and "comment" not in cluster.attrs
    )
    assert cluster.lifecycle == Lifecycle(protect=None)
    assert state.resources[Address("namespace", "a")] == build_spec(
        "namespace", {"name": "a", "public": False}
    )


def test_every_optional_field_reaches_the_model(write_files: Write) -> None:
    extra = CLUSTER.replace(
        "    workers:\n",
        "    deployMode: DCC\n    comment: hi\n    advancedOptions: {kubeProxyMode: ipvs, maxPodNum: 32}\n    lifecycle: {protect: true}\n    workers:\n",
    )
    extra += "      productType: prepay\n      imageType: gpu\n      logicalZone: zoneB\n      rootDiskSizeInGb: 40\n      rootDiskStorageType: ssd\n      adminPassword: {file: admin.txt}\n"
    root = write_files({"c.yaml": TARGET + extra})
    cluster = load_desired_state([str(root)]).resources[Address("cluster", "prod")]
    attrs = cluster.attrs
    assert (attrs["deployMode"], attrs["comment"], cluster.lifecycle) == (
        "DCC",
        "hi",
        Lifecycle(protect=True),
    )
    assert dict(attrs["advancedOptions"]) == {"kubeProxyMode": "ipvs", "maxPodNum": 32}
    w = attrs["workers"]
    assert (
        w["productType"],
        w["imageType"],
        w["logicalZone"],
        w["rootDiskSizeInGb"],
        w["rootDiskStorageType"],
    ) == ("prepay", "gpu", "zoneB", 40, "ssd")
    assert cluster.secrets == {"workers.adminPassword": SecretRef(file="admin.txt")}


def test_resource_location_points_at_its_mapping(write_files: Write) -> None:
    root = write_files({"c.yaml": TARGET + "namespaces:\n  - name: a\n"})
    loaded = load_config([str(root / "c.yaml")])
    assert loaded.desired.resources[Address("namespace", "a")].location == Location(
        str(root / "c.yaml"), 4, 5
    )
    assert loaded.target.location == Location(str(root / "c.yaml"), 2, 3)


def test_the_secrets_base_is_the_directory_of_the_first_path(
    write_files: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_files({"conf/t.yaml": TARGET, "other/n.yaml": "namespaces: [{name: a}]\n"})
    monkeypatch.chdir(root)
    assert load_config(["conf/t.yaml", "other/n.yaml"]).secrets_base == "conf"
    assert load_config(["other", "conf"]).secrets_base == "other"
    monkeypatch.chdir(root / "conf")
    loaded = load_config(["t.yaml"])
    assert (loaded.secrets_base, loaded.files) == (".", ("t.yaml",))


def test_the_default_path_is_the_current_directory(
    write_files: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(write_files({"t.yaml": TARGET}))
    assert load_config([]).files == ("t.yaml",)


def test_directories_are_read_recursively_sorted_skipping_hidden_entries(
    write_files: Write,
) -> None:
    root = write_files(
        {
            "b.yml": "namespaces: [{name: b}]\n",
            "a.yaml": TARGET,
            "sub/c.yaml": "namespaces: [{name: c}]\n",
            ".hidden.yaml": "nonsense: 1\n",
            ".github/ci.yml": "on: push\n",
            "notes.txt": "not yaml\n",
        }
    )
    loaded = load_config([str(root)])
    assert [os.path.relpath(f, root) for f in loaded.files] == ["a.yaml", "b.yml", "sub/c.yaml"]


def test_an_explicit_file_is_read_whatever_its_name_and_only_once(write_files: Write) -> None:
    root = write_files({"config.txt": TARGET + "namespaces: [{name: a}]\n"})
    file = str(root / "config.txt")
    assert load_config([file, file]).files == (file,)


def test_the_same_file_through_two_paths_is_read_once(write_files: Write) -> None:
    root = write_files({"t.yaml": TARGET + "namespaces: [{name: a}]\n"})
    assert load_config([str(root), str(root / "t.yaml")]).files == (str(root / "t.yaml"),)


def test_problems_in_several_files_are_all_reported_sorted(write_files: Write) -> None:
    root = write_files(
        {
            "a.yaml": TARGET + "namespaces:\n  - name: 9a\n",
            "b.yaml": "namespaces:\n  - nme: x\n",
            "c.yaml": "",
        }
    )
    found = diagnostics([str(root)])
    assert [line.split(":")[0].rsplit("/", 1)[1] + ":" + line.split(":")[1] for line in found] == [
        "a.yaml:4",
        "b.yaml:2",
        "b.yaml:2",
        "c.yaml:1",
    ]


def test_a_missing_path_and_an_empty_directory_are_reported_with_the_rest(
    write_files: Write,
) -> None:
    root = write_files({"t.yaml": TARGET, "empty/readme.txt": "x"})
    found = diagnostics([str(root / "t.yaml"), str(root / "nope"), str(root / "empty")])
    assert found == [
        f"{root}/empty: error: no YAML files (*.yaml, *.yml) in this directory",
        f"{root}/nope: error: no such file or directory",
    ]


def test_no_target_is_not_reported_when_a_file_failed_to_load(write_files: Write) -> None:
    root = write_files({"a.yaml": "namespaces: [{name: a}]\n", "b.yaml": "target: [\n"})
    assert all("no target" not in line for line in diagnostics([str(root)]))


def test_a_broken_namespaces_section_does_not_cascade_into_repositories(write_files: Write) -> None:
    root = write_files(
        {
            "a.yaml": TARGET
            + "namespaces: team-a\nrepositories: [{namespace: team-a, name: api, tags: [x]}]\n"
        }
    )
    assert len(diagnostics([str(root)])) == 1


def test_a_namespace_declared_with_other_mistakes_still_counts_as_declared(
    write_files: Write,
) -> None:
    root = write_files(
        {
            "a.yaml": TARGET
            + "namespaces: [{name: team-a, public: maybe}]\nrepositories: [{namespace: team-a, name: api, tags: [x]}]\n"
        }
    )
    found = diagnostics([str(root)])
    assert len(found) == 1 and "public" in found[0]


def test_same_address_three_times_gives_two_diagnostics(write_files: Write) -> None:
    root = write_files({"a.yaml": TARGET + "namespaces: [{name: a}, {name: a}, {name: a}]\n"})
    found = diagnostics([str(root)])
    assert len(found) == 2 and all(
        'namespace "a" declared more than once: also at ' in line for line in found
    )


def test_repository_names_may_repeat_across_namespaces(write_files: Write) -> None:
    root = write_files(
        {
            "a.yaml": TARGET
            + "namespaces: [{name: a}, {name: b}]\nrepositories: [{namespace: a, name: api, tags: [x]}, {namespace: b, name: api, tags: [x]}]\n"
        }
    )
    assert load_desired_state([str(root)]).counts(kind_names())["repository"] == 2


def test_the_same_user_twice_is_a_duplicate_not_a_second_user(write_files: Write) -> None:
    user = "  - username: ccetest\n    password: {env: P}\n"
    root = write_files({"a.yaml": TARGET + "users:\n" + user + user})
    found = diagnostics([str(root)])
    assert len(found) == 1 and 'user "ccetest" declared twice' in found[0]


def test_empty_sections_are_allowed(write_files: Write) -> None:
    root = write_files({"a.yaml": TARGET + "users:\nnamespaces: []\nrepositories:\nclusters:\n"})
    assert load_desired_state([str(root)]).counts(kind_names()) == {
        "user": 0,
        "namespace": 0,
        "repository": 0,
        "cluster": 0,
        "k8s_cluster": 0,
        "instance_group": 0,
        "addon": 0,
        **NO_CCR,
    }


def test_a_name_with_a_trailing_newline_is_invalid(write_files: Write) -> None:
    root = write_files({"a.yaml": TARGET + "namespaces:\n  - name: |\n      team-a\n"})
    assert "is invalid" in diagnostics([str(root)])[0]


def test_secrets_are_not_read_without_check_secrets(
    write_files: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CCR_TEST_UNSET", raising=False)
    root = write_files(
        {"a.yaml": TARGET + "users: [{username: ccetest, password: {env: CCR_TEST_UNSET}}]\n"}
    )
    assert load_desired_state([str(root)]).counts(kind_names())["user"] == 1


def test_check_secrets_resolves_every_reference(
    write_files: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CCR_TEST_SET", "S3cret-value")
    root = write_files(
        {
            "a.yaml": TARGET
            + "users: [{username: ccetest, password: {env: CCR_TEST_SET}}]\n"
            + CLUSTER
            + "      adminPassword: {file: secrets/admin.txt}\n",
            "secrets/admin.txt": "another-secret\n",
        }
    )
    assert load_desired_state([str(root)], check_secrets=True).counts(kind_names())["cluster"] == 1
    (root / "secrets" / "admin.txt").unlink()
    monkeypatch.setenv("CCR_TEST_SET", "")
    found = diagnostics([str(root)], check_secrets=True)
    assert [line.split(": error: ", 1)[1] for line in found] == [
        "user.ccetest: password: environment variable CCR_TEST_SET is empty",
        'cluster.prod: workers.adminPassword: cannot read secret file "secrets/admin.txt": No such file or directory',
    ]


def test_secret_values_never_appear_in_diagnostics(
    write_files: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_files(
        {"a.yaml": TARGET + "users: [{username: ccetest, password: hunter2-literal}]\n"}
    )
    found = diagnostics([str(root)], check_secrets=True)
    assert len(found) == 1 and "hunter2-literal" not in found[0]


# -- config_digest ----------------------------------------------------------------------------


def digest_of(write_files: Write, files: dict[str, str | bytes]) -> str:
    """Digest of ``files``, all under one top folder of their own."""
    root = write_files(files)
    folder = {name.split("/", 1)[0] for name in files}.pop()
    loaded = load_config([str(root / folder)])
    return config_digest(loaded.desired, loaded.target)


def test_digest_is_stable_across_file_order_key_order_and_tag_order(write_files: Write) -> None:
    one = digest_of(
        write_files,
        {
            "a/t.yaml": TARGET
            + "namespaces: [{name: a, public: true}]\nrepositories: [{namespace: a, name: r, tags: [x, y]}]\n"
        },
    )
    two = digest_of(
        write_files,
        {
            "b/1.yaml": "repositories: [{tags: [y, x], name: r, namespace: a}]\n",
            "b/2.yaml": "namespaces: [{public: true, name: a}]\n" + TARGET,
        },
    )
    assert len(one) == 64 and one == two


def test_digest_ignores_where_things_are_declared(write_files: Write) -> None:
    one = digest_of(write_files, {"a/t.yaml": TARGET + "namespaces: [{name: a}]\n"})
    two = digest_of(
        write_files, {"b/t.yaml": "# moved down\n\n" + TARGET + "\nnamespaces:\n  - name: a\n"}
    )
    assert one == two


@pytest.mark.parametrize(
    "changed",
    [
        "namespaces: [{name: a, public: true}]\n",
        "namespaces: [{name: b}]\n",
        "namespaces: [{name: a, lifecycle: {protect: false}}]\n",
        "namespaces: [{name: a}, {name: c}]\n",
    ],
)
def test_digest_changes_with_the_content(write_files: Write, changed: str) -> None:
    base = digest_of(write_files, {"a/t.yaml": TARGET + "namespaces: [{name: a}]\n"})
    assert digest_of(write_files, {"b/t.yaml": TARGET + changed}) != base


def test_digest_changes_with_the_target(write_files: Write) -> None:
    base = digest_of(write_files, {"a/t.yaml": TARGET})
    assert digest_of(write_files, {"b/t.yaml": "target: {region: bj}\n"}) != base


def test_digest_of_a_cluster_covers_its_workers(write_files: Write) -> None:
    base = digest_of(write_files, {"a/t.yaml": TARGET + CLUSTER})
    assert (
        digest_of(write_files, {"b/t.yaml": TARGET + CLUSTER.replace("count: 2", "count: 3")})
        != base
    )
