"""Robot accounts of a CCR Enterprise instance (``ccr_robot.<instance>/<name>``), named
``ccr$<name>`` by the service, with their permissions (which projects, pull and push) and
their expiry in days.

The secret: the API shows it once, in the create answer or a refresh (ccr-enterprise-api.md
section 6). The reconciler makes one itself, hands it to the user (``secretFile``: a file of
mode 0600, or ``-`` for apply's output) **before** sending it with the create or the refresh,
and never writes it anywhere else: not to state, plans, the journal or logs. So a run killed
after the create leaves the secret the robot has in the file, and a create that never landed
is made again (with a new secret, written over the old). Changing ``rotation`` (any text) or
``secretFile`` sets a new secret the same way. A robot adopted with --adopt keeps its unknown
secret until a rotation is declared.

``UpdateRobot`` sends every key omitempty, so it cannot enable a disabled robot or clear a
description: those two changes replace the robot (a new id and a new secret)."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.errors import AlreadyExistsError, NotFoundError
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
from reconciler.kinds.fields import IN_PLACE, REPLACE, Field, Section, boolean
from reconciler.model import Address, DesiredState, Spec

if TYPE_CHECKING:
    from reconciler.client.ccr import CcrClient
    from reconciler.client.ccr_types import Permission, Robot
    from reconciler.client.v1 import CceClient
    from reconciler.diff import FieldChange
    from reconciler.plan import Change
    from reconciler.state import ResourceState

PROJECT_KIND = "ccr_project"
EVERY_PROJECT = "*"
REPOSITORY = "repository"  # the resource the declared actions are on
ACTIONS = ("pull", "push")
# [META] 1-65 lowercase letters, digits and . _ -, starting and ending with a letter or digit,
# no two separators in a row
NAME = "^[a-z0-9]+(?:[._-][a-z0-9]+)*$"
SECRET_LENGTH = 32
PERMISSIONS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["project", "actions"],
        "properties": {
            "project": {
                "title": "Project",
                "description": 'A project of the same instance, or "*" for every project.',
                "type": "string",
                "pattern": "^(\\*|(?![0-9]+$)[a-z0-9]+(?:[._-][a-z0-9]+)*)$",
            },
            "actions": {
                "title": "Actions",
                "description": "What the robot may do to the project's repositories.",
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"enum": list(ACTIONS)},
            },
        },
    },
}


def new_secret() -> str:
    """32 letters and digits with at least one of each class (the API's rule: 8-65 characters
    with an upper-case letter, a lower-case letter and a digit)."""
    import secrets  # when a robot is created: planning never draws a secret

    alphabet = string.ascii_letters + string.digits
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(SECRET_LENGTH))
        if (
            any(c.islower() for c in value)
            and any(c.isupper() for c in value)
            and any(c.isdigit() for c in value)
        ):
            return value


def normalized_permissions(values: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per project, actions sorted and without repeats, projects in order."""
    merged: dict[str, set[str]] = {}
    for value in values:
        merged.setdefault(str(value["project"]), set()).update(value["actions"])
    return [{"project": p, "actions": sorted(a)} for p, a in sorted(merged.items())]


def wire_permissions(values: Iterable[Mapping[str, Any]]) -> tuple[Permission, ...]:
    from reconciler.client.ccr_types import Access, Permission  # applying: not to declare

    return tuple(
        Permission(str(v["project"]), tuple(Access(a, REPOSITORY) for a in v["actions"]))
        for v in values
    )


def live_permissions(robot: Robot) -> list[dict[str, Any]]:
    """The robot's permissions as declared: ``pull``/``push`` for repository access, and any
    other access as ``resource:action`` (which no declaration holds, so it shows as a change)."""
    return normalized_permissions(
        {
            "project": p.namespace,
            "actions": [
                a.action if a.resource == REPOSITORY else f"{a.resource}:{a.action}"
                for a in p.access
            ],
        }
        for p in robot.permissions
    )


class CcrRobotKind(Kind):
    name = "ccr_robot"
    noun = "CCR robot account"
    api_name = API_NAME
    section = Section(
        "ccr_robots",
        "CCR Enterprise robot accounts",
        "Robot accounts of CCR Enterprise instances, for pipelines: their permissions and "
        "expiry; their secret goes to a file of mode 0600.",
    )
    identity = ("instance", "name")
    title = "CCR Enterprise robot account"
    summary = (
        "A robot account (address ccr_robot.<instance>/<name>; the service names it "
        "ccr$<name>) whose secret is written once to secretFile, never to state."
    )
    fields = (
        instance_field(),
        Field(
            "name",
            "Name",
            "1-65 lowercase letters, digits and '.', '_' or '-', starting and ending with a "
            "letter or digit; the service prefixes it with ccr$.",
            {"type": "string", "pattern": NAME, "maxLength": 65},
            required=True,
            change=REPLACE,
            why="the API cannot rename a robot",
            wire="name (listed as ccr$<name>)",
            doc="1-65 lowercase letters, digits, `.` `_` `-`; listed as `ccr$<name>`",
        ),
        Field(
            "description",
            "Description",
            "Free text, at most 1024 characters. Default empty (clearing it replaces the "
            "robot: the API cannot send an empty description).",
            {"type": "string", "maxLength": 1024},
            default="",
            change=IN_PLACE,
            why="clearing it replaces the robot: the API cannot send an empty one",
            doc="text; default empty",
        ),
        Field(
            "duration",
            "Lifetime (days)",
            "Days the robot is valid from its creation; -1 for never.",
            {"type": "integer", "minimum": -1},
            required=True,
            change=IN_PLACE,
            wire="duration",
            doc="days, or `-1` for never (not `0`)",
        ),
        Field(
            "disabled",
            "Disabled",
            "A disabled robot cannot log in. Default false (enabling a disabled robot replaces "
            "it: the API cannot send disable:false).",
            boolean(),
            default=False,
            change=IN_PLACE,
            why="enabling replaces the robot: the API cannot send false",
            wire="disable",
            doc="`true` / `false`, default `false`",
        ),
        Field(
            "permissions",
            "Permissions",
            'Which projects (or "*") and what it may do there: pull, push.',
            PERMISSIONS,
            required=True,
            change=IN_PLACE,
            normalize=normalized_permissions,
            wire="permissions [{kind: project, namespace, access: [{action, resource}]}]",
            doc="a list of `{project, actions: [pull, push]}`",
            variables="",
        ),
        Field(
            "secretFile",
            "Secret file",
            "Where apply writes the robot's secret when it sets one (mode 0600, relative to "
            "the configuration), or - for apply's output. Changing it sets a new secret.",
            {"type": "string", "minLength": 1},
            required=True,
            change=IN_PLACE,
            why="a new secret is set and written there",
            doc="a path, or `-` for apply's output; never in state",
        ),
        Field(
            "rotation",
            "Rotation",
            "Any text; changing it makes apply set a new secret (into secretFile).",
            {"type": "string"},
            default="",
            change=IN_PLACE,
            why="a new secret is set and written to secretFile",
            doc="any text: a change rotates the secret",
        ),
    )
    live_outputs = ("accountName", "expiresAt", "level")
    read_with = ("ccr_instance", "ccr_project")
    ROTATING = frozenset({"secretFile", "rotation"})

    def export_entry(self, live: LiveObject) -> dict[str, Any] | None:
        entry = super().export_entry(live) or {}
        # the API never shows the secret: where to put the next one the user chooses
        entry["secretFile"] = f"{live.attrs['name']}.robot-secret"
        return entry

    def dependencies(self, spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
        instance_id = str(spec.attrs["instance"])
        projects = (
            Address(PROJECT_KIND, f"{instance_id}/{p['project']}")
            for p in spec.attrs.get("permissions", ())
        )
        declared = tuple(p for p in projects if p in desired.resources)
        return instance_dependency(spec, desired) + declared

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        instance_id = str(spec.attrs["instance"])
        missing = missing_instance(instance_id, view)
        if missing:
            return missing
        if spec.attrs.get("duration") == 0:
            return "duration 0 is not a lifetime: give days, or -1 for never"
        live = {o.address for o in view.live_objects.get(PROJECT_KIND, [])}
        for permission in spec.attrs.get("permissions", ()):
            project = Address(PROJECT_KIND, f"{instance_id}/{permission['project']}")
            if permission["project"] != EVERY_PROJECT and not (
                project in view.desired.resources or project in live
            ):
                return (
                    f"a permission names project {permission['project']}, which is neither "
                    f"declared under ccr_projects nor in instance {instance_id}; the API "
                    "refuses a robot whose permission names no project"
                )
        return None

    def forcing_changes(self, changes: Iterable[FieldChange]) -> list[str]:
        """Enabling a robot or clearing its description cannot be sent (omitempty)."""
        changes = list(changes)
        forcing = super().forcing_changes(changes)
        for c in changes:
            enabling = c.path == "disabled" and c.before is True and c.after is False
            clearing = c.path == "description" and c.before and not c.after
            if enabling or clearing:
                forcing.append(c.path)
        return forcing

    # --- reading -----------------------------------------------------------------------------

    def live_object(self, instance_id: str, robot: Robot) -> LiveObject:
        cloud_id = scoped_id(instance_id, robot.robot_id)
        attrs = {
            "instance": instance_id,
            "name": robot.short_name,
            "description": robot.description,
            "duration": robot.duration,
            "disabled": robot.disabled,
            "permissions": live_permissions(robot),
        }
        details = {"accountName": robot.name, "expiresAt": robot.expires_at, "level": robot.level}
        address = Address(self.name, f"{instance_id}/{robot.short_name}")
        return LiveObject(address, cloud_id, attrs, details=details)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        def read(ccr: CcrClient, instance_id: str) -> list[LiveObject]:
            return [self.live_object(instance_id, r) for r in ccr.list_robots(instance_id)]

        return per_instance(ctx, read)

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        instance_id, robot_id = split_scoped(cloud_id)
        found = [r for r in client.ccr.list_robots(instance_id) if str(r.robot_id) == robot_id]
        return self.live_object(instance_id, found[0]) if found else None

    # --- changing ----------------------------------------------------------------------------

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        after = change.after or {}
        instance_id, name = str(after["instance"]), str(after["name"])
        ccr = ops.client.ccr
        from reconciler.client.ccr_types import RobotCreate  # applying: not to declare

        secret = new_secret()
        ops.deliver_secret(change.address, str(after["secretFile"]), secret)
        request = RobotCreate(
            name,
            int(after["duration"]),
            wire_permissions(after["permissions"]),
            description=str(after.get("description", "")),
            disabled=bool(after.get("disabled")),
            secret=secret,
        )

        def send() -> str:
            try:
                created = ccr.create_robot(instance_id, request)
            except AlreadyExistsError:
                raise ConflictError(
                    f"{change.address}: robot ccr${name} already exists and this state does not "
                    f"manage it; import it or choose another name"
                ) from None
            return scoped_id(instance_id, created.robot.robot_id)

        def same_name() -> list[str]:
            robots = ccr.list_robots(instance_id)
            return [scoped_id(instance_id, r.robot_id) for r in robots if r.short_name == name]

        cloud_id = create_once(ops, change, send, same_name)
        ops.record_cloud_id(cloud_id)
        # after a lost answer the robot found may hold another secret: make it ours (idempotent)
        ccr.refresh_robot_secret(instance_id, int(split_scoped(cloud_id)[1]), secret)
        return entry.evolve(cloud_id=cloud_id)

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        after, before = change.after or {}, change.before or {}
        instance_id, robot_id = split_scoped(entry.cloud_id)
        ccr = ops.client.ccr
        changed = {f.path for f in change.fields}
        if changed - self.ROTATING:
            from reconciler.client.ccr_types import RobotUpdate  # applying: not to declare

            request = RobotUpdate(
                description=str(after.get("description", "")),
                duration=int(after["duration"]),
                disabled=bool(after.get("disabled")),
                permissions=wire_permissions(after["permissions"]),
            )
            ccr.update_robot(instance_id, int(robot_id), request)
        if changed & self.ROTATING and before is not None:
            secret = new_secret()
            ops.deliver_secret(change.address, str(after["secretFile"]), secret)
            ccr.refresh_robot_secret(instance_id, int(robot_id), secret)

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        instance_id, robot_id = split_scoped(cloud_id)
        try:
            ops.client.ccr.delete_robot(instance_id, int(robot_id))
        except NotFoundError:
            pass
