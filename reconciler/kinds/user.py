"""The registry user: one per account, and the v1 API cannot delete it, so removing it from the
config only forgets it. Its id is its username; its password is a rotatable secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.errors import AlreadyExistsError, NotFoundError
from reconciler.kinds.base import (
    REGISTRY_USER,
    Kind,
    LiveObject,
    Operations,
    PlanView,
    RefreshContext,
    send_once_then_read,
)
from reconciler.kinds.fields import IN_PLACE, Field, Section, text
from reconciler.model import Address, Spec
from reconciler.probes import OK, Check, Doctor, Phase, Probe

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reconciler.client.v1 import CceClient
    from reconciler.client.v1_types import RegistryUser
    from reconciler.plan import Change
    from reconciler.state import ResourceState


# Cce.PasswordFormatError's rule is not published for this API. Baidu's CCR user API asks for
# 8-20 characters with an upper-case letter, a lower-case letter and a digit; the CCE v1 example
# ("passwd@123") and the emulator accept 8-32 with a letter and a digit. The plan holds a
# password to both readings at once, so a green plan is never refused for its password
# (docs/api-contract.md, "Registry user password").
PASSWORD_RULE = (
    "8-20 ASCII characters with at least one upper-case letter, one lower-case letter and one digit"
)


def password_problem(value: str) -> str | None:
    # ASCII classes: str.isupper() and friends also take "Ä" or "٣", which the cloud does not
    ok = (
        8 <= len(value) <= 20
        and value.isascii()
        and any("A" <= c <= "Z" for c in value)
        and any("a" <= c <= "z" for c in value)
        and any("0" <= c <= "9" for c in value)
    )
    return None if ok else f"password breaks Cce.PasswordFormatError's rule: {PASSWORD_RULE}"


PASSWORD_PLACEHOLDER = "CCR_PASSWORD"


def _probe_user(doctor: Doctor) -> None:
    """The registry user's name (``found["user"]``), or None and why the per-user lists
    cannot be read."""
    from reconciler.client import v1  # when doctor runs: validate needs no client
    from reconciler.client.v1_types import RegistryUser

    where = f"GET {v1.USER_PATH}"
    doctor.found[REGISTRY_USER] = (None, "listed per registry user, whose answer could not be read")
    with doctor.answer("user", where):
        try:
            response = doctor.get(v1.USER_PATH)
        except NotFoundError as exc:
            detail = f"no registry user yet ({exc.code}); apply creates the one declared"
            doctor.add(Check("user", OK, where, detail, exc.request_id))
            doctor.found[REGISTRY_USER] = (None, "listed per registry user, and there is none yet")
            return
        user: RegistryUser | None = doctor.shaped(
            "user",
            response,
            RegistryUser.from_json,
            v1.USER_PATH,
            lambda u: f"registry user {u.username}",
        )
        if user is not None:
            doctor.found[REGISTRY_USER] = (user.username, "")


class UserKind(Kind):
    name = "user"
    noun = "registry user"
    deletable = False  # a different username is a different address; no delete API
    one_per_account = "Cce.MoreThanOneUserPerAccount"
    section = Section(
        "users", "Registry users", "The image registry user (CCE allows one per account)."
    )
    identity = ("username",)
    title = "Registry user"
    summary = (
        "The image registry user of the account (address user.<username>). CCE allows one per "
        "account."
    )
    fields = (
        Field(
            "username",
            "Username",
            "4-30 lowercase letters and digits.",
            text("^[a-z0-9]{4,30}$"),
            required=True,
            wire="username",
            doc="4-30 lowercase letters and digits",
        ),
        Field(
            "password",
            "Password",
            "The registry password, by reference only: {env: NAME} or {file: PATH}.",
            required=True,
            secret=True,
            change=IN_PLACE,
            why="set again when its value changes; state keeps a salted hash",
            wire="password",
            doc="a [secret reference](#secrets)",
            placeholder=PASSWORD_PLACEHOLDER,  # the API never returns it: the user sets it
            rule=password_problem,
        ),
    )
    export_note = "The API never returns a password: set CCR_PASSWORD to the user's password."
    listed_absence_is_final = True  # read_one sends read_all's GET again

    def probes(self) -> tuple[Probe, ...]:
        return (Probe("user", Phase.LISTS, _probe_user),)

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        return str(attrs["username"])

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        others = [
            o.cloud_id for o in view.live_objects.get(self.name, []) if o.cloud_id != spec.name
        ]
        if others:
            return (
                f"the account already has registry user {others[0]} and the API allows one per "
                f"account (Cce.MoreThanOneUserPerAccount); declare user {others[0]} instead"
            )
        return self.secret_refusal(spec, view)

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
            from reconciler.state import ADOPTED  # when used: validate loads the kinds

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
