"""The public endpoint of a CCR Enterprise instance and its IP allow-list
(``ccr_public_access.<instance>``).

Every instance has one: a declared one is adopted on sight and set as declared in the same
apply. ``enabled`` opens or closes the endpoint (asynchronous: apply waits until the status
settles); ``allow`` is the whole allow-list, each entry an IPv4 address or network with a
description. An entry whose description changes is deleted and added again (the API has no
update). Removing the declaration closes the endpoint and empties the allow-list."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler import waiters
from reconciler.client.ccr_values import PUBLIC_CLOSED, PUBLIC_OPENED
from reconciler.errors import AlreadyExistsError
from reconciler.kinds.base import (
    API_NAME,
    ConflictError,
    Kind,
    LiveObject,
    Operations,
    PlanView,
    RefreshContext,
    instance_dependency,
    instance_field,
    missing_instance,
    per_instance,
)
from reconciler.kinds.fields import IN_PLACE, Field, Section, boolean
from reconciler.model import Address, DesiredState, Spec

if TYPE_CHECKING:
    from collections.abc import Callable

    from reconciler.client.ccr import CcrClient
    from reconciler.client.ccr_types import PublicNetwork
    from reconciler.client.v1 import CceClient
    from reconciler.plan import Change
    from reconciler.state import ResourceState

ALLOW = {
    "type": "array",
    "uniqueItems": True,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["ip"],
        "properties": {
            "ip": {
                "title": "Address",
                "description": "An IPv4 address or network (CIDR) allowed to reach the endpoint.",
                "type": "string",
                "pattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){3}(/[0-9]{1,2})?$",
            },
            "description": {
                "title": "Description",
                "description": "Why it is allowed. Default empty.",
                "type": "string",
                "maxLength": 256,
            },
        },
    },
}
SWITCHED = waiters.Waiter(
    "switching the public endpoint",
    {PUBLIC_OPENED: waiters.SUCCESS, PUBLIC_CLOSED: waiters.SUCCESS},
    timeout=600,
)


def normalized_allow(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Entries by address, each with a description ("" when left out)."""
    by_ip = {str(e["ip"]): str(e.get("description", "")) for e in entries}
    return [{"ip": ip, "description": d} for ip, d in sorted(by_ip.items())]


def ip_problem(text: str) -> str | None:
    try:
        ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        return f"allow-list address {text!r} is not an IPv4 address or network ({exc})"
    return None


class CcrPublicAccessKind(Kind):
    name = "ccr_public_access"
    plural = "ccr_public_access"
    noun = "CCR public endpoint"
    api_name = API_NAME
    section = Section(
        "ccr_public_access",
        "CCR Enterprise public endpoints",
        "Whether an instance's public endpoint is open, and who may reach it.",
    )
    identity = ("instance",)
    title = "CCR Enterprise public endpoint"
    summary = (
        "The public endpoint of a CCR Enterprise instance and its IP allow-list (address "
        "ccr_public_access.<instance>)."
    )
    fields = (
        instance_field(),
        Field(
            "enabled",
            "Enabled",
            "Whether the public endpoint is open.",
            boolean(),
            required=True,
            change=IN_PLACE,
            wire='action "open" / "close" (PUT .../publiclinks)',
            doc="`true` / `false`",
        ),
        Field(
            "allow",
            "Allow-list",
            "The whole IP allow-list: entries not listed are removed. Left out: not managed.",
            ALLOW,
            change=IN_PLACE,
            normalize=normalized_allow,
            wire="whitelist [{ipAddr, description}]",
            doc="a list of `{ip, description}`; the whole list",
            variables="",
        ),
    )
    adopts_on_sight = True
    live_outputs = ("status", "domain")
    read_with = ("ccr_instance",)

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return str(attrs["instance"])

    def dependencies(self, spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
        return instance_dependency(spec, desired)

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        missing = missing_instance(str(spec.attrs["instance"]), view)
        if missing:
            return missing
        problems = (ip_problem(e["ip"]) for e in spec.attrs.get("allow", ()))
        return next((p for p in problems if p), None)

    def is_ready(self, live: LiveObject) -> bool:
        return live.status in (PUBLIC_OPENED, PUBLIC_CLOSED)

    def live_object(self, instance_id: str, network: PublicNetwork) -> LiveObject:
        attrs = {
            "instance": instance_id,
            "enabled": network.status in (PUBLIC_OPENED, "opening"),
            "allow": normalized_allow(
                {"ip": e.ip, "description": e.description} for e in network.whitelist
            ),
        }
        details = {"domain": network.domain}
        address = Address(self.name, instance_id)
        return LiveObject(address, instance_id, attrs, network.status, details)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        def read(ccr: CcrClient, instance_id: str) -> list[LiveObject]:
            return [self.live_object(instance_id, ccr.get_public_network(instance_id))]

        return per_instance(ctx, read)

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        return self.live_object(cloud_id, client.ccr.get_public_network(cloud_id))

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        # never reached: every instance has its endpoint, adopted on sight
        raise ConflictError(f"{change.address}: an instance's public endpoint cannot be created")

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        after, before = change.after or {}, change.before or {}
        ccr, instance_id = ops.client.ccr, entry.cloud_id
        changed = {f.path for f in change.fields}
        if "allow" in changed:
            self._set_allow_list(ccr, instance_id, before.get("allow", []), after["allow"])
        if "enabled" in changed:
            self._switch(ops, change.address, instance_id, bool(after["enabled"]))

    def settle(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        ops.wait(change.address, SWITCHED, self._status(ops.client.ccr, entry.cloud_id))

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        ccr = ops.client.ccr
        listed = [e.ip for e in ccr.get_public_network(cloud_id).whitelist]
        if listed:
            ccr.delete_whitelist(cloud_id, listed)
        self._switch(ops, address, cloud_id, False)

    def _switch(self, ops: Operations, address: Address, instance_id: str, enabled: bool) -> None:
        ccr = ops.client.ccr
        ccr.switch_public_network(instance_id, "open" if enabled else "close")
        want = PUBLIC_OPENED if enabled else PUBLIC_CLOSED
        settled = waiters.Waiter(SWITCHED.name, {want: waiters.SUCCESS}, timeout=SWITCHED.timeout)
        ops.wait(address, settled, self._status(ccr, instance_id))

    def _status(self, ccr: CcrClient, instance_id: str) -> Callable[[], str]:
        return lambda: ccr.get_public_network(instance_id).status

    def _set_allow_list(
        self,
        ccr: CcrClient,
        instance_id: str,
        have: Iterable[Mapping[str, str]],
        want: Iterable[Mapping[str, str]],
    ) -> None:
        current = {e["ip"]: e["description"] for e in have}
        wanted = {e["ip"]: e["description"] for e in want}
        stale = [ip for ip, d in current.items() if wanted.get(ip, d) != d or ip not in wanted]
        if stale:
            ccr.delete_whitelist(instance_id, stale)
        for ip, description in wanted.items():
            if current.get(ip) == description:
                continue
            try:
                ccr.add_whitelist(instance_id, ip, description)
            except AlreadyExistsError:
                pass  # added by an earlier attempt whose answer was lost
