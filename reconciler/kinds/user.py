"""The registry user: one per account, and the v1 API cannot delete it, so removing it from the
config only forgets it. Its id is its username; its password is a rotatable secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.errors import AlreadyExistsError, NotFoundError
from reconciler.kinds.base import (
    Kind,
    LiveObject,
    Operations,
    PlanView,
    RefreshContext,
    secrets_of,
    send_once_then_read,
)
from reconciler.model import Address, DesiredState, SecretRef, UserSpec
from reconciler.secret_rules import secret_problem
from reconciler.state import ADOPTED

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reconciler.client.v1 import CceClient
    from reconciler.plan import Change, LiveState
    from reconciler.state import ResourceState


class UserKind(Kind):
    name = "user"
    spec_type = UserSpec
    rotatable_secrets = frozenset({"password"})
    deletable = False  # a different username is a different address; no delete API
    config_section = "users"
    listed_absence_is_final = True  # read_one sends read_all's GET again
    PASSWORD_PLACEHOLDER = "CCR_PASSWORD"

    def desired_attrs(self, spec: UserSpec) -> dict[str, Any]:
        return {"username": spec.username}

    def secret_refs(self, spec: UserSpec) -> dict[str, SecretRef]:
        return secrets_of({"password": spec.password})

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return str(attrs["username"])

    def refusal(self, spec: UserSpec, view: PlanView) -> str | None:
        others = [
            o.cloud_id for o in view.live_objects.get(self.name, []) if o.cloud_id != spec.username
        ]
        if others:
            return (
                f"the account already has registry user {others[0]} and the API allows one per "
                f"account (Cce.MoreThanOneUserPerAccount); declare user {others[0]} instead"
            )
        value = view.secret(spec.address, "password")
        return secret_problem(self.name, "password", value) if value is not None else None

    def export_entry(self, live: LiveObject) -> dict[str, Any]:
        # the API never returns the password: the user sets this variable before apply
        return {"username": live.attrs["username"], "password": {"env": self.PASSWORD_PLACEHOLDER}}

    def live_object(self, username: str) -> LiveObject:
        return LiveObject(Address(self.name, username), username, {"username": username})

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        try:
            user = ctx.client.get_user()
        except NotFoundError:
            return []
        return [self.live_object(user.username)]

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        try:
            user = client.get_user()
        except NotFoundError:
            return None
        return self.live_object(user.username) if user.username == cloud_id else None

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        username, password = entry.cloud_id, ops.secret(change, "password") or ""
        try:
            send_once_then_read(
                ops, lambda: ops.client.create_user(username, password), self, change, username
            )
        except AlreadyExistsError:
            set_password(ops.client, username, password)
            return entry.evolve(ownership=ADOPTED)
        return entry

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        if "password" in change.rotate_secrets:
            set_password(ops.client, entry.cloud_id, ops.secret(change, "password") or "")


def set_password(client: CceClient, username: str, password: str) -> None:
    try:
        client.update_password(username, password)
    except AlreadyExistsError:
        pass  # Cce.PasswdNotChange: it already is this password


def account_user(desired: DesiredState, live: LiveState) -> str | None:
    """The registry user namespaces are created for: the declared one, else the live one."""
    declared = [a.name for a in desired.resources if a.kind == UserKind.name]
    if declared:
        return declared[0]
    found = [cloud_id for kind, cloud_id in live.by_id if kind == UserKind.name]
    return found[0] if found else None
