"""Projects (namespaces) of a CCR Enterprise instance (``ccr_project.<instance>/<name>``):
created, changed in place (``public`` and ``autoScan``, through the metadata's UpdateProject)
and deleted. The service refuses to delete a project that holds repositories: its repositories
are its contents (``ccr_repository.container_of``), so the plan deletes the managed ones first,
counts them against --allow-deletes, and refuses while unmanaged ones remain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    split_scoped,
)
from reconciler.kinds.fields import IN_PLACE, REPLACE, Field, Section, boolean
from reconciler.model import Address, DesiredState, Spec

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reconciler.client.ccr import CcrClient
    from reconciler.client.ccr_types import Project
    from reconciler.client.v1 import CceClient
    from reconciler.plan import Change
    from reconciler.state import ResourceState

# [META] lowercase letters, digits and . _ -, not starting or ending with a separator, not all
# digits; the longest name is the emulator's choice (docs/api-contract.md).
NAME = "^(?![0-9]+$)[a-z0-9]+(?:[._-][a-z0-9]+)*$"
NAME_MAX = 255


class CcrProjectKind(Kind):
    name = "ccr_project"
    noun = "CCR project"
    api_name = API_NAME
    section = Section(
        "ccr_projects",
        "CCR Enterprise projects",
        "Projects (namespaces) of CCR Enterprise instances; each names its instance.",
    )
    identity = ("instance", "name")
    title = "CCR Enterprise project"
    summary = "A project of a CCR Enterprise instance (address ccr_project.<instance>/<name>)."
    fields = (
        instance_field(),
        Field(
            "name",
            "Name",
            "Lowercase letters, digits and '.', '_' or '-', not starting or ending with a "
            f"separator, not all digits, at most {NAME_MAX} characters.",
            {"type": "string", "pattern": NAME, "maxLength": NAME_MAX},
            required=True,
            change=REPLACE,
            why="the API cannot rename a project",
            wire="projectName",
            doc="lowercase letters, digits, `.` `_` `-` (not at either end, not all digits)",
        ),
        Field(
            "public",
            "Public",
            "Whether anyone may pull its images without logging in. Default false.",
            boolean(),
            default=False,
            change=IN_PLACE,
            wire='public ("true"/"false")',
            doc="`true` / `false`, default `false`",
        ),
        Field(
            "autoScan",
            "Scan on push",
            "Whether images are scanned for vulnerabilities when pushed. Default false.",
            boolean(),
            default=False,
            change=IN_PLACE,
            wire='autoScan ("true"/"false")',
            doc="`true` / `false`, default `false`",
        ),
    )
    live_outputs = ("projectId", "repoCount")
    read_with = ("ccr_instance", "ccr_repository")

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return f"{attrs['instance']}/{attrs['name']}"

    def dependencies(self, spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
        return instance_dependency(spec, desired)

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        return missing_instance(str(spec.attrs["instance"]), view)

    def loses_on_delete(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> str:
        return f"its repositories and their images ({', '.join(contents) or 'none managed'})"

    def live_object(self, instance_id: str, project: Project) -> LiveObject:
        cloud_id = f"{instance_id}/{project.name}"
        attrs = {
            "instance": instance_id,
            "name": project.name,
            "public": project.public,
            "autoScan": project.auto_scan,
        }
        details = {"projectId": project.project_id, "repoCount": project.repo_count}
        return LiveObject(Address(self.name, cloud_id), cloud_id, attrs, details=details)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        def read(ccr: CcrClient, instance_id: str) -> list[LiveObject]:
            return [self.live_object(instance_id, p) for p in ccr.list_projects(instance_id)]

        return per_instance(ctx, read)

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        # through the list (a positive "not listed" is gone; the name filter is a substring)
        instance_id, name = split_scoped(cloud_id)
        found = [p for p in client.ccr.list_projects(instance_id, name) if p.name == name]
        return self.live_object(instance_id, found[0]) if found else None

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        after = change.after or {}
        instance_id, name = split_scoped(entry.cloud_id)
        public, auto_scan = bool(after.get("public")), bool(after.get("autoScan"))
        try:
            send_once_then_read(
                ops,
                lambda: ops.client.ccr.create_project(instance_id, name, public=public),
                self,
                change,
                entry.cloud_id,
            )
        except AlreadyExistsError:
            return adopt_if_same(ops, self, change, entry)
        if auto_scan:  # the create call takes no autoScan
            ops.client.ccr.update_project(instance_id, name, public=public, auto_scan=True)
        return entry

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        after = change.after or {}
        instance_id, name = split_scoped(entry.cloud_id)
        ops.client.ccr.update_project(
            instance_id,
            name,
            public=bool(after.get("public")),
            auto_scan=bool(after.get("autoScan")),
        )

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        ops.client.ccr.delete_project(*split_scoped(cloud_id))
