"""Repositories: a set of tags in a namespace, with a description. Tags are a set; the id is
``NAMESPACE/NAME``; deleting the namespace deletes its repositories."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.errors import NotFoundError
from reconciler.kinds.base import Kind, LiveObject, Operations, RefreshContext
from reconciler.model import Address, DesiredState, RepositorySpec

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reconciler.client.v1 import CceClient
    from reconciler.client.v1_types import Image
    from reconciler.plan import Change
    from reconciler.state import ResourceState


def namespace_of(address: Address) -> str:
    # namespaces hold no "/" (the config forbids it), repository names may: split at the first
    return address.name.split("/", 1)[0]


class RepositoryKind(Kind):
    name = "repository"
    plural = "repositories"
    config_section = "repositories"
    # The registry has no read of one repository: a repository a complete image list leaves
    # out is gone (its name is its id, so creating it again cannot make a second one).
    listed_absence_is_final = True
    read_with = ("user", "namespace")
    spec_type = RepositorySpec

    def desired_attrs(self, spec: RepositorySpec) -> dict[str, Any]:
        # an undeclared description is the empty one: removing the key clears the text
        return {
            "namespace": spec.namespace,
            "name": spec.name,
            "tags": sorted(set(spec.tags)),
            "description": spec.description or "",
        }

    def rename_signature(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> Any:
        return (attrs.get("namespace"), tuple(attrs.get("tags", ())), attrs.get("description"))

    def loses_on_delete(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> str:
        tags = ", ".join(attrs.get("tags", ())) or "no tags"
        return f"its images ({tags})"

    def dependencies(self, spec: RepositorySpec, desired: DesiredState) -> tuple[Address, ...]:
        return (Address("namespace", spec.namespace),)

    def container_of(self, address: Address) -> Address | None:
        return Address("namespace", namespace_of(address))

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return f"{attrs['namespace']}/{attrs['name']}"

    def export_entry(self, live: LiveObject) -> dict[str, Any]:
        entry = {k: live.attrs[k] for k in ("namespace", "name", "tags")}
        if live.attrs.get("description"):
            entry["description"] = live.attrs["description"]
        return entry

    def live_object(self, image: Image) -> LiveObject:
        cloud_id = f"{image.namespace}/{image.repository}"
        attrs = {
            "namespace": image.namespace,
            "name": image.repository,
            "tags": sorted(set(image.tags or [])),
            "description": image.description or "",
        }
        return LiveObject(Address(self.name, cloud_id), cloud_id, attrs)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        users = ctx.found.get("user", [])
        if not users:
            return []
        return [self.live_object(image) for image in ctx.client.list_images(users[0].cloud_id)]

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        namespace, _, name = cloud_id.partition("/")
        found = client.find_image(namespace, name)
        return self.live_object(found) if found is not None else None

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        after = change.after or {}
        for tag in after.get("tags", []):
            # POST /v1/image/meta is an upsert (provisional contract), so a resend is harmless
            ops.client.create_image_meta(
                after["namespace"], after["name"], tag, after.get("description")
            )
        return entry

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        after, before = change.after or {}, change.before or {}
        namespace, name = after["namespace"], after["name"]
        want, have = set(after.get("tags", [])), set(before.get("tags", []))
        description = after.get("description")
        added = sorted(want - have)
        for tag in added:
            ops.client.create_image_meta(namespace, name, tag, description)
        if description != before.get("description") and not added and want:
            ops.client.create_image_meta(namespace, name, sorted(want)[0], description)
        for tag in sorted(have - want):
            try:
                ops.client.delete_image_meta(namespace, name, tag)
            except NotFoundError:
                pass

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        # tag by tag: a DELETE without a tag may be refused (docs/api-contract.md)
        namespace, _, name = cloud_id.partition("/")
        ops.client.delete_repository(namespace, name, user=ops.registry_user)
