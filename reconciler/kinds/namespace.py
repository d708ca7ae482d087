"""Registry namespaces. The v1 API has no update: a change of ``public`` replaces the namespace.
Its id is its name; it is created for the account's registry user and depends on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.errors import AlreadyExistsError
from reconciler.kinds.base import (
    ConflictError,
    Kind,
    LiveObject,
    Operations,
    PlanView,
    RefreshContext,
    adopt_if_same,
    first_of,
    send_once_then_read,
)
from reconciler.model import Address, DesiredState, NamespaceSpec

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reconciler.client.v1 import CceClient
    from reconciler.client.v1_types import Namespace
    from reconciler.plan import Change
    from reconciler.state import ResourceState


class NamespaceKind(Kind):
    name = "namespace"
    spec_type = NamespaceSpec
    replace_fields = frozenset({"public"})
    config_section = "namespaces"
    read_with = ("user", "repository")

    def desired_attrs(self, spec: NamespaceSpec) -> dict[str, Any]:
        return {"name": spec.name, "public": bool(spec.public)}

    def dependencies(self, spec: NamespaceSpec, desired: DesiredState) -> tuple[Address, ...]:
        return first_of(desired, "user")

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return str(attrs["name"])

    def rename_signature(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> Any:
        # a namespace renamed with its repositories: same visibility, same repository names
        names = tuple(sorted(c.split("/", 1)[1] for c in contents))
        return (bool(attrs.get("public")), names) if names else None

    def loses_on_delete(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> str:
        return f"its repositories and their images ({', '.join(contents)})"

    def refusal(self, spec: NamespaceSpec, view: PlanView) -> str | None:
        if first_of(view.desired, "user") or view.live_objects.get("user"):
            return None
        return (
            "no registry user is declared or exists in the account, and the API creates a "
            "namespace for a user (RegistryLackParams); declare one under users:"
        )

    def export_entry(self, live: LiveObject) -> dict[str, Any]:
        return {"name": live.attrs["name"], "public": bool(live.attrs["public"])}

    def live_object(self, ns: Namespace) -> LiveObject:
        public: Any = ns.public
        if isinstance(public, str):
            public = public.lower() in ("true", "1", "yes")
        attrs = {"name": ns.namespace, "public": bool(public)}
        return LiveObject(Address(self.name, ns.namespace), ns.namespace, attrs)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        users = ctx.found.get("user", [])
        if not users:
            return []  # namespaces are listed per registry user; none exists yet
        return [self.live_object(ns) for ns in ctx.client.list_namespaces(users[0].cloud_id)]

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        # gone on a 404 of the single GET (an existence check); attributes from the list
        found = client.read_namespace(cloud_id)
        return self.live_object(found) if found is not None else None

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        name, public = entry.cloud_id, bool((change.after or {}).get("public", False))
        user = ops.registry_user
        if not user:
            raise ConflictError(
                f"{change.address}: no registry user is declared or exists; a namespace needs one"
            )
        try:
            send_once_then_read(
                ops,
                lambda: ops.client.create_namespace(name, public=public, user=user),
                self,
                change,
                name,
            )
        except AlreadyExistsError:
            return adopt_if_same(ops, self, change, entry)
        return entry

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        ops.client.delete_namespace(cloud_id)
