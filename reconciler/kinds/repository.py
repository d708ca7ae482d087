"""Repositories: a set of tags in a namespace, with a description. Tags are a set; the id is
``NAMESPACE/NAME``; deleting the namespace deletes its repositories."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.errors import NotFoundError
from reconciler.kinds.base import (
    Kind,
    LiveObject,
    Operations,
    RefreshContext,
    probe_user_list,
    registry_user,
)
from reconciler.kinds.fields import IN_PLACE, Field, Section, text, with_variables
from reconciler.model import Address, DesiredState
from reconciler.probes import Doctor, Phase, Probe

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reconciler.client.v1 import CceClient
    from reconciler.client.v1_types import Image
    from reconciler.plan import Change, LiveState
    from reconciler.state import ResourceState

NAMESPACE = "^[A-Za-z][A-Za-z0-9_.-]{0,64}$"  # a namespace's name (no "/")
NAME = "^[A-Za-z][A-Za-z0-9_./-]{0,64}$"
TAG = "^[A-Za-z0-9][A-Za-z0-9_./-]{0,64}$"


NAMESPACE_KIND = "namespace"


def namespace_of(address: Address) -> str:
    # namespaces hold no "/" (the config forbids it), repository names may: split at the first
    return address.name.split("/", 1)[0]


def tag_set(tags: list[str]) -> list[str]:
    """Tags are a set: their order does not matter."""
    return sorted(set(tags))


def _probe_images(doctor: Doctor) -> None:
    from reconciler.client import v1  # when doctor runs: validate needs no client

    probe_user_list(doctor, "images", v1.IMAGE_PATH, v1.IMAGES_KEY, v1.image_from)


def _probe_image_meta_get(doctor: Doctor) -> None:
    """The single GET of an image tag, whose shape is unconfirmed: say what it returned."""
    from reconciler.client import v1  # when doctor runs: validate needs no client

    listed = doctor.found.get("images")
    tagged = next((i for i in listed.items if i.tags), None) if listed is not None else None
    if tagged is None:
        return
    query: dict[str, str | None] = dict(
        v1.image_meta_query(tagged.namespace, tagged.repository, tagged.tags[0])
    )
    with doctor.answer("image meta get", f"GET {v1.IMAGE_META_PATH}"):
        response = doctor.get(v1.IMAGE_META_PATH, query)
        doctor.note_shape(
            "image meta get", v1.IMAGE_META_PATH, response, v1.image_meta_from, "the image list"
        )


class RepositoryKind(Kind):
    name = "repository"
    plural = "repositories"
    section = Section(
        "repositories",
        "Repositories",
        "Image repositories with their tags; each names a declared namespace.",
    )
    identity = ("namespace", "name")
    title = "Repository"
    summary = "An image repository and its tags (address repository.<namespace>/<name>)."
    fields = (
        Field(
            "namespace",
            "Namespace",
            "The namespace that holds the repository; it must be declared under namespaces.",
            text(NAMESPACE),
            required=True,
            refers_to="namespace",
            wire="namespace",
            doc="a namespace declared under `namespaces` (in any file)",
        ),
        Field(
            "name",
            "Name",
            '1-65 letters, digits, "-", "_", "/" or ".", starting with a letter.',
            text(NAME),
            required=True,
            wire="repository",
            doc="1-65 letters, digits, `-` `_` `/` `.`, starting with a letter",
        ),
        Field(
            "tags",
            "Tags",
            'One or more unique tags, each 1-65 letters, digits, "-", "_", "/" or ".", starting '
            "with a letter or digit.",
            {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {
                    "title": "Tag",
                    "description": '1-65 letters, digits, "-", "_", "/" or ".", starting with a '
                    "letter or digit.",
                    **with_variables(text(TAG)),
                },
            },
            required=True,
            change=IN_PLACE,
            why="tags are a set: order does not matter",
            normalize=tag_set,
            wire="tags",
            doc="1 or more unique tags, each 1-65 letters, digits, `-` `_` `/` `.`, starting "
            "with a letter or digit",
        ),
        Field(
            "description",
            "Description",
            "Free text shown in the registry.",
            text(),
            default="",  # removing the key clears the text
            change=IN_PLACE,
            wire="description",
            doc="free text",
        ),
    )
    # The registry has no read of one repository: a repository a complete image list leaves
    # out is gone (its name is its id, so creating it again cannot make a second one).
    listed_absence_is_final = True
    read_with = ("user", "namespace")
    listed_per_registry_user = True

    def probes(self) -> tuple[Probe, ...]:
        return (
            Probe("images", Phase.LISTS, _probe_images),
            Probe("image meta get", Phase.NOTES, _probe_image_meta_get),
        )

    def rename_signature(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> Any:
        return (attrs.get("namespace"), tuple(attrs.get("tags", ())), attrs.get("description"))

    def loses_on_delete(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> str:
        tags = ", ".join(attrs.get("tags", ())) or "no tags"
        return f"its images ({tags})"

    def container_of(self, address: Address) -> Address | None:
        return Address(NAMESPACE_KIND, namespace_of(address))

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return f"{attrs['namespace']}/{attrs['name']}"

    def apply_inputs(self, desired: DesiredState, live: LiveState) -> str | None:
        return registry_user(desired, live)  # a delete names it

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
        # made page by page, while the next page is on its way
        return ctx.per_registry_user(
            lambda client, user: list(client.list_images(user, each=self.live_object))
        )

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
        ops.client.delete_repository(namespace, name, user=ops.inputs)
