"""Order contents (``orderContent``): what a create or a scale-up asks to buy.

For: reading ``{"items": [{"config": {...serviceType...}}]}`` (cce-v1-api.md section 1.1) into
values the cluster model can check and turn into nodes. Wrong JSON types are
``InappropriateJSON``; impossible values are ``Cce.IllegalArguments``.
Not for: rules that need the cluster (zone, quotas, pay type): see :mod:`.models`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..params import Json
from .errors import READ, illegal

SERVICE_TYPES = frozenset({"BCC", "CDS", "EIP"})
PAY_TYPES = frozenset({"postpay", "prepay"})


@dataclass(frozen=True)
class Machine:
    """One BCC item: ``count`` identical worker nodes."""

    count: int
    zone: str | None
    product_type: str
    instance_type: str
    cpu: int
    memory: int
    name: str
    subnet: str
    security_group: str
    image_id: str
    root_disk_gb: int


@dataclass(frozen=True)
class Order:
    machines: tuple[Machine, ...]
    product_types: tuple[str, ...]  # of every item, in order
    disk_gb: int  # CDS data disks, per node
    eip_bandwidth: int  # 0 = no EIP
    item_count: int

    @property
    def node_count(self) -> int:
        return sum(m.count for m in self.machines)

    @property
    def has_prepay(self) -> bool:
        return "prepay" in self.product_types


def parse_order(value: Json) -> Order:
    configs = [_config(item) for item in READ.object_list(value, "items")]
    machines = tuple(_machine(c) for c in configs if c.get("serviceType") == "BCC")
    disks = [_disk_gb(c) for c in configs if c.get("serviceType") == "CDS"]
    eips = [READ.number(c, "bandwidthInMbps") for c in configs if c.get("serviceType") == "EIP"]
    return Order(
        machines=machines,
        product_types=tuple(READ.text(c, "productType", "postpay") for c in configs),
        disk_gb=sum(disks),
        eip_bandwidth=max(eips, default=0),
        item_count=len(configs),
    )


def _config(item: Json) -> Json:
    config = READ.opt_obj(item, "config")
    if config is None or READ.opt_str(config, "serviceType") not in SERVICE_TYPES:
        raise illegal("each order item needs a config with serviceType")
    return config


def _machine(config: Json) -> Machine:
    machine = Machine(
        count=READ.number(config, "purchaseNum", 1),
        zone=READ.opt_str(config, "logicalZone") or None,
        product_type=READ.text(config, "productType", "postpay"),
        instance_type=READ.opt_code(config, "instanceType") or "10",
        cpu=READ.number(config, "cpu", 2),
        memory=READ.number(config, "memory", 8),
        name=READ.text(config, "name"),
        subnet=READ.text(config, "subnetUuid"),
        security_group=READ.text(config, "securityGroupId"),
        image_id=READ.text(config, "imageId"),
        root_disk_gb=READ.number(config, "rootDiskSizeInGb", 40),
    )
    if min(machine.count, machine.cpu, machine.memory, machine.root_disk_gb) < 0:
        raise illegal("negative purchaseNum, cpu, memory or disk")
    return machine


def _disk_gb(config: Json) -> int:
    total = 0
    for disk in READ.object_list(config, "cdsDiskSize"):
        size = READ.opt_code(disk, "size") or "0"  # a string on the wire ("50")
        if not size.isdigit():
            raise illegal(f"disk size {size!r} is not a number")
        total += int(size)
    return total
