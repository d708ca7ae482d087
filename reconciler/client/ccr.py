"""Typed calls for CCR Enterprise (``ccr.<region>.baidubce.com``, shared/ccr-enterprise-api.md).

For: one method per endpoint the reconciler uses, under ``/v1/instances``, building the path,
query and body as the official Go SDK (``services/eccr``) does, reading every page of a list
(``pageNo`` / ``pageSize`` until ``total`` items are in, :mod:`.pages`), and parsing answers
strictly into the frozen values of :mod:`.ccr_types`. Signing, retries, the retry budget and
the rate limit are the shared :class:`~reconciler.client.transport.Transport`'s: a
:class:`CcrClient` is built on a sibling of the CCE client's transport (same credentials,
budget, limit and counters; its own host), see :class:`~reconciler.client.v1.CceClient`.
Not for: instance creation, renewal or upgrade (billed orders a plan never places), tags and
image builds (not declarative), or deciding what an error means for a plan (the kinds do).

Paths: instance ids and project names go in raw; a repository name goes in as unpadded
base64url (``app/web`` -> ``YXBwL3dlYg``) as the SDK sends it; robot and registry ids are the
decimal form of their integer ids. Creates pass ``idempotent=False``: CCR takes no client
token, so a lost answer is ``OutcomeUnknownError`` and the caller reads before resending.
Answers the SDK never reads (deletes, robot and network updates) are taken as success on any
2xx, whatever their body.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from reconciler.client.answers import Origin, Reader
from reconciler.client.base import ClientBase
from reconciler.client.ccr_types import (
    PUBLIC_ACTIONS,
    CcrInstance,
    InstanceDetail,
    PrivateLinkCreate,
    PrivateNetworks,
    Project,
    PublicNetwork,
    Registry,
    RegistryRequest,
    Repository,
    Robot,
    RobotCreate,
    RobotCreated,
    RobotUpdate,
    wire_bool,
)
from reconciler.client.pages import PageShape, read_all_pages
from reconciler.client.transport import Transport
from reconciler.client.v1_types import Ack, frozen
from reconciler.errors import UsageError

T = TypeVar("T")

PREFIX = "/v1/instances"  # [SDK client.go:10,51]
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100  # [META] for projects, repositories, tags and robots


def repository_segment(name: str) -> str:
    """A repository name as the SDK puts it in a path: unpadded base64url."""
    if not name:
        raise UsageError("a repository name cannot be empty")
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def _segment(value: str, what: str) -> str:
    """A raw path segment; a "/" or a dot segment would change which resource is named."""
    if not value or "/" in value or value in (".", ".."):
        raise UsageError(f"{what} {value!r} cannot be used in a URL path")
    return value


def _int_id(value: int | str, what: str) -> str:
    text = str(value)
    if not text.lstrip("-").isdigit():
        raise UsageError(f"{what} {value!r} is not a numeric id")
    return text


class CcrClient(ClientBase):
    """The CCR Enterprise API as typed calls. Thread-safe: share one client between workers."""

    DEFAULT_PAGE_SIZE = DEFAULT_PAGE_SIZE
    MAX_PAGE_SIZE = MAX_PAGE_SIZE

    def __init__(self, transport: Transport, *, page_size: int | None = None) -> None:
        super().__init__(transport, page_size=page_size)

    # --- plumbing ----------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        *,
        idempotent: bool = True,
    ) -> Reader:
        """One call whose answer is read: a JSON object."""
        response = self.transport.request(method, path, query, body, idempotent=idempotent)
        return Reader(response.data, Origin(method, path, response.status, response.request_id))

    def _ack(self, method: str, path: str, body: Any = None, **kw: Any) -> Ack:
        """One call whose answer the SDK never reads: any 2xx is success."""
        response = self.transport.request(method, path, None, body, **kw)
        data = response.data if isinstance(response.data, Mapping) else {}
        return Ack(response.request_id, frozen(data))

    def _pages(
        self,
        path: str,
        query: Mapping[str, str],
        list_key: str,
        parse: Callable[[Reader], T],
        identity: Callable[[T], str],
    ) -> tuple[T, ...]:
        def fetch(page_no: int, size: int) -> Reader:
            paging = {"pageNo": str(page_no), "pageSize": str(size)}
            return self._send("GET", path, {**query, **paging})

        shape = PageShape(list_key, "total", "pageNo", null_is_empty=True)
        at_once = self.transport.config.pool_size
        return read_all_pages(
            fetch, self.page_size, shape, parse, identity, path=path, at_once=at_once
        )

    def _instance(self, instance_id: str, *rest: str) -> str:
        return "/".join((PREFIX, _segment(instance_id, "instance id"), *rest))

    def _project(self, instance_id: str, project: str, *rest: str) -> str:
        return self._instance(instance_id, "projects", _segment(project, "project name"), *rest)

    def _repository(self, instance_id: str, project: str, repository: str) -> str:
        return self._project(instance_id, project, "repositories", repository_segment(repository))

    # --- instances (read, rename, tags; never created or deleted here) [SDK api.go:68-191] ---

    def list_instances(
        self, keyword: str = "", keyword_type: str = "name"
    ) -> tuple[CcrInstance, ...]:
        query = {"keywordType": keyword_type, "keyword": keyword} if keyword else {}
        return self._pages(PREFIX, query, "instances", CcrInstance.read, lambda i: i.instance_id)

    def get_instance(self, instance_id: str) -> InstanceDetail:
        return InstanceDetail.read(self._send("GET", self._instance(instance_id)))

    def rename_instance(self, instance_id: str, name: str) -> Ack:
        """``PUT /instances/{id}`` ``{"name"}``; its answer (InstanceInfo without tags) is not
        needed: the next list shows the name."""
        return self._ack("PUT", self._instance(instance_id), {"name": name})

    def set_instance_tags(self, instance_id: str, tags: Mapping[str, str]) -> Ack:
        """The whole tag set (GUESS: it replaces the previous one)."""
        body = {"tags": [{"tagKey": k, "tagValue": v} for k, v in sorted(tags.items())]}
        return self._ack("PUT", self._instance(instance_id, "tags"), body)

    # --- projects [SDK api.go:499-590; META UpdateProject] -----------------------------------

    def list_projects(self, instance_id: str, name: str = "") -> tuple[Project, ...]:
        """Every project (``name`` narrows by substring, as the service matches it)."""
        query = {"projectName": name} if name else {}
        path = self._instance(instance_id, "projects")
        return self._pages(path, query, "projects", Project.read, lambda p: p.name)

    def get_project(self, instance_id: str, project: str) -> Project:
        return Project.read(self._send("GET", self._project(instance_id, project)))

    def create_project(self, instance_id: str, project: str, *, public: bool) -> Project:
        body = {"projectName": _segment(project, "project name"), "public": wire_bool(public)}
        path = self._instance(instance_id, "projects")
        return Project.read(self._send("POST", path, body=body, idempotent=False))

    def update_project(
        self, instance_id: str, project: str, *, public: bool, auto_scan: bool
    ) -> Ack:
        """META's ``UpdateProject`` (no SDK method): both keys are required."""
        body = {"autoScan": wire_bool(auto_scan), "public": wire_bool(public)}
        return self._ack("PUT", self._project(instance_id, project), body)

    def delete_project(self, instance_id: str, project: str) -> Ack:
        return self._ack("DELETE", self._project(instance_id, project))

    # --- repositories (no create: a push makes one) [SDK api.go:602-702] ---------------------

    def list_repositories(self, instance_id: str, project: str) -> tuple[Repository, ...]:
        path = self._project(instance_id, project, "repositories")
        return self._pages(path, {}, "items", Repository.read, lambda r: r.name)

    def get_repository(self, instance_id: str, project: str, repository: str) -> Repository:
        return Repository.read(
            self._send("GET", self._repository(instance_id, project, repository))
        )

    def update_repository(
        self, instance_id: str, project: str, repository: str, description: str
    ) -> Repository:
        path = self._repository(instance_id, project, repository)
        return Repository.read(self._send("PUT", path, body={"description": description}))

    def delete_repository(self, instance_id: str, project: str, repository: str) -> Ack:
        """Deletes the repository with every tag it holds."""
        return self._ack("DELETE", self._repository(instance_id, project, repository))

    # --- robot accounts [SDK api.go:807-901] -------------------------------------------------

    def list_robots(self, instance_id: str) -> tuple[Robot, ...]:
        path = self._instance(instance_id, "robots")
        return self._pages(path, {}, "robots", Robot.read, lambda r: str(r.robot_id))

    def create_robot(self, instance_id: str, request: RobotCreate) -> RobotCreated:
        """The robot and its secret, which only this answer (or a refresh) carries."""
        path = self._instance(instance_id, "robots")
        reader = self._send("POST", path, body=request.to_json(), idempotent=False)
        secret = reader.text("secret", nonempty=True)
        return RobotCreated(Robot.read(reader), secret, reader.origin.request_id)

    def update_robot(self, instance_id: str, robot_id: int, request: RobotUpdate) -> Ack:
        path = self._instance(instance_id, "robots", _int_id(robot_id, "robot id"))
        return self._ack("PUT", path, request.to_json())

    def delete_robot(self, instance_id: str, robot_id: int) -> Ack:
        path = self._instance(instance_id, "robots", _int_id(robot_id, "robot id"))
        return self._ack("DELETE", path)

    def refresh_robot_secret(self, instance_id: str, robot_id: int, secret: str = "") -> str:
        """Set ``secret`` (or let the service make one when ""); the secret now in force.
        Setting a given value is idempotent, so it is safe to resend."""
        path = self._instance(instance_id, "robots", _int_id(robot_id, "robot id"), "secret")
        body = {"secret": secret} if secret else {}
        reader = self._send("PUT", path, body=body, idempotent=bool(secret))
        return reader.text("secret", nonempty=True)

    # --- network access [SDK api.go:201-325] -------------------------------------------------

    def get_public_network(self, instance_id: str) -> PublicNetwork:
        return PublicNetwork.read(self._send("GET", self._instance(instance_id, "publiclinks")))

    def switch_public_network(self, instance_id: str, action: str) -> Ack:
        """``open`` or ``close`` the public endpoint (asynchronous: poll the status)."""
        if action not in PUBLIC_ACTIONS:
            raise UsageError(f"public network action {action!r} is not open or close")
        return self._ack("PUT", self._instance(instance_id, "publiclinks"), {"action": action})

    def add_whitelist(self, instance_id: str, ip: str, description: str) -> Ack:
        path = self._instance(instance_id, "publiclinks", "whitelist")
        return self._ack("POST", path, {"ipAddr": ip, "description": description})

    def delete_whitelist(self, instance_id: str, ips: Iterable[str]) -> Ack:
        path = self._instance(instance_id, "publiclinks", "whitelist")
        return self._ack("DELETE", path, {"items": list(ips)})

    def list_private_networks(self, instance_id: str) -> PrivateNetworks:
        return PrivateNetworks.read(self._send("GET", self._instance(instance_id, "privatelinks")))

    def create_private_network(self, instance_id: str, request: PrivateLinkCreate) -> Ack:
        """The SDK's own call always fails here (it decodes into a non-pointer map): this one
        takes any 2xx, empty or not, as success. Asynchronous: poll the list."""
        path = self._instance(instance_id, "privatelinks")
        return self._ack("POST", path, request.to_json(), idempotent=False)

    def delete_private_network(self, instance_id: str, vpc_id: str, subnet_id: str) -> Ack:
        path = self._instance(instance_id, "privatelinks")
        return self._ack("DELETE", path, {"vpcID": vpc_id, "subnetID": subnet_id})

    # --- remote registries (replication endpoints) [SDK api.go:379-488] ----------------------

    def list_registries(self, instance_id: str) -> tuple[Registry, ...]:
        path = self._instance(instance_id, "registries")
        return self._pages(path, {}, "items", Registry.read, lambda r: str(r.registry_id))

    def get_registry(self, instance_id: str, registry_id: int) -> Registry:
        path = self._instance(instance_id, "registries", _int_id(registry_id, "registry id"))
        return Registry.read(self._send("GET", path))

    def create_registry(self, instance_id: str, request: RegistryRequest) -> int:
        """The new registry's id. The answer is a different type from the listed one (snake
        case times, every key omitempty), so only its ``id`` is read."""
        path = self._instance(instance_id, "registries")
        reader = self._send("POST", path, body=request.to_json(), idempotent=False)
        registry_id = reader.integer("id")
        if registry_id <= 0:
            raise reader.error("id", f"{registry_id} is not an id")
        return registry_id

    def update_registry(
        self, instance_id: str, registry_id: int, request: RegistryRequest
    ) -> Registry:
        path = self._instance(instance_id, "registries", _int_id(registry_id, "registry id"))
        return Registry.read(self._send("PUT", path, body=request.to_json()))

    def delete_registry(self, instance_id: str, registry_id: int) -> Ack:
        path = self._instance(instance_id, "registries", _int_id(registry_id, "registry id"))
        return self._ack("DELETE", path)

    def ping_registry(self, instance_id: str, request: RegistryRequest) -> Ack:
        """Can the instance reach the remote with these settings? Any 2xx says yes."""
        path = self._instance(instance_id, "registries", "ping")
        return self._ack("POST", path, request.to_json())
