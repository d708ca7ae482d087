"""Replication endpoints (remote registries) of a CCR Enterprise instance
(``ccr_replication_endpoint.<instance>/<name>``): the registries its migration rules copy
images from, with their credential.

Every field changes in place (the update sends the whole body, the password included, so the
password is resent with any change); the password is a secret reference (``{env: ...}`` or
``{file: ...}``), compared with state's salted hash and set again when it changes. Before a
create or an update, apply asks the instance to reach the remote with those settings (ping)
and stops with the answer if it cannot. The create takes no client token: after a lost answer
the list says whether it landed (names are unique per instance)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.client.ccr_values import REGISTRY_TYPES
from reconciler.errors import AlreadyExistsError
from reconciler.kinds.base import (
    API_NAME,
    ConflictError,
    Kind,
    LiveObject,
    Operations,
    PlanView,
    RefreshContext,
    create_once,
    instance_dependency,
    instance_field,
    missing_instance,
    per_instance,
    scoped_id,
    split_scoped,
)
from reconciler.kinds.fields import IN_PLACE, REPLACE, Field, Section, boolean, choice, text
from reconciler.model import Address, DesiredState, Spec

if TYPE_CHECKING:
    from reconciler.client.ccr import CcrClient
    from reconciler.client.ccr_types import Registry, RegistryRequest
    from reconciler.client.v1 import CceClient
    from reconciler.plan import Change
    from reconciler.state import ResourceState

NAME = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
PASSWORD_PLACEHOLDER = "REGISTRY_PASSWORD"


class CcrReplicationEndpointKind(Kind):
    name = "ccr_replication_endpoint"
    noun = "CCR replication endpoint"
    api_name = API_NAME
    section = Section(
        "ccr_replication_endpoints",
        "CCR Enterprise replication endpoints",
        "Remote registries a CCR Enterprise instance copies images from, with their credential.",
    )
    identity = ("instance", "name")
    title = "CCR Enterprise replication endpoint"
    summary = (
        "A remote registry of a CCR Enterprise instance (address "
        "ccr_replication_endpoint.<instance>/<name>); its password is a secret reference."
    )
    fields = (
        instance_field(),
        Field(
            "name",
            "Name",
            "Its name in the instance: letters, digits, '.', '_' or '-'.",
            text(NAME),
            required=True,
            change=REPLACE,
            why="another name is another endpoint",
            doc="1-128 letters, digits, `.` `_` `-`",
        ),
        Field(
            "type",
            "Type",
            "What the remote is.",
            choice(*REGISTRY_TYPES),
            required=True,
            change=IN_PLACE,
            doc=" / ".join(f"`{t}`" for t in REGISTRY_TYPES),
        ),
        Field(
            "url",
            "URL",
            "The remote's address, http(s)://host[:port][/path].",
            text("^https?://[^\\s/]+(/\\S*)?$"),
            required=True,
            change=IN_PLACE,
            doc="an http(s) URL",
        ),
        Field(
            "description",
            "Description",
            "Free text. Default empty.",
            {"type": "string", "maxLength": 1024},
            default="",
            change=IN_PLACE,
            doc="text; default empty",
        ),
        Field(
            "insecure",
            "Skip certificate checks",
            "Do not verify the remote's TLS certificate. Default false.",
            boolean(),
            default=False,
            change=IN_PLACE,
            doc="`true` / `false`, default `false`",
        ),
        Field(
            "username",
            "User name",
            "The user to log in to the remote as (basic credential). Left out: anonymous.",
            {"type": "string", "minLength": 1},
            change=IN_PLACE,
            wire="credential.accessKey",
            doc="text; with `password`",
        ),
        Field(
            "password",
            "Password",
            "The remote user's password or token, as {env: NAME} or {file: PATH}; never stored.",
            secret=True,
            change=IN_PLACE,
            wire="credential.accessSecret",
            placeholder=PASSWORD_PLACEHOLDER,
            doc="`{env: NAME}` or `{file: PATH}`; with `username`",
        ),
    )
    live_outputs = ("status",)
    read_with = ("ccr_instance",)

    def dependencies(self, spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
        return instance_dependency(spec, desired)

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        missing = missing_instance(str(spec.attrs["instance"]), view)
        if missing:
            return missing
        if ("username" in spec.attrs) != ("password" in spec.secrets):
            return "username and password go together (a basic credential), or neither"
        return None

    def export_entry(self, live: LiveObject) -> dict[str, Any] | None:
        entry = super().export_entry(live) or {}
        if "username" not in entry:
            entry.pop("password", None)  # anonymous: no credential to fill in
        return entry

    def request(self, ops: Operations, change: Change) -> RegistryRequest:
        from reconciler.client.ccr_types import RegistryCredential, RegistryRequest  # applying

        after = change.after or {}
        credential = None
        if after.get("username"):
            password = ops.secret(change, "password") or ""
            credential = RegistryCredential(str(after["username"]), access_secret=password)
        return RegistryRequest(
            str(after["name"]),
            str(after["type"]),
            str(after["url"]),
            description=str(after.get("description", "")),
            insecure=bool(after.get("insecure")),
            credential=credential,
        )

    # --- reading -----------------------------------------------------------------------------

    def live_object(self, instance_id: str, registry: Registry) -> LiveObject:
        cloud_id = scoped_id(instance_id, registry.registry_id)
        attrs: dict[str, Any] = {
            "instance": instance_id,
            "name": registry.name,
            "type": registry.type,
            "url": registry.url,
            "description": registry.description,
            "insecure": registry.insecure,
        }
        if registry.access_key:
            attrs["username"] = registry.access_key
        address = Address(self.name, f"{instance_id}/{registry.name}")
        return LiveObject(address, cloud_id, attrs, registry.status)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        def read(ccr: CcrClient, instance_id: str) -> list[LiveObject]:
            return [self.live_object(instance_id, r) for r in ccr.list_registries(instance_id)]

        return per_instance(ctx, read)

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        instance_id, registry_id = split_scoped(cloud_id)
        found = [
            r for r in client.ccr.list_registries(instance_id) if str(r.registry_id) == registry_id
        ]
        return self.live_object(instance_id, found[0]) if found else None

    # --- changing ----------------------------------------------------------------------------

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        instance_id = str((change.after or {})["instance"])
        ccr = ops.client.ccr
        request = self.request(ops, change)
        ccr.ping_registry(instance_id, request)

        def send() -> str:
            try:
                return scoped_id(instance_id, ccr.create_registry(instance_id, request))
            except AlreadyExistsError:
                raise ConflictError(
                    f"{change.address}: a remote registry named {request.name} already exists "
                    "and this state does not manage it; import it or choose another name"
                ) from None

        def same_name() -> list[str]:
            found = ccr.list_registries(instance_id)
            return [scoped_id(instance_id, r.registry_id) for r in found if r.name == request.name]

        cloud_id = create_once(ops, change, send, same_name)
        ops.record_cloud_id(cloud_id)
        return entry.evolve(cloud_id=cloud_id)

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        instance_id, registry_id = split_scoped(entry.cloud_id)
        request = self.request(ops, change)
        ops.client.ccr.ping_registry(instance_id, request)
        ops.client.ccr.update_registry(instance_id, int(registry_id), request)

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        instance_id, registry_id = split_scoped(cloud_id)
        ops.client.ccr.delete_registry(instance_id, int(registry_id))
