"""Frozen value types for what the CCE v1 API returns and for the bodies the client sends.

For: turning JSON answers into typed, immutable values, and typed request bodies into JSON
(``to_wire``, omitting unset optional fields like the Go SDK's ``omitempty``). Not for: HTTP
(``transport``) or which endpoint returns what (``v1``).

Answers are read strictly where the reconciler decides from them: a key it relies on (ids,
names, statuses, list keys, paging markers) that is missing, ``null`` or of the wrong type
raises :class:`~reconciler.errors.ShapeError`, never a default, because "nothing there" read
from a malformed answer would make apply create duplicates or destroy forget objects. Fields the
API documents as optional (or that only inform the user) keep a default; unknown fields are
ignored; optional text (``instanceType``) may be a number or a string, but the ids, names and
statuses decided from must be strings.

A ShapeError raised here names the key path (``clusters[3].status: missing``) and the keys the
object did have; ``v1`` adds the endpoint, the status and the request id of the answer.

The registry types (``Namespace``, ``Image``, ``ImageMeta``) are provisional: their JSON field
names live in ``v1.py``'s provisional section, next to the requests (docs/api-contract.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field, fields, is_dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from reconciler.client.answers import frozen
from reconciler.errors import ShapeError
from reconciler.records import frozen_record

T = TypeVar("T")
_ABSENT: Any = object()
_KEYS_SHOWN = 20

# --- readers: required ones raise ShapeError, optional ones take a default for missing/null --


def obj(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ShapeError(f"{what}: expected a JSON object, got {_kind(data)}")
    return data


def keys_seen(data: Any) -> str:
    """The keys an answer object had, for error messages: ``{a, b, c}``."""
    if not isinstance(data, Mapping):
        return _kind(data)
    names = sorted(str(k) for k in data)
    more = f", ... {len(names) - _KEYS_SHOWN} more" if len(names) > _KEYS_SHOWN else ""
    return "{" + ", ".join(names[:_KEYS_SHOWN]) + more + "}"


def _problem(data: Mapping[str, Any], key: str, problem: str) -> ShapeError:
    return ShapeError(f"{key}: {problem} (keys present: {keys_seen(data)})")


def _present(data: Mapping[str, Any], key: str) -> Any:
    """The value of a required key; missing and null are both errors."""
    value = data.get(key, _ABSENT)
    if value is _ABSENT:
        raise _problem(data, key, "missing")
    if value is None:
        raise _problem(data, key, "null")
    return value


def _as_text(data: Mapping[str, Any], key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _problem(data, key, f"expected a string, got {_kind(value)}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    """An optional string field; numbers are accepted and written as text (``instanceType: 10``)."""
    value = data.get(key)
    return default if value is None else _as_text(data, key, value)


def required_text(data: Mapping[str, Any], key: str) -> str:
    """A string the reconciler relies on (an id, a name, a status): present, a JSON string
    (a number in its place is not the same name: ``7`` for ``ccetest`` would read as another
    object) and not empty."""
    value = _present(data, key)
    if not isinstance(value, str):
        raise _problem(data, key, f"expected a string, got {_kind(value)}")
    if not value:
        raise _problem(data, key, "empty")
    return value


def _as_number(data: Mapping[str, Any], key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise _problem(data, key, "expected a number, got a boolean")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value)):
        return int(value)
    raise _problem(data, key, f"expected an integer, got {_kind(value)}")


def number(data: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = data.get(key)
    return default if value is None or value == "" else _as_number(data, key, value)


def required_number(data: Mapping[str, Any], key: str) -> int:
    return _as_number(data, key, _present(data, key))


def count(data: Mapping[str, Any], key: str) -> int:
    """An optional count (0 when missing): a negative one is not a count."""
    value = number(data, key)
    if value < 0:
        raise _problem(data, key, f"{value} is negative, not a count")
    return value


def _as_flag(data: Mapping[str, Any], key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _problem(data, key, f"expected a boolean, got {_kind(value)}")


def flag(data: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key)
    return default if value is None else _as_flag(data, key, value)


def required_flag(data: Mapping[str, Any], key: str) -> bool:
    return _as_flag(data, key, _present(data, key))


def _as_list(data: Mapping[str, Any], key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _problem(data, key, f"expected a list, got {_kind(value)}")
    return value


def items(data: Mapping[str, Any], key: str) -> list[Any]:
    """A list the reconciler relies on: ``{}`` or ``null`` is not an empty list."""
    return _as_list(data, key, _present(data, key))


def optional_items(data: Mapping[str, Any], key: str) -> list[Any]:
    """A list the API documents as optional (or that only informs): missing or null is empty."""
    value = data.get(key)
    return [] if value is None else _as_list(data, key, value)


def _strings(data: Mapping[str, Any], key: str, values: list[Any]) -> tuple[str, ...]:
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise _problem(data, f"{key}[{index}]", f"expected a string, got {_kind(value)}")
    return tuple(values)


def texts(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A required list of strings."""
    return _strings(data, key, items(data, key))


def optional_texts(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return _strings(data, key, optional_items(data, key))


def each(
    data: Mapping[str, Any], key: str, parse: Callable[[Any], T], *, required: bool = True
) -> tuple[T, ...]:
    """Every object of a list, parsed; an error inside one names it (``nodes[2].status``)."""
    found: list[T] = []
    values = items(data, key) if required else optional_items(data, key)
    for index, value in enumerate(values):
        where = f"{key}[{index}]"
        if not isinstance(value, Mapping):
            raise ShapeError(f"{where}: expected a JSON object, got {_kind(value)}")
        try:
            found.append(parse(value))
        except ShapeError as exc:
            raise ShapeError(f"{where}.{exc.message}") from None
    return tuple(found)


def sub_object(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An optional object field; missing or null is an empty mapping."""
    value = data.get(key)
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise _problem(data, key, f"expected a JSON object, got {_kind(value)}")
    return frozen(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "list", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


# Mapping fields are read-only views but not hashable: they stay out of the hash (and raw JSON
# out of comparisons too), so that every answer type remains a hashable frozen value.
def _mapping(compare: bool = True, show: bool = True) -> Any:
    return field(default_factory=_empty, hash=False, compare=compare, repr=show)


# --- answers ---------------------------------------------------------------------------------


class Listing(tuple[T, ...]):
    """The items of a complete list answer (a tuple), and which requests answered it, so that
    a kind can name them when two answers contradict each other."""

    request_ids: tuple[str, ...]
    where: str  # "GET /v1/node"

    def __new__(
        cls, items: Iterable[T], where: str = "", request_ids: Iterable[str] = ()
    ) -> Listing[T]:
        listing = super().__new__(cls, items)
        listing.where = where
        listing.request_ids = tuple(r for r in request_ids if r)
        return listing

    def origin(self) -> str:
        """``GET /v1/node (request id r-1)``, for error messages."""
        ids = ", ".join(self.request_ids)
        label = "request ids" if len(self.request_ids) > 1 else "request id"
        return f"{self.where} ({label} {ids})" if ids else self.where


@frozen_record
class Ack:
    """The answer of a call that returns nothing (or nothing the reconciler reads)."""

    request_id: str
    data: Mapping[str, Any] = _mapping(show=False)


@frozen_record
class RegistryUser:
    """The account's registry user (``GET /v1/user``)."""

    username: str
    create_time: str = ""
    update_time: str = ""

    @classmethod
    def from_json(cls, data: Any) -> RegistryUser:
        d = obj(data, "user")
        return cls(required_text(d, "username"), text(d, "createTime"), text(d, "updateTime"))


@frozen_record
class Namespace:  # provisional shape, parsed in v1.py
    """A registry namespace."""

    namespace: str
    public: bool = False
    create_time: str = ""


@frozen_record
class Image:  # provisional shape, parsed in v1.py
    """A repository of a namespace, and its tags."""

    namespace: str
    repository: str
    tags: tuple[str, ...] = ()
    description: str = ""
    create_time: str = ""


@frozen_record
class ImageMeta:  # provisional shape, parsed in v1.py: one tag of a repository
    namespace: str
    repository: str
    tag: str
    description: str = ""
    create_time: str = ""


@frozen_record
class Instance:
    """A node as listed inside a cluster (``instanceList``): shown, never decided from, so its
    fields are optional; node decisions read ``GET /v1/node`` (``Node``)."""

    instance_short_id: str
    instance_uuid: str = ""
    instance_name: str = ""
    cluster_uuid: str = ""
    status: str = ""

    @classmethod
    def from_json(cls, data: Any) -> Instance:
        d = obj(data, "instance")
        return cls(
            text(d, "instanceShortId"),
            text(d, "instanceUuid"),
            text(d, "instanceName"),
            text(d, "clusterUuid"),
            text(d, "status"),
        )


@frozen_record
class Cluster:
    """A v1 cluster as listed (``GET /v1/cluster``); ``raw`` keeps the whole answer."""

    cluster_uuid: str
    cluster_name: str = ""
    status: str = ""
    version: str = ""
    region: str = ""
    container_net: str = ""
    main_available_zone: str = ""
    comment: str = ""
    slave_vm_count: int = 0
    master_vm_count: int = 0
    vpc_id: str = ""
    create_time: str = ""
    delete_time: str = ""
    master_exposed: bool = False
    advanced_options: Mapping[str, Any] = _mapping()
    instance_list: tuple[Instance, ...] = ()
    raw: Mapping[str, Any] = _mapping(compare=False, show=False)

    @classmethod
    def from_json(cls, data: Any) -> Cluster:
        d = obj(data, "cluster")
        return cls(
            cluster_uuid=required_text(d, "clusterUuid"),
            cluster_name=required_text(d, "clusterName"),  # the address of a cluster
            status=required_text(d, "status"),
            version=text(d, "version"),
            region=text(d, "region"),
            container_net=text(d, "containerNet"),
            main_available_zone=text(d, "mainAvailableZone"),
            comment=text(d, "comment"),
            slave_vm_count=count(d, "slaveVmCount"),
            master_vm_count=count(d, "masterVmCount"),
            vpc_id=text(d, "vpcId"),
            create_time=text(d, "createTime") or text(d, "createStartTime"),
            delete_time=text(d, "deleteTime"),
            master_exposed=flag(d, "masterExposed"),
            advanced_options=sub_object(d, "advancedOptions"),
            instance_list=each(d, "instanceList", Instance.from_json, required=False),
            raw=frozen(d),
        )


@frozen_record
class Node:
    """A node of a v1 cluster (``GET /v1/node``): what node decisions read."""

    instance_short_id: str
    instance_uuid: str = ""
    instance_name: str = ""
    cluster_uuid: str = ""
    available_zone: str = ""
    status: str = ""
    instance_type: str = ""  # a numeric code as text ("10"), whatever the server sent
    cpu: int = 0
    memory: int = 0
    sys_disk: int = 0
    fix_ip: str = ""
    eip: str = ""
    payment_method: str = ""
    create_time: str = ""
    raw: Mapping[str, Any] = _mapping(compare=False, show=False)

    @classmethod
    def from_json(cls, data: Any) -> Node:
        d = obj(data, "node")
        return cls(
            instance_short_id=required_text(d, "instanceShortId"),
            instance_uuid=text(d, "instanceUuid"),
            instance_name=text(d, "instanceName"),
            cluster_uuid=text(d, "clusterUuid"),
            available_zone=text(d, "availableZone"),
            status=required_text(d, "status"),  # counted (or not) as a worker by status
            instance_type=text(d, "instanceType"),
            cpu=number(d, "cpu"),
            memory=number(d, "memory"),
            sys_disk=number(d, "sysDisk"),
            fix_ip=text(d, "fixIp"),
            eip=text(d, "eip"),
            payment_method=text(d, "paymentMethod"),
            create_time=text(d, "createTime"),
            raw=frozen(d),
        )


@frozen_record
class ClusterOrder:
    """The answer of a cluster create or scale-up: the cluster and the orders placed."""

    cluster_uuid: str
    order_ids: tuple[str, ...] = ()
    request_id: str = ""

    @classmethod
    def from_json(cls, data: Any, request_id: str = "") -> ClusterOrder:
        d = obj(data, "cluster order")
        return cls(required_text(d, "clusterUuid"), optional_texts(d, "orderId"), request_id)


CreatedCluster = ClusterOrder


@frozen_record
class Quota:  # [INFERRED] shape, docs/api-contract.md; every figure required (no "0 left")
    cluster: int = 0
    cluster_used: int = 0
    slave: int = 0
    slave_used: int = 0
    raw: Mapping[str, Any] = _mapping(compare=False, show=False)

    @classmethod
    def from_json(cls, data: Any) -> Quota:
        d = obj(data, "quota")
        return cls(
            required_number(d, "cluster"),
            required_number(d, "clusterUsed"),
            required_number(d, "slave"),
            required_number(d, "slaveUsed"),
            frozen(d),
        )


@frozen_record
class ContainerNet:
    container_net: str
    capacity: int = 0

    @classmethod
    def from_json(cls, data: Any) -> ContainerNet:
        d = obj(data, "container net")
        return cls(required_text(d, "containerNet"), number(d, "capacity"))


@frozen_record
class ExistedNode:
    """A BCC instance that could be shifted into a cluster."""

    instance_id: str
    name: str = ""
    status: str = ""
    payment: str = ""
    internal_ip: str = ""

    @classmethod
    def from_json(cls, data: Any) -> ExistedNode:
        d = obj(data, "existed node")
        return cls(
            required_text(d, "instanceId"),
            text(d, "name"),
            text(d, "status"),
            text(d, "payment"),
            text(d, "internalIp"),
        )


# --- request bodies --------------------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _wire_name(name: str) -> dict[str, str]:
    return {"wire": name}


def to_wire(value: Any) -> Any:
    """JSON for a request value: dataclass fields in camelCase, None fields left out."""
    if isinstance(value, OrderContent):
        return {"items": [{"config": to_wire(item)} for item in value.items]}
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.metadata.get("wire", _camel(f.name)): to_wire(getattr(value, f.name))
            for f in fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    return value


@frozen_record
class DiskSize:
    size: str  # gigabytes, as a string on the wire
    volume_type: str = "sata"  # sata | ssd | premium_ssd
    snapshot_id: str | None = None


@frozen_record
class CdsPreMountInfo:
    mount_path: str
    cds_config: tuple[DiskSize, ...] = ()


@frozen_record
class AdvancedOptions:
    kube_proxy_mode: str | None = None  # iptables | ipvs
    secure_container_enable: bool | None = None
    set_os_security: bool | None = field(default=None, metadata=_wire_name("setOSSecurity"))
    cni_mode: str | None = None  # kubenet | cni
    cni_type: str | None = None
    dns_mode: str | None = None  # kubeDNS | coreDNS
    max_pod_num: int | None = None


@frozen_record
class BccConfig:
    cpu: int
    memory: int
    image_id: str
    subnet_uuid: str
    security_group_id: str
    instance_type: str = "10"
    purchase_num: int = 1
    product_type: str = "postpay"
    image_type: str = "common"
    gpu_count: int = 0
    logical_zone: str | None = None
    name: str | None = None
    keypair_id: str | None = None
    gpu_card: str | None = None
    admin_pass: str | None = field(default=None, repr=False)
    purchase_length: int | None = None
    root_disk_size_in_gb: int | None = None
    root_disk_storage_type: str | None = None
    auto_renew: bool | None = None
    auto_renew_time: int | None = None
    auto_renew_time_unit: str | None = None
    service_type: str = field(default="BCC", init=False)


@frozen_record
class CdsConfig:
    cds_disk_size: tuple[DiskSize, ...]
    purchase_num: int = 1
    product_type: str = "postpay"
    logical_zone: str | None = None
    purchase_length: int | None = None
    auto_renew_time: int | None = None
    auto_renew_time_unit: str | None = None
    service_type: str = field(default="CDS", init=False)


@frozen_record
class EipConfig:
    bandwidth_in_mbps: int
    sub_product_type: str = "netraffic"  # bandwidth | netraffic
    purchase_num: int = 1
    product_type: str = "postpay"
    name: str | None = None
    purchase_length: int | None = None
    auto_renew_time: int | None = None
    auto_renew_time_unit: str | None = None
    service_type: str = field(default="EIP", init=False)


@frozen_record
class OrderContent:
    """``{"items": [{"config": ...}]}``: what is bought for the nodes."""

    items: tuple[BccConfig | CdsConfig | EipConfig, ...]

    @classmethod
    def of(cls, configs: Iterable[BccConfig | CdsConfig | EipConfig]) -> OrderContent:
        return cls(tuple(configs))


@frozen_record
class CreateClusterArgs:
    cluster_name: str
    version: str
    main_available_zone: str
    container_net: str
    order_content: OrderContent
    deploy_mode: str = "BCC"
    advanced_options: AdvancedOptions | None = None
    cds_pre_mount_info: CdsPreMountInfo | None = None
    comment: str | None = None
    dcc_uuid: str | None = None
    master_exposed: bool | None = None
    master_order_content: OrderContent | None = None
