"""Frozen values for the CCR Enterprise wire (``services/eccr`` of the official Go SDK): the
request bodies the client sends and the answers it reads (shared/ccr-enterprise-api.md).

For: request bodies with the SDK's keys, in its order, leaving out what its ``omitempty`` tags
leave out and always writing what it always writes (``to_json()``); strict readers for answers
(:class:`~reconciler.client.answers.Reader`): a key the client relies on that is missing,
``null`` or of the wrong type raises :class:`~reconciler.errors.ShapeError`. Quirks kept as the
SDK has them: a project's ``public`` and ``autoScan`` are the strings ``"true"``/``"false"``
on the wire (booleans here), robot accounts are named ``ccr$<name>`` by the service, and the
create-registry answer spells its times in snake case.
Not for: HTTP, paths or paging (:mod:`.ccr`).

NOT ESTABLISHED (docs/api-contract.md "CCR Enterprise"): the values of every ``status``, of a
robot's ``level``, and of permission ``action``/``resource``. The constants below are the
emulator's choices; the enumerated values a kind declares or waits on are in :mod:`.ccr_values`
(re-exported here), so that declaring the kinds does not import this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from types import MappingProxyType
from typing import Any

from reconciler.client.answers import Reader
from reconciler.client.answers import put_omitempty as _put
from reconciler.client.ccr_values import (  # noqa: F401 (re-exported: the wire's values)
    IP_TYPES,
    PUBLIC_ACTIONS,
    PUBLIC_CLOSED,
    PUBLIC_OPENED,
    REGISTRY_TYPES,
    ROBOT_PREFIX,
)
from reconciler.records import frozen_record

Json = dict[str, Any]


def wire_bool(value: bool) -> str:
    """``public`` / ``autoScan`` as the API spells them."""
    return "true" if value else "false"


def _flag(r: Reader, key: str) -> bool:
    """A ``"true"``/``"false"`` string; anything else is a ShapeError, never a guess."""
    value = r.text(key)
    if value not in ("true", "false"):
        raise r.error(key, f'expected "true" or "false", got {value!r}')
    return value == "true"


def _raw() -> Any:
    return field(
        default_factory=lambda: MappingProxyType({}), hash=False, compare=False, repr=False
    )


# --- answers -----------------------------------------------------------------------------------


@frozen_record
class CcrInstance:
    """``InstanceInfo`` (a ``ListInstances`` item, or ``info`` of the detail) [SDK model.go:33]."""

    instance_id: str
    name: str
    instance_type: str  # BASIC, STANDARD or ADVANCED
    status: str  # NOT ESTABLISHED
    region: str
    public_url: str
    create_time: str
    expire_time: str
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def read(cls, r: Reader) -> CcrInstance:
        return cls(
            instance_id=r.text("id", nonempty=True),
            name=r.text("name"),
            instance_type=r.text("instanceType"),
            status=r.text("status"),
            region=r.text("region"),
            public_url=r.text("publicURL"),
            create_time=r.text("createTime"),
            expire_time=r.text("expireTime"),
            tags=MappingProxyType(_tags(r)),
        )


def _tags(r: Reader) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in r.objects("tags"):
        key = item.text("tagKey", nonempty=True)
        if key in tags:
            raise item.error("tagKey", f"{key!r} appears twice")
        tags[key] = item.text("tagValue")
    return tags


@frozen_record
class InstanceDetail:
    """``GetInstanceDetail``: the instance and its usage [SDK model.go:45]."""

    info: CcrInstance
    bucket: str
    region: str
    statistic: Mapping[str, Any] = _raw()
    quota: Mapping[str, Any] = _raw()

    @classmethod
    def read(cls, r: Reader) -> InstanceDetail:
        return cls(
            info=CcrInstance.read(r.obj("info")),
            bucket=r.text("bucket"),
            region=r.text("region"),
            statistic=r.obj("statistic").raw(),
            quota=r.obj("quota").raw(),
        )


@frozen_record
class Project:
    """A namespace of an instance [SDK model.go:401]."""

    name: str
    project_id: int
    public: bool
    auto_scan: bool
    repo_count: int
    chart_count: int
    creation_time: str
    update_time: str

    @classmethod
    def read(cls, r: Reader) -> Project:
        return cls(
            name=r.text("projectName", nonempty=True),
            project_id=r.integer("projectId"),
            public=_flag(r, "public"),
            auto_scan=_flag(r, "autoScan"),
            repo_count=r.integer("repoCount"),
            chart_count=r.integer("chartCount"),
            creation_time=r.text("creationTime"),
            update_time=r.text("updateTime"),
        )


@frozen_record
class Repository:
    """A repository of a project; it comes into being on the first push [SDK model.go:432]."""

    name: str  # may hold "/" (app/web)
    project: str
    description: str
    tag_count: int
    pull_count: int
    creation_time: str
    update_time: str
    path: str  # repositoryPath: the pull path over the public endpoint
    private_path: str  # privateRepositoryPath: over a VPC link

    @classmethod
    def read(cls, r: Reader) -> Repository:
        return cls(
            name=r.text("repositoryName", nonempty=True),
            project=r.text("projectName", nonempty=True),
            description=r.text("description"),
            tag_count=r.integer("tagCount"),
            pull_count=r.integer("pullCount"),
            creation_time=r.text("creationTime"),
            update_time=r.text("updateTime"),
            path=r.text("repositoryPath"),
            private_path=r.text("privateRepositoryPath"),
        )


@frozen_record
class Access:
    """One allowed action (``{"action": "pull", "resource": "repository"}``)."""

    action: str
    resource: str

    def to_json(self) -> Json:
        return {"action": self.action, "resource": self.resource}


@frozen_record
class Permission:
    """What a robot may do in one project (``namespace``), or in every one (``"*"``)."""

    namespace: str
    access: tuple[Access, ...]
    kind: str = "project"  # [META] always "project"

    def to_json(self) -> Json:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "access": [a.to_json() for a in self.access],
        }

    @classmethod
    def read(cls, r: Reader) -> Permission:
        access = tuple(
            Access(a.text("action", nonempty=True), a.text("resource", nonempty=True))
            for a in r.objects("access")
        )
        return cls(r.text("namespace", nonempty=True), access, r.text("kind", nonempty=True))


@frozen_record
class Robot:
    """A robot account as listed (no secret) [SDK model.go:515]; ``name`` is ``ccr$<name>``."""

    robot_id: int
    name: str
    level: str  # NOT ESTABLISHED
    disabled: bool  # the wire's "disable"
    description: str
    duration: int  # days; -1 never expires
    expires_at: int
    creation_time: str
    update_time: str
    editable: bool
    permissions: tuple[Permission, ...]

    @property
    def short_name(self) -> str:
        """The name as created (``ci`` for ``ccr$ci``)."""
        return self.name.removeprefix(ROBOT_PREFIX)

    @classmethod
    def read(cls, r: Reader) -> Robot:
        return cls(
            robot_id=r.integer("id"),
            name=r.text("name", nonempty=True),
            level=r.text("level"),
            disabled=r.boolean("disable"),
            description=r.text("description"),
            duration=r.integer("duration"),
            expires_at=r.integer("expiresAt"),
            creation_time=r.text("creationTime"),
            update_time=r.text("updateTime"),
            editable=r.boolean("editable"),
            permissions=tuple(Permission.read(p) for p in r.objects("permissions")),
        )


@frozen_record
class RobotCreated:
    """A create's answer: the robot and its secret, which nothing can read back later."""

    robot: Robot
    secret: str = field(repr=False)
    request_id: str = ""


@frozen_record
class WhitelistEntry:
    ip: str  # ipAddr: an IPv4 address or CIDR
    description: str


@frozen_record
class PublicNetwork:
    """``GET /publiclinks``: the public endpoint and its IP allow-list [SDK model.go:187]."""

    domain: str
    status: str  # NOT ESTABLISHED; the emulator says opened / closed (opening, closing between)
    whitelist: tuple[WhitelistEntry, ...]

    @property
    def opened(self) -> bool:
        return self.status == PUBLIC_OPENED

    @classmethod
    def read(cls, r: Reader) -> PublicNetwork:
        entries = tuple(
            WhitelistEntry(e.text("ipAddr", nonempty=True), e.text("description"))
            for e in r.objects("whitelist")
        )
        return cls(r.text("domain"), r.text("status"), entries)


@frozen_record
class PrivateLink:
    """One VPC link; its identity is (vpc_id, subnet_id). Every field is omitempty in the SDK."""

    vpc_id: str
    subnet_id: str
    status: str | None = None  # NOT ESTABLISHED
    ip_address: str | None = None
    service_net_id: str | None = None
    resource_source: str | None = None

    @classmethod
    def read(cls, r: Reader) -> PrivateLink:
        return cls(
            vpc_id=r.text("vpcID", nonempty=True),
            subnet_id=r.text("subnetID", nonempty=True),
            status=r.opt_text("status"),
            ip_address=r.opt_text("ipAddress"),
            service_net_id=r.opt_text("serviceNetID"),
            resource_source=r.opt_text("resourceSource"),
        )


@frozen_record
class PrivateNetworks:
    domain: str
    links: tuple[PrivateLink, ...]

    @classmethod
    def read(cls, r: Reader) -> PrivateNetworks:
        return cls(r.text("domain"), tuple(PrivateLink.read(i) for i in r.objects("items")))


@frozen_record
class Registry:
    """A remote registry (replication endpoint) [SDK model.go:287]; the secret is never read."""

    registry_id: int
    name: str
    type: str
    url: str
    description: str
    insecure: bool
    status: str  # health; NOT ESTABLISHED
    credential_type: str | None  # None: no credential
    access_key: str | None
    creation_time: str
    update_time: str

    @classmethod
    def read(cls, r: Reader) -> Registry:
        credential = r.opt_obj("credential")
        return cls(
            registry_id=r.integer("id"),
            name=r.text("name", nonempty=True),
            type=r.text("type", nonempty=True),
            url=r.text("url", nonempty=True),
            description=r.text("description"),
            insecure=r.boolean("insecure"),
            status=r.text("status"),
            credential_type=None if credential is None else credential.opt_text("type"),
            access_key=None if credential is None else credential.opt_text("accessKey"),
            creation_time=r.text("creationTime"),
            update_time=r.text("updateTime"),
        )


# --- request bodies ----------------------------------------------------------------------------


@frozen_record
class RobotCreate:
    """``CreateRobotArgs``: ``name`` (without ``ccr$``), ``duration``, ``disable`` and
    ``permissions`` always sent; ``description`` and ``secret`` omitempty [SDK model.go:534]."""

    name: str
    duration: int
    permissions: tuple[Permission, ...]
    description: str = ""
    disabled: bool = False
    secret: str = field(default="", repr=False)  # "": the service generates one

    def to_json(self) -> Json:
        body: Json = {"name": self.name}
        _put(body, "description", self.description)
        body["duration"] = self.duration
        body["disable"] = self.disabled
        body["permissions"] = [p.to_json() for p in self.permissions]
        _put(body, "secret", self.secret)
        return body


@frozen_record
class RobotUpdate:
    """``UpdateRobotArgs``: every key omitempty, so ``disable: false`` and ``duration: 0``
    cannot be sent [SDK model.go:543]."""

    description: str = ""
    duration: int = 0
    disabled: bool = False
    permissions: tuple[Permission, ...] = ()

    def to_json(self) -> Json:
        body: Json = {}
        _put(body, "description", self.description)
        _put(body, "duration", self.duration)
        _put(body, "disable", self.disabled)
        _put(body, "permissions", [p.to_json() for p in self.permissions])
        return body


@frozen_record
class PrivateLinkCreate:
    """``CreatePrivateNetworkArgs``: all omitempty in the SDK; META requires ``vpcID``,
    ``subnetID``, ``ipType`` and ``autoDnsResolve`` (a ``false`` is left out, as the SDK does)."""

    vpc_id: str
    subnet_id: str
    ip_type: str = "auto"
    ip_address: str = ""  # with ip_type "manual"
    auto_dns_resolve: bool = False

    def to_json(self) -> Json:
        body: Json = {}
        _put(body, "vpcID", self.vpc_id)
        _put(body, "subnetID", self.subnet_id)
        _put(body, "ipAddress", self.ip_address)
        _put(body, "ipType", self.ip_type)
        _put(body, "autoDnsResolve", self.auto_dns_resolve)
        return body


@frozen_record
class RegistryCredential:
    access_key: str
    type: str = "basic"
    access_secret: str = field(default="", repr=False)  # omitempty

    def to_json(self) -> Json:
        body: Json = {"accessKey": self.access_key}
        _put(body, "accessSecret", self.access_secret)
        body["type"] = self.type
        return body


@frozen_record
class RegistryRequest:
    """Create, update and ping share this body; every key is always sent, ``credential`` as
    ``null`` when there is none [SDK model.go:223; SDK-RUN]."""

    name: str
    type: str
    url: str
    description: str = ""
    insecure: bool = False
    credential: RegistryCredential | None = None

    def to_json(self) -> Json:
        return {
            "credential": None if self.credential is None else self.credential.to_json(),
            "description": self.description,
            "insecure": self.insecure,
            "name": self.name,
            "type": self.type,
            "url": self.url,
        }
