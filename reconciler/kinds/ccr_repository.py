"""Repositories of a CCR Enterprise project (``ccr_repository.<instance>/<project>/<name>``).

The API has no create call: a repository comes into being on the first ``docker push``. So a
declared repository found in its project is adopted on sight, one not found is refused (push
first), and only its ``description`` is managed. Removing one from the configuration deletes it
with every tag it holds, like any delete: counted against --allow-deletes, refused when
protected. Its project is its container: deleting the project needs it gone first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.kinds.base import (
    API_NAME,
    ConflictError,
    Kind,
    LiveObject,
    Operations,
    PlanView,
    RefreshContext,
    in_parallel,
    instance_field,
    missing_instance,
    per_instance,
)
from reconciler.kinds.fields import IN_PLACE, REPLACE, Field, Section, text
from reconciler.model import Address, DesiredState, Spec

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reconciler.client.ccr import CcrClient
    from reconciler.client.ccr_types import Repository
    from reconciler.client.v1 import CceClient
    from reconciler.plan import Change
    from reconciler.state import ResourceState

PROJECT_KIND = "ccr_project"
# Docker's path components: lowercase letters and digits joined by . _ - or /.
NAME = "^[a-z0-9]+(?:[._/-][a-z0-9]+)*$"
DESCRIPTION_MAX = 1024


def split_repository(cloud_id: str) -> tuple[str, str, str]:
    """``ccr-x/team-a/app/web`` -> (``ccr-x``, ``team-a``, ``app/web``)."""
    instance_id, project, name = cloud_id.split("/", 2)
    return instance_id, project, name


class CcrRepositoryKind(Kind):
    name = "ccr_repository"
    plural = "ccr_repositories"
    noun = "CCR repository"
    api_name = API_NAME
    section = Section(
        "ccr_repositories",
        "CCR Enterprise repositories",
        "Repositories pushed to CCR Enterprise projects: adopted as found, their description "
        "managed.",
    )
    identity = ("instance", "project", "name")
    title = "CCR Enterprise repository"
    summary = (
        "A repository of a CCR Enterprise project (address "
        "ccr_repository.<instance>/<project>/<name>): made by a push, adopted as found; only its "
        "description is managed."
    )
    fields = (
        instance_field(),
        Field(
            "project",
            "Project",
            "The project that holds it.",
            text("^(?![0-9]+$)[a-z0-9]+(?:[._-][a-z0-9]+)*$"),
            required=True,
            change=REPLACE,
            why="another project is another repository",
            doc="a project name",
        ),
        Field(
            "name",
            "Name",
            "The repository's name within the project; may hold '/' (app/web).",
            {"type": "string", "pattern": NAME, "maxLength": 255},
            required=True,
            change=REPLACE,
            why="another name is another repository",
            wire="repositoryName (base64url in paths)",
            doc="lowercase letters and digits joined by `.` `_` `-` `/`",
        ),
        Field(
            "description",
            "Description",
            f"Free text, at most {DESCRIPTION_MAX} characters. Left out: empty.",
            {"type": "string", "maxLength": DESCRIPTION_MAX},
            default="",
            change=IN_PLACE,
            wire="description (PUT .../repositories/{name})",
            doc=f"text, at most {DESCRIPTION_MAX} characters; default empty",
        ),
    )
    adopts_on_sight = True
    live_outputs = ("tagCount", "repositoryPath", "privateRepositoryPath")
    read_with = ("ccr_instance", "ccr_project")

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return f"{attrs['instance']}/{attrs['project']}/{attrs['name']}"

    def container_of(self, address: Address) -> Address | None:
        instance_id, project, _ = split_repository(address.name)
        return Address(PROJECT_KIND, f"{instance_id}/{project}")

    def dependencies(self, spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
        project = Address(PROJECT_KIND, f"{spec.attrs['instance']}/{spec.attrs['project']}")
        return (project,) if project in desired.resources else ()

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        missing = missing_instance(str(spec.attrs["instance"]), view)
        if missing:
            return missing
        if any(o.address == spec.address for o in view.live_objects.get(self.name, [])):
            return None
        return (
            f"repository {spec.attrs['project']}/{spec.attrs['name']} does not exist in "
            f"{spec.attrs['instance']}; CCR Enterprise has no call that creates one: push an "
            "image to it first, then plan again"
        )

    def loses_on_delete(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> str:
        return "every image tag it holds"

    def live_object(self, instance_id: str, repository: Repository) -> LiveObject:
        cloud_id = f"{instance_id}/{repository.project}/{repository.name}"
        attrs = {
            "instance": instance_id,
            "project": repository.project,
            "name": repository.name,
            "description": repository.description,
        }
        details = {
            "tagCount": repository.tag_count,
            "repositoryPath": repository.path,
            "privateRepositoryPath": repository.private_path,
        }
        return LiveObject(Address(self.name, cloud_id), cloud_id, attrs, details=details)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        """One list per project, the projects' lists read side by side."""
        projects = ctx.found.get(PROJECT_KIND, [])

        def read(ccr: CcrClient, instance_id: str) -> list[LiveObject]:
            names = [str(p.attrs["name"]) for p in projects if p.attrs["instance"] == instance_id]
            lists = in_parallel(
                ctx.parallelism, lambda name: ccr.list_repositories(instance_id, name), names
            )
            return [self.live_object(instance_id, r) for found in lists for r in found]

        return per_instance(ctx, read)

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        instance_id, project, name = split_repository(cloud_id)
        found = [r for r in client.ccr.list_repositories(instance_id, project) if r.name == name]
        return self.live_object(instance_id, found[0]) if found else None

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        # never reached: a declared repository is adopted when found and refused when not
        raise ConflictError(f"{change.address}: CCR Enterprise has no call that creates one")

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        instance_id, project, name = split_repository(entry.cloud_id)
        description = str((change.after or {}).get("description", ""))
        ops.client.ccr.update_repository(instance_id, project, name, description)

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        ops.client.ccr.delete_repository(*split_repository(cloud_id))
