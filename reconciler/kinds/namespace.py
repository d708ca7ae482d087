"""Registry namespaces. The v1 API has no update: a change of ``public`` replaces the namespace.
Its id is its name; it is created for the account's registry user and depends on it (the user
reaches ``create`` as ``ops.inputs``, worked out once per apply by ``apply_inputs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.errors import AlreadyExistsError
from reconciler.kinds.base import (
    REGISTRY_USER,
    ConflictError,
    Kind,
    LiveObject,
    Operations,
    PlanView,
    RefreshContext,
    adopt_if_same,
    first_of,
    probe_user_list,
    registry_user,
    send_once_then_read,
)
from reconciler.kinds.fields import REPLACE, Field, Section, boolean, text
from reconciler.model import Address, DesiredState, Spec
from reconciler.probes import Doctor, Phase, Probe

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reconciler.client.v1 import CceClient
    from reconciler.client.v1_types import Namespace
    from reconciler.plan import Change, LiveState
    from reconciler.state import ResourceState

# 1-65 letters, digits, "-", "_" or ".", starting with a letter: no "/", which the v1 API
# would take as a path separator and an address as the end of the namespace.
NAME = "^[A-Za-z][A-Za-z0-9_.-]{0,64}$"


def _probe_namespaces(doctor: Doctor) -> None:
    from reconciler.client import v1  # when doctor runs: validate needs no client

    probe_user_list(doctor, "namespaces", v1.NAMESPACE_PATH, v1.NAMESPACES_KEY, v1.namespace_from)


def _probe_namespace_get(doctor: Doctor) -> None:
    """``GET /v1/image/namespace/{ns}`` may be an existence check only: say what it returned."""
    from reconciler.client import v1  # when doctor runs: validate needs no client

    listed = doctor.found.get("namespaces")
    if listed is None or not listed.items:
        return
    path = f"{v1.NAMESPACE_PATH}/{listed.items[0].namespace}"
    with doctor.answer("namespace get", f"GET {path}"):
        response = doctor.get(path)
        doctor.note_shape("namespace get", path, response, v1.namespace_from, "find_namespace")


class NamespaceKind(Kind):
    name = "namespace"
    section = Section("namespaces", "Namespaces", "Image registry namespaces.")
    identity = ("name",)
    title = "Namespace"
    summary = "An image registry namespace (address namespace.<name>)."
    fields = (
        Field(
            "name",
            "Name",
            '1-65 letters, digits, "-", "_" or ".", starting with a letter. No "/": the v1 API '
            "puts the name in URL paths.",
            text(NAME),
            required=True,
            wire="namespace",
            doc="1-65 letters, digits, `-` `_` `.`, starting with a letter (no `/`)",
        ),
        Field(
            "public",
            "Public",
            "Whether anyone may pull images from this namespace. Default false.",
            boolean(),
            default=False,
            change=REPLACE,
            why="the v1 API has no update",
            wire="public",
            doc="`true` / `false`, default `false`",
        ),
    )
    read_with = ("user", "repository")
    listed_per_registry_user = True

    def probes(self) -> tuple[Probe, ...]:
        return (
            Probe("namespaces", Phase.LISTS, _probe_namespaces),
            Probe("namespace get", Phase.NOTES, _probe_namespace_get),
        )

    def dependencies(self, spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
        return first_of(desired, REGISTRY_USER)

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return str(attrs["name"])

    def rename_signature(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> Any:
        # a namespace renamed with its repositories: same visibility, same repository names
        names = tuple(sorted(c.split("/", 1)[1] for c in contents))
        return (bool(attrs.get("public")), names) if names else None

    def loses_on_delete(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> str:
        return f"its repositories and their images ({', '.join(contents)})"

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        if first_of(view.desired, REGISTRY_USER) or view.live_objects.get(REGISTRY_USER):
            return None
        return (
            "no registry user is declared or exists in the account, and the API creates a "
            "namespace for a user (RegistryLackParams); declare one under users:"
        )

    def apply_inputs(self, desired: DesiredState, live: LiveState) -> str | None:
        return registry_user(desired, live)

    def live_object(self, ns: Namespace) -> LiveObject:
        public: Any = ns.public
        if isinstance(public, str):
            public = public.lower() in ("true", "1", "yes")
        attrs = {"name": ns.namespace, "public": bool(public)}
        return LiveObject(Address(self.name, ns.namespace), ns.namespace, attrs)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        # namespaces are listed per registry user: none while it does not exist yet
        return ctx.per_registry_user(
            lambda client, user: [self.live_object(ns) for ns in client.list_namespaces(user)]
        )

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        # gone on a 404 of the single GET (an existence check); attributes from the list
        found = client.read_namespace(cloud_id)
        return self.live_object(found) if found is not None else None

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        name, public = entry.cloud_id, bool((change.after or {}).get("public", False))
        user = ops.inputs
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
