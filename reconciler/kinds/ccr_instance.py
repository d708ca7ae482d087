"""CCR Enterprise instances (``ccr_instance.<id>``): referenced by id and adopted, never created
or deleted by a plan. An instance is a prepaid order of months or years, and the API has no
delete (ccr-enterprise-api.md section 2): a declared instance found in the account is taken
into state on sight, one that is not found is refused, and removing it only forgets it. Its
name and its tags (the whole set) change in place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reconciler.errors import NotFoundError
from reconciler.kinds.base import (
    API_NAME,
    INSTANCE,
    INSTANCE_ID,
    ConflictError,
    Kind,
    LiveObject,
    Operations,
    PlanView,
    RefreshContext,
    missing_instance,
)
from reconciler.kinds.fields import IN_PLACE, REPLACE, Field, Section, text
from reconciler.model import Address, Spec

if TYPE_CHECKING:
    from reconciler.client.ccr_types import CcrInstance
    from reconciler.client.v1 import CceClient
    from reconciler.plan import Change
    from reconciler.state import ResourceState

TAGS = {
    "type": "object",
    "additionalProperties": False,
    "patternProperties": {
        "^[A-Za-z0-9][A-Za-z0-9_./-]{0,64}$": {
            "title": "Tag value",
            "description": "The value of the tag, as text (quote numbers).",
            "type": "string",
        }
    },
}


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """Tags as compared: a list (a mapping would count a key missing live as unknown)."""
    return [{"key": k, "value": str(v)} for k, v in sorted(tags.items())]


class CcrInstanceKind(Kind):
    name = INSTANCE
    noun = "CCR Enterprise instance"
    api_name = API_NAME
    section = Section(
        "ccr_instances",
        "CCR Enterprise instances",
        "Registry instances this configuration uses, by id: adopted, never created or deleted "
        "(they are billed).",
    )
    identity = ("id",)
    title = "CCR Enterprise instance"
    summary = (
        "An existing CCR Enterprise instance (address ccr_instance.<id>): adopted, never "
        "created or deleted by a plan; its name and tags change in place."
    )
    fields = (
        Field(
            "id",
            "Id",
            "The instance's id, as the console shows it (ccr-...).",
            text(INSTANCE_ID),
            required=True,
            change=REPLACE,
            why="another id is another instance",
            doc="an instance id such as `ccr-4lbqm4u4`",
        ),
        Field(
            "name",
            "Name",
            "The instance's name (1-256 characters). Left out: not managed.",
            {"type": "string", "minLength": 1, "maxLength": 256},
            change=IN_PLACE,
            wire="name (PUT /v1/instances/{id})",
            doc="1-256 characters; left out: not managed",
        ),
        Field(
            "tags",
            "Tags",
            "The instance's tags, key: value: the whole set (tags not listed are removed). Keys "
            'are 1-65 letters, digits, "-", "_", "/" or ".", starting with a letter or digit. '
            "Left out: not managed.",
            TAGS,
            change=IN_PLACE,
            normalize=tag_list,
            wire="tags [{tagKey, tagValue}] (PUT /v1/instances/{id}/tags)",
            doc="a mapping of strings; the whole set",
            variables="",
        ),
    )
    live_outputs = ("status", "type", "region", "publicURL", "expireTime")
    adopts_on_sight = True
    deletable = False

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return str(attrs["id"])

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        return missing_instance(str(spec.attrs["id"]), view)

    def live_object(self, instance: CcrInstance) -> LiveObject:
        attrs = {"id": instance.instance_id, "name": instance.name, "tags": tag_list(instance.tags)}
        details = {
            "type": instance.instance_type,
            "region": instance.region,
            "publicURL": instance.public_url,
            "expireTime": instance.expire_time,
        }
        address = Address(self.name, instance.instance_id)
        return LiveObject(address, instance.instance_id, attrs, instance.status, details)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        return [self.live_object(i) for i in ctx.client.ccr.list_instances()]

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        try:
            return self.live_object(client.ccr.get_instance(cloud_id).info)
        except NotFoundError:
            return None

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        # never reached: a declared instance is adopted when found and refused when not
        raise ConflictError(f"{change.address}: the reconciler never creates a CCR instance")

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        after, before = change.after or {}, change.before or {}
        ccr = ops.client.ccr
        if "name" in after and after["name"] != before.get("name"):
            ccr.rename_instance(entry.cloud_id, str(after["name"]))
        if "tags" in after and after["tags"] != before.get("tags"):
            ccr.set_instance_tags(entry.cloud_id, {t["key"]: t["value"] for t in after["tags"]})

    def export_entry(self, live: LiveObject) -> dict[str, Any] | None:
        entry = super().export_entry(live) or {}
        if entry.get("tags"):
            entry["tags"] = {t["key"]: t["value"] for t in entry["tags"]}
        return entry
