"""Private (VPC) links of a CCR Enterprise instance
(``ccr_private_link.<instance>/<vpcID>/<subnetID>``): the instance reachable from a subnet.

A link is identified by its VPC and subnet; the way its address is chosen (``ipType``,
``ipAddress``) and ``autoDnsResolve`` cannot be changed (delete and create). Creating one is
asynchronous: apply waits until the listed status settles. The create call takes no client
token and its answer is not read (the SDK's own decoder fails on it): after a lost answer the
list says whether it landed."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from reconciler import waiters
from reconciler.client.ccr_values import IP_TYPES
from reconciler.errors import AlreadyExistsError
from reconciler.kinds.base import (
    API_NAME,
    Kind,
    LiveObject,
    Operations,
    PlanView,
    RefreshContext,
    adopt_if_same,
    instance_dependency,
    instance_field,
    missing_instance,
    per_instance,
    send_once_then_read,
)
from reconciler.kinds.fields import REPLACE, Field, Section, boolean, choice, text
from reconciler.model import Address, DesiredState, Spec

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from reconciler.client.ccr import CcrClient
    from reconciler.client.ccr_types import PrivateLink
    from reconciler.client.v1 import CceClient
    from reconciler.plan import Change
    from reconciler.state import ResourceState

# NOT ESTABLISHED: the emulator's spelling of a link being made and made (docs/api-contract.md).
CREATING = "creating"
CREATED = waiters.Waiter("creating the private link", {"created": waiters.SUCCESS}, timeout=900)
DELETED = waiters.Waiter("deleting the private link", {waiters.GONE: waiters.SUCCESS}, timeout=900)


def split_link(cloud_id: str) -> tuple[str, str, str]:
    instance_id, vpc_id, subnet_id = cloud_id.split("/", 2)
    return instance_id, vpc_id, subnet_id


class CcrPrivateLinkKind(Kind):
    name = "ccr_private_link"
    noun = "CCR private link"
    api_name = API_NAME
    section = Section(
        "ccr_private_links",
        "CCR Enterprise private links",
        "VPC subnets from which an instance is reached over a private address.",
    )
    identity = ("instance", "vpcID", "subnetID")
    title = "CCR Enterprise private link"
    summary = (
        "A private link from a VPC subnet to a CCR Enterprise instance (address "
        "ccr_private_link.<instance>/<vpcID>/<subnetID>)."
    )
    fields = (
        instance_field(),
        Field(
            "vpcID",
            "VPC",
            "The VPC's id.",
            text("^vpc-[A-Za-z0-9]+$"),
            required=True,
            change=REPLACE,
            why="another VPC is another link",
            doc="a VPC id such as `vpc-a1b2c3d4e5f6`",
        ),
        Field(
            "subnetID",
            "Subnet",
            "The subnet's id, in that VPC.",
            text("^sbn-[A-Za-z0-9]+$"),
            required=True,
            change=REPLACE,
            why="another subnet is another link",
            doc="a subnet id such as `sbn-a1b2c3d4e5f6`",
        ),
        Field(
            "ipType",
            "Address choice",
            "auto: the service picks the link's address; manual: ipAddress. Default auto.",
            choice(*IP_TYPES),
            default="auto",
            change=REPLACE,
            why="the API has no update for a link",
            doc="`auto` or `manual`, default `auto`",
        ),
        Field(
            "ipAddress",
            "Address",
            "The link's IPv4 address in the subnet, with ipType manual only.",
            text("^[0-9]{1,3}(\\.[0-9]{1,3}){3}$"),
            change=REPLACE,
            why="the API has no update for a link",
            doc="an IPv4 address (with `ipType: manual`)",
        ),
        Field(
            "autoDnsResolve",
            "Resolve the domain to it",
            "Whether the instance's domain resolves to the link's address inside the VPC. "
            "Default false.",
            boolean(),
            default=False,
            change=REPLACE,
            why="the API has no update for a link",
            doc="`true` / `false`, default `false`",
        ),
    )
    live_outputs = ("status", "ipAddress", "domain")
    read_with = ("ccr_instance",)
    default_timeout = 900.0

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return f"{attrs['instance']}/{attrs['vpcID']}/{attrs['subnetID']}"

    def dependencies(self, spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
        return instance_dependency(spec, desired)

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        missing = missing_instance(str(spec.attrs["instance"]), view)
        if missing:
            return missing
        manual, address = spec.attrs.get("ipType") == "manual", spec.attrs.get("ipAddress")
        if manual and not address:
            return "ipType manual needs ipAddress"
        if address and not manual:
            return "ipAddress goes with ipType manual only"
        if address:
            try:
                ipaddress.IPv4Address(address)
            except ValueError:
                return f"ipAddress {address!r} is not an IPv4 address"
        return None

    def is_ready(self, live: LiveObject) -> bool:
        return live.status != CREATING

    def live_object(self, instance_id: str, link: PrivateLink, domain: str = "") -> LiveObject:
        cloud_id = f"{instance_id}/{link.vpc_id}/{link.subnet_id}"
        attrs: dict[str, Any] = {
            "instance": instance_id,
            "vpcID": link.vpc_id,
            "subnetID": link.subnet_id,
        }
        if link.ip_address:
            attrs["ipAddress"] = link.ip_address
        # ipType and autoDnsResolve are not reported: compared with what was applied
        details = {"ipAddress": link.ip_address, "domain": domain}
        return LiveObject(Address(self.name, cloud_id), cloud_id, attrs, link.status or "", details)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        def read(ccr: CcrClient, instance_id: str) -> list[LiveObject]:
            networks = ccr.list_private_networks(instance_id)
            return [self.live_object(instance_id, x, networks.domain) for x in networks.links]

        return per_instance(ctx, read)

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        instance_id, vpc_id, subnet_id = split_link(cloud_id)
        networks = client.ccr.list_private_networks(instance_id)
        found = [x for x in networks.links if (x.vpc_id, x.subnet_id) == (vpc_id, subnet_id)]
        return self.live_object(instance_id, found[0], networks.domain) if found else None

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        after = change.after or {}
        from reconciler.client.ccr_types import PrivateLinkCreate  # applying: not to declare

        instance_id, vpc_id, subnet_id = split_link(entry.cloud_id)
        request = PrivateLinkCreate(
            vpc_id,
            subnet_id,
            ip_type=str(after.get("ipType", "auto")),
            ip_address=str(after.get("ipAddress", "")),
            auto_dns_resolve=bool(after.get("autoDnsResolve")),
        )
        try:
            send_once_then_read(
                ops,
                lambda: ops.client.ccr.create_private_network(instance_id, request),
                self,
                change,
                entry.cloud_id,
            )
        except AlreadyExistsError:
            return adopt_if_same(ops, self, change, entry)
        self.settle(ops, change, entry)
        return entry

    def settle(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        ops.wait(change.address, CREATED, self._status(ops.client, entry.cloud_id))

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        instance_id, vpc_id, subnet_id = split_link(cloud_id)
        ops.client.ccr.delete_private_network(instance_id, vpc_id, subnet_id)
        ops.wait(address, DELETED, self._status(ops.client, cloud_id))

    def _status(self, client: CceClient, cloud_id: str) -> Callable[[], str]:
        def read() -> str:
            live = self.read_one(client, Address(self.name, cloud_id), cloud_id)
            return waiters.GONE if live is None else live.status

        return read
