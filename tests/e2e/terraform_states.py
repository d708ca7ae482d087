"""Terraform states (format v4) of the ``baidubce/baiducloud`` provider, built for tests from
the provider's documented schema (/work/shared/terraform-baiducloud-state.md, section 2).

Two generations of the provider's attribute sets:

- ``HEAD``: v1.23.5 (commit 3bb5b82), every attribute of section 2 with SDK v1's zero values
  (``""``, ``0``, ``false``, ``[]``; ``null`` for unset top-level primitives), ``timeouts: null``,
  ``private`` with the SDK's timeouts, ``container_network_config.mode`` ``vpc-eni`` (the only
  mode its validation accepts);
- ``EARLY``: the first ccev2 schema (commit 05cc747): a cluster with only ``cluster_spec``,
  ``master_specs``, ``cluster_status``, ``created_at``, ``updated_at``, ``masters`` and
  ``nodes``; no ``tags``, ``kube_proxy_mode``, ``node_group_specs``, ``kms_encryption`` or
  ``api_server_cert_san``; any of the eight API network modes; instance templates without
  the later fields (``hpas_option``, ``ehc_cluster_id``, ``cce_instance_priority``).

The same objects are made in the emulator with :func:`seed_k8s_cluster` and friends, through
the kinds' own request builders, so a test adopts exactly what the state file records.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.client.v1 import CceClient
from reconciler.kinds.base import v2_client
from reconciler.kinds.cluster import cluster_body
from reconciler.kinds.instance_group import create_request as group_request
from reconciler.kinds.k8s_cluster import create_request as cluster_request

HEAD, EARLY = "v1.23.5", "early"
PROVIDER = 'provider["registry.terraform.io/baidubce/baiducloud"]'
PRIVATE = (
    "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjoxMjAwMDAwMDAwMDAwLCJk"
    "ZWxldGUiOjEyMDAwMDAwMDAwMDAsInVwZGF0ZSI6MTIwMDAwMDAwMDAwMH19"
)
CREATED = "2025-03-01 08:00:00 +0000 UTC"
ADMIN_PASSWORD_PATH = [
    {"type": "get_attr", "value": "spec"},
    {"type": "index", "value": {"value": 0, "type": "number"}},
    {"type": "get_attr", "value": "instance_template"},
    {"type": "index", "value": {"value": 0, "type": "number"}},
    {"type": "get_attr", "value": "admin_password"},
]


# --- the objects, in the kinds' attribute shape ------------------------------------------------


def k8s_cluster(name: str, **changes: Any) -> dict[str, Any]:
    attrs = {
        "name": name,
        "k8sVersion": "1.28.8",
        "vpcID": "vpc-2pa2x0bjt26i",
        "masterType": "managed",
        "clusterHA": 3,
        "masterVPCSubnetZone": "zoneA",
        "runtimeType": "containerd",
        "networkMode": "vpc-secondary-ip-auto-detect",
        "serviceCIDR": "172.31.0.0/16",
        "lbServiceVPCSubnetID": "sbn-mnbvhnuupv1u",
        "kubeProxyMode": "ipvs",
        "tags": {},
    }
    return {**attrs, **changes}


def instance_group(name: str, replicas: int = 1, **changes: Any) -> dict[str, Any]:
    attrs = {
        "name": name,
        "replicas": replicas,
        "machineType": "BCC",
        "instanceType": "N5",
        "machineSpec": "bcc.g5.c4m8",
        "cpu": 4,
        "memory": 8,
        "rootDiskType": "cloud_hp1",
        "rootDiskSize": 100,
        "imageID": "m-Nlv9C0tF",
        "vpcSubnetID": "sbn-mnbvhnuupv1u",
        "securityGroupID": "g-xhs6tjkidpq5",
    }
    return {**attrs, **changes}


def v1_cluster(name: str, **changes: Any) -> dict[str, Any]:
    attrs = {
        "name": name,
        "version": "1.20.8",
        "mainAvailableZone": "zoneA",
        "containerNet": "172.16.0.0/16",
        "workers": {
            "count": 1,
            "instanceType": "10",
            "cpu": 4,
            "memory": 8,
            "imageId": "m-Nlv9C0tF",
            "subnetUuid": "sbn-mnbvhnuupv1u",
            "securityGroupId": "g-xhs6tjkidpq5",
        },
    }
    return {**attrs, **changes}


# --- made in the emulator ----------------------------------------------------------------------


def seed_k8s_cluster(client: CceClient, attrs: Mapping[str, Any]) -> str:
    return v2_client(client).create_cluster(cluster_request(attrs)).cluster_id


def seed_instance_group(client: CceClient, cluster_id: str, attrs: Mapping[str, Any]) -> str:
    made = v2_client(client).create_instance_group(cluster_id, group_request(attrs, None))
    return made.instance_group_id


def seed_v1_cluster(client: CceClient, attrs: Mapping[str, Any]) -> str:
    return client.create_cluster(cluster_body(attrs, None)).cluster_uuid


# --- as the provider stores them ---------------------------------------------------------------


def instance_spec(version: str = HEAD, **values: Any) -> dict[str, Any]:
    """The shared InstanceSpec object (``IS``, section 2.1) with SDK v1's zero values."""
    spec: dict[str, Any] = {
        "admin_password": "",
        "bbc_option": [],
        "cce_instance_id": "",
        "cluster_id": "",
        "cluster_role": "node",
        "delete_option": [
            {"delete_cds_snapshot": True, "delete_resource": True, "move_out": False}
        ],
        "deploy_custom_config": [
            {
                "docker_config": [
                    {
                        "bip": "",
                        "docker_data_root": "/home/cce/docker",
                        "docker_log_max_file": "10",
                        "docker_log_max_size": "20m",
                        "insecure_registries": [],
                        "registry_mirrors": [],
                    }
                ],
                "enable_cordon": False,
                "enable_resource_reserved": False,
                "kube_reserved": {},
                "kubelet_root_dir": "/var/lib/kubelet",
                "post_user_script": "",
                "pre_user_script": "",
            }
        ],
        "eip_option": [],
        "existed": False,
        "existed_option": [],
        "image_id": "",
        "instance_charging_type": "Postpaid",
        "instance_group_id": "",
        "instance_group_name": "",
        "instance_name": "",
        "instance_os": [
            {
                "image_name": "7.5 x86_64 (64bit)",
                "image_type": "System",
                "os_arch": "x86_64 (64bit)",
                "os_build": "",
                "os_name": "CentOS",
                "os_type": "linux",
                "os_version": "7.5",
            }
        ],
        "instance_precharging_option": [],
        "instance_resource": [
            {
                "cds_list": [],
                "cpu": 0,
                "ephemeral_disk_list": [],
                "gpu_count": 0,
                "gpu_type": "",
                "local_disk_size": 0,
                "machine_spec": "",
                "mem": 0,
                "node_cpu_quota": 0,
                "node_mem_quota": 0,
                "root_disk_size": 0,
                "root_disk_type": "",
            }
        ],
        "instance_taints": [],
        "instance_type": "",
        "labels": {},
        "machine_type": "",
        "master_type": "",
        "need_eip": False,
        "runtime_type": "containerd",
        "runtime_version": "1.6.28",
        "ssh_key_id": "",
        "tag_list": [],
        "vpc_config": [
            {
                "available_zone": "zoneA",
                "security_group_id": "",
                "security_group_type": "normal",
                "vpc_id": "",
                "vpc_subnet_cidr": "",
                "vpc_subnet_cidr_ipv6": "",
                "vpc_subnet_id": "",
                "vpc_subnet_type": "BCC",
            }
        ],
    }
    if version == HEAD:
        spec.update({"cce_instance_priority": 5, "ehc_cluster_id": "", "hpas_option": []})
    _merge(spec, values)
    return spec


def ccev2_cluster(
    cluster_id: str, attrs: Mapping[str, Any], version: str = HEAD, **extra: Any
) -> dict[str, Any]:
    """``baiducloud_ccev2_cluster`` attributes (section 2.2) recording ``attrs``."""
    network: dict[str, Any] = {
        "cluster_ip_service_cidr": attrs.get("serviceCIDR", ""),
        "cluster_ip_service_cidr_ipv6": "",
        "cluster_pod_cidr": attrs.get("podCIDR", ""),
        "cluster_pod_cidr_ipv6": "",
        "eni_security_group_id": "",
        "eni_vpc_subnet_ids": [],
        "ip_version": "",
        "lb_service_vpc_subnet_id": attrs["lbServiceVPCSubnetID"],
        "max_pods_per_node": 0,
        "mode": "vpc-eni" if version == HEAD else attrs["networkMode"],
        "node_port_range_max": 0,
        "node_port_range_min": 0,
    }
    master: dict[str, Any] = {
        "cluster_blb_vpc_subnet_id": attrs["lbServiceVPCSubnetID"],
        "cluster_ha": attrs["clusterHA"],
        "exposed_public": False,
        "managed_cluster_master_option": [
            {"master_vpc_subnet_zone": attrs.get("masterVPCSubnetZone", "")}
        ],
        "master_type": attrs["masterType"],
    }
    spec: dict[str, Any] = {
        "cluster_delete_option": [
            {
                "delete_cds_snapshot": attrs.get("deleteCDSSnapshot", True),
                "delete_resource": attrs.get("deleteResource", True),
            }
        ],
        "cluster_name": attrs["name"],
        "cluster_type": "normal",
        "container_network_config": [network],
        "description": attrs.get("description", ""),
        "k8s_custom_config": [],
        "k8s_version": attrs["k8sVersion"],
        "master_config": [master],
        "plugins": [],
        "runtime_type": attrs.get("runtimeType", ""),
        "runtime_version": attrs.get("runtimeVersion", ""),
        "vpc_cidr": "",
        "vpc_cidr_ipv6": "",
        "vpc_id": attrs["vpcID"],
    }
    status = {"cluster_blb": [], "cluster_phase": "running", "node_num": 0}
    out: dict[str, Any] = {
        "cluster_spec": [spec],
        "cluster_status": [status],
        "created_at": CREATED,
        "id": cluster_id,
        "master_specs": [],
        "masters": [],
        "nodes": [],
        "updated_at": CREATED,
    }
    if version == HEAD:
        network.update(
            {
                "ebpf_config": [],
                "enable_cv_eni": False,
                "enable_node_local_dns": False,
                "enable_rdma": False,
                "kube_proxy_mode": attrs.get("kubeProxyMode", ""),
                "net_device_driver": "",
                "network_policy_type": "",
                "node_local_dns_addr": "",
            }
        )
        master.update({"cluster_blb_eip": "", "cluster_blb_id": ""})
        master["managed_cluster_master_option"][0].update(
            {
                "cluster_blb_source": "",
                "master_flavor": "",
                "master_security_group_uuid": "",
                "master_vpc_subnet_uuid": "",
            }
        )
        spec["cluster_delete_option"][0]["batch_refund_resource"] = False
        status.update(
            {
                "api_server_access_success": True,
                "infrastructure_ready": True,
                "k8s_plugin_deploy_success": True,
                "problem_detector_service_source_bcm": False,
                "upgrade_workflow_id": "",
                "workflow_message": "",
            }
        )
        out.update(
            {
                "api_server_cert_san": [],
                "create_options": [],
                "kms_encryption": [],
                "metadata": [],
                "node_group_specs": [],
                "order_id": None,
                "tags": dict(attrs.get("tags", {})),
                "timeouts": None,
            }
        )
    _merge(out, extra)
    return out


def ccev2_instance_group(
    group_id: str,
    cluster_id: str,
    attrs: Mapping[str, Any],
    version: str = HEAD,
    admin_password: str = "",
) -> dict[str, Any]:
    """``baiducloud_ccev2_instance_group`` attributes (section 2.3) recording ``attrs``; the
    provider refreshes ``spec``, so it holds the server's echo (``admin_password`` ``""``)."""
    template = instance_spec(
        version,
        admin_password=admin_password,
        cluster_id=cluster_id,
        image_id=attrs["imageID"],
        instance_group_id=group_id,
        instance_group_name=attrs["name"],
        instance_type=attrs["instanceType"],
        labels={"cluster-id": cluster_id, "cluster-role": "node"},
        machine_type=attrs["machineType"],
        instance_resource=[
            {
                "cpu": attrs["cpu"],
                "machine_spec": attrs["machineSpec"],
                "mem": attrs["memory"],
                "root_disk_size": attrs["rootDiskSize"],
                "root_disk_type": attrs["rootDiskType"],
            }
        ],
        vpc_config=[
            {
                "security_group_id": attrs["securityGroupID"],
                "vpc_id": "vpc-2pa2x0bjt26i",
                "vpc_subnet_id": attrs["vpcSubnetID"],
            }
        ],
    )
    spec = {
        "cluster_id": cluster_id,
        "instance_group_name": attrs["name"],
        "instance_template": [template],
        "replicas": attrs["replicas"],
    }
    out: dict[str, Any] = {
        "id": group_id,
        "nodes": [],
        "spec": [spec],
        "status": [{"ready_replicas": attrs["replicas"]}],
    }
    if version == HEAD:
        out["timeouts"] = None
    return out


def cce_cluster(
    cluster_uuid: str, attrs: Mapping[str, Any], version: str = HEAD, admin_pass: str = ""
) -> dict[str, Any]:
    """``baiducloud_cce_cluster`` attributes (section 2.5) recording ``attrs``.
    ``admin_pass`` is not marked sensitive by the provider: it is stored in clear."""
    workers = attrs["workers"]
    zone = attrs["mainAvailableZone"]
    worker_config = {
        "admin_pass": admin_pass,
        "auto_renew": False,
        "auto_renew_time": 0,
        "auto_renew_time_unit": "",
        "cds_disks": [],
        "count": {zone: workers["count"]},
        "cpu": workers["cpu"],
        "eip": {},
        "gpu_card": "",
        "gpu_count": 0,
        "image_id": workers["imageId"],
        "image_type": "common",
        "instance_type": workers["instanceType"],
        "keypair_id": "",
        "memory": workers["memory"],
        "product_type": "postpay",
        "purchase_length": 0,
        "root_disk_size_in_gb": 0,
        "root_disk_storage_type": "",
        "security_group_id": workers["securityGroupId"],
        "subnet_uuid": {zone: workers["subnetUuid"]},
    }
    out: dict[str, Any] = {
        "advanced_options": None,
        "cluster_name": attrs["name"],
        "cluster_node_num": workers["count"],
        "cluster_uuid": cluster_uuid,
        "comment": "",
        "container_net": attrs["containerNet"],
        "create_start_time": CREATED,
        "deploy_mode": "BCC",
        "id": cluster_uuid,
        "main_available_zone": None,
        "master_config": [],
        "region": "bj",
        "status": "RUNNING",
        "version": attrs["version"],
        "vpc_id": "vpc-2pa2x0bjt26i",
        "worker_config": [worker_config],
        "zone_subnet_map": {zone: workers["subnetUuid"]},
    }
    if version == HEAD:
        out.update(
            {
                "delete_eip_cds": True,
                "delete_snapshots": True,
                "delete_time": "0001-01-01 00:00:00 +0000 UTC",
                "has_prepay": False,
                "instance_mode": "",
                "master_vm_count": 0,
                "master_zone_subnet_map": {},
                "timeouts": None,
                "vpc_cidr": "192.168.0.0/16",
                "vpc_uuid": "b3c1e0f2-7d4a-4c55-9b1e-0f8f2d6a9c11",
                "worker_instances_list": [],
            }
        )
    return out


def kubeconfig_data_source(cluster_uuid: str) -> dict[str, Any]:
    return {
        "cluster_uuid": cluster_uuid,
        "config_type": None,
        "data": "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: S3CRET-KEY\n",
        "id": "terraform-20250301081530123400000001",
        "output_file": None,
    }


# --- the v4 layout -----------------------------------------------------------------------------


def instance(
    attributes: Mapping[str, Any],
    index_key: int | str | None = None,
    *,
    status: str | None = None,
    deposed: str | None = None,
    sensitive: Sequence[Sequence[Mapping[str, Any]]] = (),
    data_source: bool = False,
    dependencies: Sequence[str] = (),
) -> dict[str, Any]:
    """One ``instances[]`` element, keys in Terraform's order (section 1.3)."""
    out: dict[str, Any] = {}
    if index_key is not None:
        out["index_key"] = index_key
    if status:
        out["status"] = status
    if deposed:
        out["deposed"] = deposed
    out["schema_version"] = 0
    out["attributes"] = copy.deepcopy(dict(attributes))
    out["sensitive_attributes"] = [list(path) for path in sensitive]
    if not data_source:
        out["private"] = PRIVATE
    if dependencies:
        out["dependencies"] = list(dependencies)
    return out


def resource(
    rtype: str,
    name: str,
    instances: Sequence[Mapping[str, Any]],
    *,
    module: str | None = None,
    mode: str = "managed",
    provider: str = PROVIDER,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if module:
        out["module"] = module
    out.update({"mode": mode, "type": rtype, "name": name, "provider": provider})
    out["instances"] = list(instances)
    return out


def state(resources: Sequence[Mapping[str, Any]], serial: int = 7) -> dict[str, Any]:
    """A whole v4 state, resources sorted as Terraform sorts them (section 1.2)."""
    ordered = sorted(
        resources, key=lambda r: (r.get("module", ""), r["mode"] != "data", r["type"], r["name"])
    )
    return {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": serial,
        "lineage": "3f0c9a6e-5b1d-4c2a-9e8f-1a2b3c4d5e6f",
        "outputs": {},
        "resources": ordered,
        "check_results": None,
    }


def dumps(document: Mapping[str, Any]) -> str:
    """As Terraform writes it: two-space indents and one trailing newline (section 1.1)."""
    return json.dumps(document, indent=2) + "\n"


def _merge(target: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Set ``values`` into ``target``; a one-element list of objects is merged element-wise."""
    for key, value in values.items():
        have = target.get(key)
        if (
            isinstance(value, list)
            and len(value) == 1
            and isinstance(value[0], dict)
            and isinstance(have, list)
            and len(have) == 1
            and isinstance(have[0], dict)
        ):
            _merge(have[0], value[0])
        else:
            target[key] = value
