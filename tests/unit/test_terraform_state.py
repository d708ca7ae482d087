"""The Terraform state conversion (``reconciler.terraform_state``) and the `import-terraform`
command on bad input: no cloud, no terraform binary (its real output is recorded under
tests/data/terraform)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import TerraformStateError
from reconciler.model import Address
from reconciler.terraform_state import Conversion, convert, hcl_quoted, read_state
from tests.e2e import terraform_states as tf
from tests.e2e.conftest import run_cli

DATA = Path(__file__).resolve().parents[1] / "data" / "terraform"
CLUSTER_ID = "cce-3u5pz6kx"


def run(*args: str) -> tuple[int, str, str]:
    result = run_cli(*args)
    return result.code, result.out, result.err


def cluster_resource(
    name: str = "prod-a", cluster_id: str = CLUSTER_ID, module: str | None = None, **changes: Any
) -> dict[str, Any]:
    attributes = tf.ccev2_cluster(cluster_id, tf.k8s_cluster(name), tf.HEAD, **changes)
    return tf.resource("baiducloud_ccev2_cluster", "this", [tf.instance(attributes)], module=module)


def group_instance(name: str, key: int | str | None = None, **changes: Any) -> dict[str, Any]:
    attributes = tf.ccev2_instance_group(
        "cce-ig-" + name[:8].ljust(8, "0"), CLUSTER_ID, tf.instance_group(name)
    )
    attributes.update(changes)
    return tf.instance(attributes, key)


def converted(*resources: dict[str, Any]) -> Conversion:
    return convert(read_state(tf.dumps(tf.state(list(resources))), "terraform.tfstate"))


# --- the format, as Terraform 1.11 writes it ---------------------------------------------------


def test_addresses_are_those_terraform_prints() -> None:
    state = read_state((DATA / "builtin-pulled.tfstate").read_text(), "pulled")
    listed = (DATA / "builtin-state-list.txt").read_text().splitlines()
    assert sorted(i.address for i in state.instances) == sorted(listed)
    (tainted,) = [i for i in state.instances if i.status]
    assert (tainted.address, tainted.status) == ("terraform_data.counted[1]", "tainted")
    (secret,) = [i for i in state.instances if i.sensitive]
    assert secret.sensitive == ("input.password",)
    assert {i.mode for i in state.instances if i.address.startswith("data.")} == {"data"}


def test_a_state_of_other_providers_is_an_error_listing_every_instance() -> None:
    with pytest.raises(TerraformStateError) as caught:
        convert(read_state((DATA / "builtin-pulled.tfstate").read_text(), "pulled"))
    message = str(caught.value)
    assert "none of its 15 resource instance(s) can be converted" in message
    assert 'module.named["y/z"].terraform_data.inner: unsupported type terraform_data' in message
    assert "terraform_data.counted[1]: unsupported type" in message
    assert "data.terraform_remote_state.net: a data source" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("key", "quoted"),
    [
        ("blue", '"blue"'),
        ('q"uote', r'"q\"uote"'),
        ("back\\slash", r'"back\\slash"'),
        ("tmpl${x}", '"tmpl$${x}"'),
        ("pct%{y}", '"pct%%{y}"'),
        ("dollar$", '"dollar$"'),
        ("new\nline", r'"new\nline"'),
        ("tab\there", r'"tab\there"'),
        ("bell\x07", r'"bell\u0007"'),
        ("é-ü", '"é-ü"'),
        ("", '""'),
    ],
)
def test_instance_keys_are_quoted_as_terraform_quotes_them(key: str, quoted: str) -> None:
    assert hcl_quoted(key) == quoted


def test_a_whole_number_index_written_as_a_float_is_an_int() -> None:
    resource = tf.resource("baiducloud_ccev2_instance_group", "workers", [group_instance("w", 0)])
    resource["instances"][0]["index_key"] = 0.0
    conversion = converted(cluster_resource(), resource)
    assert conversion.converted[1].terraform_address == "baiducloud_ccev2_instance_group.workers[0]"


# --- bad input: a clear error, exit 1, nothing written -----------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty, not a Terraform state"),
        ('{\n  "version": 4,\n  oops\n}', ":3:3: not JSON (Expecting property name"),
        ("[1, 2]", "a Terraform state is a JSON object, not a list"),
        (
            '{"version": 3, "modules": []}',
            "state format version 3, written by Terraform before 0.12",
        ),
        (
            '{"version": 5, "resources": []}',
            '"version" is 5; this reads Terraform state format version 4',
        ),
        ('{"version": "4", "resources": []}', '"version" is "4"'),
        ('{"serial": 1, "resources": []}', '"version" is missing'),
        (
            '{"format_version": "1.0", "terraform_version": "1.11.4", "values": {}}',
            "this is `terraform show -json` output, not a state",
        ),
        ('{"version": 4, "resources": []}', "the state holds no resources"),
        (
            '{"version": 4, "resources": [{"mode": "managed", "type": "x", "name": "y", "instances": []}]}',
            "the state holds no resources",
        ),
        ('{"version": 4}', '"resources" is missing or not a list'),
        (
            '{"version": 4, "resources": [{"mode": "other", "type": "x", "name": "y"}]}',
            'a resource needs "mode" (managed or data)',
        ),
        (
            '{"version": 4, "resources": [{"mode": "managed", "type": "x", "name": "y", "instances": [{"status": "gone", "attributes": {}}]}]}',
            '"status" is "gone"; only "tainted" is valid',
        ),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, text: str, message: str
) -> None:
    source = tmp_path / "terraform.tfstate"
    source.write_text(text)
    out = tmp_path / "out"
    code, stdout, stderr = run("import-terraform", str(source), "--out", str(out))
    assert code == 1
    assert message in stderr, stderr
    assert stderr.startswith(f"error: {source}")
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert not out.exists() and stdout == ""


def test_a_file_that_is_not_text_or_not_there_is_a_clear_error(tmp_path: Path) -> None:
    binary = tmp_path / "state.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    code, _, stderr = run("import-terraform", str(binary))
    assert code == 1 and "not UTF-8 text (byte 0)" in stderr
    code, _, stderr = run("import-terraform", str(tmp_path / "missing.tfstate"))
    assert code == 1 and "missing.tfstate" in stderr and "Traceback" not in stderr


# --- names: the object's, never Terraform's ----------------------------------------------------


def test_two_instances_naming_one_object_here_are_an_error_naming_both(tmp_path: Path) -> None:
    same = tf.resource(
        "baiducloud_ccev2_instance_group",
        "pool",
        [group_instance("workers", "a"), group_instance("workers", "b", id="cce-ig-other000")],
        module="module.cce",
    )
    document = tf.state([cluster_resource(module="module.cce"), same])
    source = tmp_path / "terraform.tfstate"
    source.write_text(tf.dumps(document))
    code, _, stderr = run("import-terraform", str(source), "--out", str(tmp_path / "out"))
    assert code == 1
    assert (
        'module.cce.baiducloud_ccev2_instance_group.pool["a"] and '
        'module.cce.baiducloud_ccev2_instance_group.pool["b"] would both be '
        "instance_group.prod-a/workers here"
    ) in stderr
    assert not (tmp_path / "out").exists()


def test_module_instances_with_the_same_cluster_name_collide() -> None:
    with pytest.raises(TerraformStateError, match=r"module\.env\[0\]\..* and module\.env\[1\]\."):
        converted(
            cluster_resource(module="module.env[0]"),
            cluster_resource(cluster_id="cce-other000", module="module.env[1]"),
        )


def test_names_come_from_the_objects_not_from_count_for_each_or_modules() -> None:
    groups = tf.resource(
        "baiducloud_ccev2_instance_group",
        "pool",
        [group_instance("pool-a", "x/y"), group_instance("pool-b", 7)],
        module='module.k8s["blue"].module.nodes[3]',
    )
    conversion = converted(cluster_resource(module='module.k8s["blue"]'), groups)
    named = {c.terraform_address: str(c.address) for c in conversion.converted}
    assert named == {
        'module.k8s["blue"].baiducloud_ccev2_cluster.this': "k8s_cluster.prod-a",
        'module.k8s["blue"].module.nodes[3].baiducloud_ccev2_instance_group.pool["x/y"]': "instance_group.prod-a/pool-a",
        'module.k8s["blue"].module.nodes[3].baiducloud_ccev2_instance_group.pool[7]': "instance_group.prod-a/pool-b",
    }
    assert conversion.state_rm_commands()[2] == (
        "terraform state rm "
        """'module.k8s["blue"].module.nodes[3].baiducloud_ccev2_instance_group.pool[7]'"""
    )


def test_what_cannot_be_named_here_is_reported_with_why() -> None:
    imported = cluster_resource("other", "cce-imp0rted")  # `terraform import` leaves it empty
    imported["name"] = "imported"
    imported["instances"][0]["attributes"]["cluster_spec"] = []
    bad_name = cluster_resource("1prod", "cce-badname0")
    bad_name["name"] = "bad"
    orphan = tf.resource(
        "baiducloud_ccev2_instance_group",
        "orphan",
        [
            tf.instance(
                tf.ccev2_instance_group("cce-ig-orphan00", "cce-elsewher", tf.instance_group("o"))
            )
        ],
    )
    two_zones = tf.cce_cluster("c-TwoZones", tf.v1_cluster("zones"))
    two_zones["worker_config"][0]["count"] = {"zoneA": 1, "zoneB": 1}
    v1 = tf.resource("baiducloud_cce_cluster", "zones", [tf.instance(two_zones)])
    legacy = cluster_resource("flat", "cce-flat0000")
    legacy["name"] = "flat"
    legacy["instances"][0]["attributes_flat"] = {"id": "cce-flat0000"}
    del legacy["instances"][0]["attributes"]
    conversion = converted(cluster_resource(), imported, bad_name, orphan, v1, legacy)
    reasons = {s.terraform_address: s.reason for s in conversion.skipped}
    assert reasons["baiducloud_ccev2_cluster.flat"].startswith('no "attributes" (a state from')
    assert reasons["baiducloud_ccev2_cluster.imported"].startswith(
        "cannot name it: Terraform recorded no cluster_spec.0.cluster_name"
    )
    assert reasons["baiducloud_ccev2_cluster.bad"].startswith(
        'cannot declare it as k8s_cluster.1prod: name: Terraform recorded "1prod", which is '
        "not valid here ('1prod' does not match"
    )
    assert reasons["baiducloud_ccev2_instance_group.orphan"].startswith(
        "cannot name it: its cluster cce-elsewher is not converted from this state file"
    )
    assert reasons["baiducloud_cce_cluster.zones"].startswith("its workers are in 2 zones")
    assert [str(c.address) for c in conversion.converted] == ["k8s_cluster.prod-a"]


# --- secrets and what is not carried over ------------------------------------------------------


def test_secrets_are_never_copied_and_their_placeholders_are_named() -> None:
    legacy = tf.cce_cluster("c-qBH9sE28", tf.v1_cluster("legacy"), admin_pass="V1-Passw0rd")
    legacy["master_config"] = [{"admin_pass": "M4ster-Pass", "cpu": 4, "memory": 8}]
    marked = tf.instance(
        tf.ccev2_cluster(
            CLUSTER_ID,
            tf.k8s_cluster("prod-a"),
            node_group_specs=[
                {
                    "instance_group_name": "inline",
                    "replicas": 1,
                    "instance_template": [tf.instance_spec(admin_password="Inl1ne-Pass")],
                }
            ],
            metadata=[{"annotations": {"token": "T0KEN"}, "labels": {}}],
        ),
        sensitive=[[{"type": "get_attr", "value": "metadata"}]],
    )
    conversion = converted(
        tf.resource("baiducloud_cce_cluster", "legacy", [tf.instance(legacy)]),
        tf.resource("baiducloud_ccev2_cluster", "this", [marked]),
    )
    dumped = json.dumps([c.entry for c in conversion.converted]) + repr(conversion)
    dumped += "".join(n.text for n in conversion.secrets + conversion.no_field)
    for secret in ("V1-Passw0rd", "M4ster-Pass", "Inl1ne-Pass", "T0KEN"):
        assert secret not in dumped
    secrets = {(str(n.address), n.text) for n in conversion.secrets}
    assert (
        "cluster.legacy",
        "workers.adminPassword: {env: CLUSTER_ADMIN_PASSWORD} (Terraform keeps it in clear at "
        "worker_config.0.admin_pass; not copied)",
    ) in secrets
    assert (
        "cluster.legacy",
        "master_config.0.admin_pass: a secret Terraform keeps in clear; no field here, not copied",
    ) in secrets
    assert (
        "k8s_cluster.prod-a",
        "node_group_specs.0.instance_template.0.admin_password: a secret Terraform keeps in "
        "clear; no field here, not copied",
    ) in secrets
    assert (
        "k8s_cluster.prod-a",
        "metadata: a secret Terraform keeps in clear; no field here, not copied",
    ) in secrets
    assert conversion.placeholders() == ["CLUSTER_ADMIN_PASSWORD"]
    no_field = {n.text.split(" = ")[0]: n.text for n in conversion.no_field}
    assert '"admin_password": "(sensitive)"' in no_field["node_group_specs"]
    assert (
        '"metadata"' not in no_field.get("metadata", "") and "(sensitive)" in no_field["metadata"]
    )


def test_recorded_values_not_valid_here_are_left_out_and_said() -> None:
    conversion = converted(cluster_resource())  # HEAD records mode vpc-eni
    (entry,) = [c.entry for c in conversion.converted]
    assert "networkMode" not in entry
    (note,) = conversion.left_out
    assert note.address == Address("k8s_cluster", "prod-a")
    assert note.text.startswith(
        'networkMode: Terraform recorded "vpc-eni", which is not valid here'
    )


def test_the_same_state_converts_the_same_way() -> None:
    document = tf.state(
        [
            cluster_resource(),
            tf.resource("baiducloud_ccev2_instance_group", "w", [group_instance("w", 0)]),
        ]
    )
    first = convert(read_state(tf.dumps(document), "a"))
    second = convert(read_state(tf.dumps(copy.deepcopy(document)), "a"))
    assert first.entries() == second.entries() and first.imports() == second.imports()
