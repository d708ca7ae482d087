"""Typed calls for every CCE v1 endpoint of docs/api-contract.md.

For: one method per endpoint, building the path, query and body, following list pages
(marker / maxKeys / isTruncated / nextMarker) and parsing answers into the frozen values of
``v1_types``. Not for: signing, retries or error classification (``transport``), nor deciding what
an error means for a plan (the kinds do that with the exception classes).

Creates and other mutations that are unsafe to resend blindly pass ``idempotent=False``, so a
lost answer surfaces as ``OutcomeUnknownError`` instead of a second create.

Answers are parsed strictly (``v1_types``): an answer missing a key the reconciler relies on, or a
list whose pages do not add up (``isTruncated`` without a ``nextMarker``, a marker that does not
move on, a truncated page that is not full, an object listed twice, more or fewer items than a
``totalCount``, more than ``MAX_LIST_ITEMS`` items or ``MAX_LIST_PAGES`` pages), raises
``ShapeError`` naming the endpoint, the key and the request id. Nothing is ever decided from
such an answer. Complete lists come back as ``types.Listing`` (a tuple that also names the
requests that answered it).

The registry API beyond the user endpoints is PROVISIONAL: its paths are confirmed but its JSON
shapes are our best guess. All of it is in the section marked PROVISIONAL below, the one place to
correct when the real shapes are known (docs/api-contract.md, "Namespaces" and "Repositories").
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from reconciler.client.base import ClientBase
from reconciler.client.credentials import ccr_endpoint_for
from reconciler.client.transport import ApiResponse, Transport
from reconciler.client.v1_types import (
    Ack,
    Cluster,
    ClusterOrder,
    ContainerNet,
    CreateClusterArgs,
    ExistedNode,
    Image,
    ImageMeta,
    Listing,
    Namespace,
    Node,
    OrderContent,
    Quota,
    RegistryUser,
    each,
    frozen,
    keys_seen,
    number,
    obj,
    required_flag,
    required_number,
    required_text,
    text,
    texts,
    to_wire,
)
from reconciler.errors import BadResponseError, NotFoundError, ShapeError, UsageError
from reconciler.records import frozen_record

if TYPE_CHECKING:
    from reconciler.client.ccr import CcrClient
    from reconciler.client.v2 import CceV2Client

T = TypeVar("T")
U = TypeVar("U")

MAX_PAGE_SIZE = 1000
# Per-list limits: a list past them is a server that never ends, not an account (a ShapeError).
MAX_LIST_ITEMS = 100_000
MAX_LIST_PAGES = 1_000
Body = Mapping[str, Any]

USER_PATH = "/v1/image/user"
CLUSTER_PATH = "/v1/cluster"
CLUSTERS_KEY = "clusters"
NODE_PATH = "/v1/node"
NODES_KEY = "nodes"
VERSIONS_PATH = "/v1/cluster/versions"
QUOTA_QUERY = {"quota": None}


def page_query(
    query: Mapping[str, str | None], page_size: int = MAX_PAGE_SIZE, marker: str | None = None
) -> dict[str, str | None]:
    """The query of one page of a marker-paged list."""
    paged = {**query, "maxKeys": str(page_size)}
    if marker is not None:
        paged["marker"] = marker
    return paged


def nodes_query(cluster_uuid: str) -> dict[str, str | None]:
    return {"clusterUuid": cluster_uuid}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _segment(value: str, what: str) -> str:
    """A value placed in the URL path; dot segments would be rewritten by URL normalisation."""
    parts = value.split("/")
    if not value or any(p in ("", ".", "..") for p in parts):
        raise UsageError(f"{what} {value!r} cannot be used in a URL path")
    return value


# --- PROVISIONAL: registry namespaces, images and image metadata (docs/api-contract.md) -------

NAMESPACE_PATH = "/v1/image/namespace"
IMAGE_PATH = "/v1/image"
IMAGE_META_PATH = "/v1/image/meta"


def registry_list_query(user: str, namespace: str | None = None) -> dict[str, str | None]:
    """The query of the namespace and image lists (the namespace filter: images only)."""
    return {"user": user} if namespace is None else {"user": user, "namespace": namespace}


def namespace_body(name: str, public: bool, user: str) -> Body:
    return {"namespace": name, "public": public, "user": user}


def namespace_from(data: Any) -> Namespace:
    d = obj(data, "namespace")
    # public is compared with the configuration: a missing one must not read as "private"
    return Namespace(
        required_text(d, "namespace"), required_flag(d, "public"), text(d, "createTime")
    )


def image_from(data: Any) -> Image:
    """An image listed; one type test per field when every field is as expected (a list of
    100,000 images), else the field-by-field readers, which name what is wrong."""
    if type(data) is dict:
        namespace, repository = data.get("namespace"), data.get("repository")
        tags, description, created = (
            data.get("tags"),
            data.get("description"),
            data.get("createTime"),
        )
        if (
            type(namespace) is str
            and namespace
            and type(repository) is str
            and repository
            and type(tags) is list
            and all(type(tag) is str for tag in tags)
            and (description is None or type(description) is str)
            and (created is None or type(created) is str)
        ):
            return Image(namespace, repository, tuple(tags), description or "", created or "")
    return checked_image(data)


def checked_image(data: Any) -> Image:
    d = obj(data, "image")
    return Image(
        required_text(d, "namespace"),
        required_text(d, "repository"),
        texts(d, "tags"),  # a missing list would plan every tag again
        text(d, "description"),  # optional when adding metadata, so optional here
        text(d, "createTime"),
    )


def image_meta_body(namespace: str, repository: str, tag: str, description: str | None) -> Body:
    body: dict[str, Any] = {"namespace": namespace, "repository": repository, "tag": tag}
    if description is not None:
        body["description"] = description
    return body


def image_meta_query(namespace: str, repository: str, tag: str | None) -> dict[str, str]:
    query = {"namespace": namespace, "repository": repository}
    if tag is not None:
        query["tag"] = tag
    return query


def image_meta_from(data: Any) -> ImageMeta:
    d = obj(data, "image meta")
    return ImageMeta(
        required_text(d, "namespace"),
        required_text(d, "repository"),
        required_text(d, "tag"),
        text(d, "description"),
        text(d, "createTime"),
    )


NAMESPACES_KEY = "namespaces"
IMAGES_KEY = "images"
# delete_repository lists and deletes at most this many times before giving up
DELETE_REPOSITORY_ROUNDS = 3

# --- end of PROVISIONAL ----------------------------------------------------------------------


class CceClient(ClientBase):
    """The CCE v1 API as typed calls, with the v2 cluster API beside it as ``v2`` (the same
    host, signing, retry budget and rate limit) and CCR Enterprise as ``ccr`` (its own host,
    ``ccr_endpoint`` or the one derived from the CCE endpoint, with the same credentials,
    budget and limit). Thread-safe: share one client between workers."""

    DEFAULT_PAGE_SIZE = MAX_PAGE_SIZE
    MAX_PAGE_SIZE = MAX_PAGE_SIZE

    def __init__(
        self, transport: Transport, *, page_size: int | None = None, ccr_endpoint: str | None = None
    ) -> None:
        super().__init__(transport, page_size=page_size)
        # checked now (a bad endpoint is a usage error before any request); the client is
        # made when a run first reads a CCR kind
        self._ccr_endpoint = ccr_endpoint_for(transport.endpoint, ccr_endpoint)

    @functools.cached_property
    def v2(self) -> CceV2Client:
        """The v2 client, made (and its module imported) when a run first reads a v2 kind."""
        from reconciler.client.v2 import CceV2Client

        client = CceV2Client(self.transport)
        return client

    @functools.cached_property
    def ccr(self) -> CcrClient:
        """The CCR Enterprise client on its own host, made (and its module imported) when a
        run first reads a CCR kind."""
        from reconciler.client.ccr import CcrClient

        client = CcrClient(self.transport.sibling(self._ccr_endpoint))
        return client

    def close(self) -> None:
        ccr = self.__dict__.get("ccr")
        if ccr is not None and ccr.transport is not self.transport:
            ccr.transport.close()
        super().close()

    # --- plumbing ----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        query: Mapping[str, str | None] | None = None,
        body: Any = None,
        *,
        idempotent: bool = True,
    ) -> ApiResponse:
        return self.transport.request(method, path, query, body, idempotent=idempotent)

    def _ack(self, response: ApiResponse) -> Ack:
        data = response.data if isinstance(response.data, Mapping) else {}
        return Ack(response.request_id, frozen(data))

    def _parse(self, response: ApiResponse, parse: Callable[[Any], T], method: str, path: str) -> T:
        try:
            return parse(response.data)
        except ShapeError as exc:
            raise shape_error(exc.message, response, method, path) from None

    def _get(
        self, path: str, parse: Callable[[Any], T], query: Mapping[str, str] | None = None
    ) -> T:
        return self._parse(self._call("GET", path, query), parse, "GET", path)

    def _post(self, path: str, body: Any, parse: Callable[[Any], T], **kw: Any) -> T:
        return self._parse(self._call("POST", path, body=body, **kw), parse, "POST", path)

    def _all_pages(
        self,
        path: str,
        query: Mapping[str, str | None],
        key: str,
        parse: Callable[[Any], T],
        identity: Callable[[T], str],
        each: Callable[[T], Any] | None = None,
    ) -> Listing[Any]:
        """Every item of a marker-paged list, page after page; a list that does not add up is a
        ShapeError, never a shorter or a longer list: an object listed twice (within a page or
        across pages), a truncated page that is not full (``maxKeys``) or whose ``nextMarker``
        does not move on, more items than ``totalCount`` announces (or
        fewer), and more than ``MAX_LIST_ITEMS`` items or ``MAX_LIST_PAGES`` pages in all.
        ``each`` turns every item into what the caller keeps, page by page as the pages come
        (while the next one is on its way), once the page has passed its checks."""
        found: list[Any] = []
        seen: set[str] = set()
        markers: set[str] = set()
        request_ids: list[str] = []
        marker: str | None = None
        with _PageAhead(self, path, query, key) as ahead:
            for page_no in range(1, MAX_LIST_PAGES + 1):
                response = ahead.page(marker, markers, len(found), page_no == MAX_LIST_PAGES)
                request_ids.append(response.request_id)
                page = self._parse(response, lambda d: parse_page(d, key, parse), "GET", path)

                def bad(problem: str, response: ApiResponse = response) -> ShapeError:
                    return shape_error(f"{key}: {problem}", response, "GET", path)

                for item in page.items:
                    name = identity(item)
                    if name in seen:
                        raise bad(
                            f"{name} is listed twice (page {page_no}); a list that repeats an "
                            "object is not counted"
                        )
                    seen.add(name)
                found.extend(page.items if each is None else map(each, page.items))
                total = page.total_count
                if total is not None and total > MAX_LIST_ITEMS:
                    raise bad(
                        f"totalCount {total} is beyond the per-list limit of {MAX_LIST_ITEMS:,}"
                    )
                if total is not None and len(found) > total:
                    raise bad(f"totalCount is {total} but {len(found)} came back")
                if len(found) > MAX_LIST_ITEMS:
                    raise bad(f"more than {MAX_LIST_ITEMS:,} items, the per-list limit")
                if not page.is_truncated:
                    if total is not None and len(found) < total:
                        raise bad(f"totalCount is {total} but {len(found)} came back")
                    return Listing(found, f"GET {path}", request_ids)
                size = min(self.page_size, page.max_keys or self.page_size)
                if len(page.items) < size:
                    raise bad(
                        f"page {page_no} holds {len(page.items)} of maxKeys {size} items but says "
                        "isTruncated; a truncated page is full"
                    )
                if total is not None and len(found) >= total:
                    raise bad(f"isTruncated, but all {total} items of totalCount are in")
                if page.next_marker in markers:
                    raise bad(f"isTruncated, but nextMarker {page.next_marker!r} does not move on")
                markers.add(page.next_marker)
                marker = page.next_marker
        raise shape_error(
            f"{key}: more than {MAX_LIST_PAGES:,} pages, the per-list limit", response, "GET", path
        )

    # --- registry user [DOC; PUT body INFERRED] ----------------------------------------------

    def get_user(self) -> RegistryUser:
        return self._get(USER_PATH, RegistryUser.from_json)

    def create_user(self, username: str, password: str) -> Ack:
        body = {"username": username, "password": password, "passwordConfirmation": password}
        return self._ack(self._call("POST", "/v1/image/user", body=body, idempotent=False))

    def update_password(self, username: str, password: str) -> Ack:
        body = {"username": username, "password": password, "passwordConfirmation": password}
        return self._ack(self._call("PUT", "/v1/image/user", body=body))

    # --- namespaces, images, image metadata (PROVISIONAL shapes above) -----------------------

    def list_namespaces(self, user: str) -> Listing[Namespace]:
        query = registry_list_query(user)
        return self._all_pages(
            NAMESPACE_PATH, query, NAMESPACES_KEY, namespace_from, lambda n: n.namespace
        )

    def get_namespace(self, name: str) -> Namespace:
        return self._get(f"{NAMESPACE_PATH}/{_segment(name, 'namespace')}", namespace_from)

    def create_namespace(self, name: str, *, public: bool, user: str) -> Ack:
        body = namespace_body(name, public, user)
        return self._ack(self._call("POST", NAMESPACE_PATH, body=body, idempotent=False))

    def delete_namespace(self, name: str) -> Ack:
        return self._ack(self._call("DELETE", f"{NAMESPACE_PATH}/{_segment(name, 'namespace')}"))

    @overload
    def list_images(self, user: str, namespace: str | None = None) -> Listing[Image]: ...

    @overload
    def list_images(
        self, user: str, namespace: str | None = None, *, each: Callable[[Image], U]
    ) -> Listing[U]: ...

    def list_images(
        self, user: str, namespace: str | None = None, *, each: Callable[[Image], Any] | None = None
    ) -> Listing[Any]:
        """Every image (repository) of ``user``; with ``each``, what it makes of each image,
        made page by page as the pages come (a refresh's live objects)."""
        query = registry_list_query(user, namespace)
        return self._all_pages(IMAGE_PATH, query, IMAGES_KEY, image_from, _image_id, each)

    def create_image_meta(
        self, namespace: str, repository: str, tag: str, description: str | None = None
    ) -> Ack:
        """Add a tag (an upsert: adding an existing tag succeeds, so it is safe to resend)."""
        body = image_meta_body(namespace, repository, tag, description)
        return self._ack(self._call("POST", IMAGE_META_PATH, body=body))

    def get_image_meta(self, namespace: str, repository: str, tag: str) -> ImageMeta:
        return self._get(
            IMAGE_META_PATH, image_meta_from, image_meta_query(namespace, repository, tag)
        )

    def delete_image_meta(self, namespace: str, repository: str, tag: str | None = None) -> Ack:
        """Delete one tag, or the whole repository when ``tag`` is None (PROVISIONAL: the real
        API may refuse a delete without a tag; ``delete_repository`` works either way)."""
        query = image_meta_query(namespace, repository, tag)
        return self._ack(self._call("DELETE", IMAGE_META_PATH, query))

    # Calls that are right under every reading of the provisional registry API
    # (docs/api-contract.md, "Choices where the registry API is unconfirmed").

    def find_namespace(self, name: str, *, user: str | None = None) -> Namespace | None:
        """The namespace called ``name`` from the complete list, or None when it is not there.

        ``GET /v1/image/namespace/{ns}`` is documented only as "check whether a namespace
        exists" and may answer without the object; the list answers with it under every
        reading. ``user`` defaults to the account's registry user (one more GET); no registry
        user means no namespaces.
        """
        owner = user if user is not None else self._registry_user()
        if owner is None:
            return None
        return next((ns for ns in self.list_namespaces(owner) if ns.namespace == name), None)

    def read_namespace(self, name: str, *, user: str | None = None) -> Namespace | None:
        """One namespace by name, deciding "gone" only from a positive not-found: None when
        ``GET /v1/image/namespace/{ns}`` (documented as "check whether a namespace exists")
        answers 404; else the namespace as the complete list has it (that GET's body is not
        read: its shape is unconfirmed). Found by the GET but left out of the list: the two
        answers disagree, a ShapeError."""
        path = f"{NAMESPACE_PATH}/{_segment(name, 'namespace')}"
        try:
            exists = self._call("GET", path)
        except NotFoundError:
            return None
        owner = user if user is not None else self._registry_user()
        listed = self.list_namespaces(owner) if owner is not None else Listing(())
        found = next((ns for ns in listed if ns.namespace == name), None)
        if found is None:
            raise shape_error(
                f"the answers do not agree: {listed.origin() or 'the namespace list'} leaves out "
                f"namespace {name}, which GET {path} finds",
                exists,
                "GET",
                path,
            )
        return found

    def find_image(
        self, namespace: str, repository: str, *, user: str | None = None
    ) -> Image | None:
        """A repository and its tags from the image list, or None when it is not listed.

        The ``namespace`` filter of ``GET /v1/image`` is not documented: it is sent (fewer
        pages if honoured) and the answer is filtered here as well (right if ignored).
        """
        owner = user if user is not None else self._registry_user()
        if owner is None:
            return None
        try:
            images = self.list_images(owner, namespace)
        except NotFoundError:  # the namespace (or the user) is positively gone
            return None
        return next(
            (i for i in images if (i.namespace, i.repository) == (namespace, repository)), None
        )

    def delete_repository(
        self, namespace: str, repository: str, *, user: str | None = None
    ) -> tuple[str, ...]:
        """Delete a repository tag by tag; return the tags this call deleted.

        ``DELETE /v1/image/meta`` without a tag may be refused by the real API
        (``Cce.NamespaceRepositoryOrTagNull``), so each listed tag is deleted on its own, a
        tag already gone counting as deleted. The list is read again until the repository is
        no longer listed (a server that lists only some tags at a time still ends empty); a
        repository still listed with no tags left gets the whole-repository delete, the only
        call that can remove it then.
        """
        owner = user if user is not None else self._registry_user()
        deleted: list[str] = []
        for round_no in range(DELETE_REPOSITORY_ROUNDS + 1):
            image = self.find_image(namespace, repository, user=owner)
            if image is None:
                return tuple(deleted)
            if round_no == DELETE_REPOSITORY_ROUNDS:
                break
            if not image.tags:
                self._delete_meta_if_present(namespace, repository, None)
            for tag in image.tags:
                self._delete_meta_if_present(namespace, repository, tag)
                deleted.append(tag)
        raise BadResponseError(
            f"repository {namespace}/{repository} is still listed after deleting its tags "
            f"{DELETE_REPOSITORY_ROUNDS} times (tags deleted: {', '.join(deleted) or 'none'})",
            method="DELETE",
            path=IMAGE_META_PATH,
        )

    def _delete_meta_if_present(self, namespace: str, repository: str, tag: str | None) -> None:
        try:
            self.delete_image_meta(namespace, repository, tag)
        except NotFoundError:
            pass  # a positive not-found: already deleted

    def _registry_user(self) -> str | None:
        try:
            return self.get_user().username
        except NotFoundError:
            return None

    # --- clusters [SDK-GO / 3P] --------------------------------------------------------------

    def list_clusters(self, status: str | None = None) -> Listing[Cluster]:
        query = {} if status is None else {"status": status}
        return self._all_pages(
            CLUSTER_PATH, query, CLUSTERS_KEY, Cluster.from_json, lambda c: c.cluster_uuid
        )

    def get_cluster(self, cluster_uuid: str) -> Cluster:
        return self._get(f"/v1/cluster/{_segment(cluster_uuid, 'cluster id')}", Cluster.from_json)

    def create_cluster(self, args: CreateClusterArgs | Body) -> ClusterOrder:
        response = self._call("POST", "/v1/cluster", body=to_wire(args), idempotent=False)
        return self._parse(
            response,
            lambda d: ClusterOrder.from_json(d, response.request_id),
            "POST",
            "/v1/cluster",
        )

    def delete_cluster(
        self, cluster_uuid: str, *, delete_eip_cds: bool = False, delete_snap: bool = False
    ) -> Ack:
        """Start deleting a cluster; it goes DELETING, then DELETED. Attached EIPs / CDS disks
        and snapshots are kept unless asked (the flags are always sent, as the Go SDK does)."""
        path = f"/v1/cluster/{_segment(cluster_uuid, 'cluster id')}"
        query = {"deleteEipCds": _bool(delete_eip_cds), "deleteSnap": _bool(delete_snap)}
        return self._ack(self._call("DELETE", path, query))

    def scale_up(
        self,
        cluster_uuid: str,
        order_content: OrderContent | Body,
        *,
        cds_pre_mount_info: Any = None,
        dcc_uuid: str | None = None,
    ) -> ClusterOrder:
        body: dict[str, Any] = {"clusterUuid": cluster_uuid, "orderContent": to_wire(order_content)}
        if cds_pre_mount_info is not None:
            body["cdsPreMountInfo"] = to_wire(cds_pre_mount_info)
        if dcc_uuid:
            body["dccUuid"] = dcc_uuid
        response = self._call("POST", "/v1/cluster", {"scalingUp": None}, body, idempotent=False)
        return self._parse(
            response,
            lambda d: ClusterOrder.from_json(d, response.request_id),
            "POST",
            "/v1/cluster",
        )

    def scale_down(
        self,
        cluster_uuid: str,
        instance_ids: Iterable[str],
        *,
        delete_eip_cds: bool = False,
        delete_snap: bool = False,
    ) -> Ack:
        """Remove nodes, by their short ids (``i-XXXXXXXX``)."""
        query = {
            "scalingDown": None,
            "deleteEipCds": _bool(delete_eip_cds),
            "deleteSnap": _bool(delete_snap),
        }
        body = {"clusterUuid": cluster_uuid, "nodeInfo": [{"instanceId": i} for i in instance_ids]}
        return self._ack(self._call("POST", "/v1/cluster", query, body, idempotent=False))

    def list_versions(self) -> tuple[str, ...]:
        return self._get(VERSIONS_PATH, versions_from)

    def get_kubeconfig(self, cluster_uuid: str, kind: str | None = None) -> str:
        """The kubeconfig YAML; ``kind`` is the API's ``type``: default, internal or intraVpc."""
        query = {"clusterUuid": cluster_uuid}
        if kind is not None:
            query["type"] = kind
        return self._get(
            "/v1/cluster/kubeconfig", lambda d: required_text(obj(d, "kubeconfig"), "data"), query
        )

    def get_quota(self) -> Quota:
        response = self._call("GET", CLUSTER_PATH, QUOTA_QUERY)
        return self._parse(response, Quota.from_json, "GET", CLUSTER_PATH)

    def get_container_net(self, vpc_short_id: str, vpc_cidr: str, size: int) -> ContainerNet:
        body = {"vpcShortId": vpc_short_id, "vpcCidr": vpc_cidr, "size": size}
        return self._post("/v1/cluster/get_container_net", body, ContainerNet.from_json)

    def check_container_net(self, vpc_short_id: str, vpc_cidr: str, container_net: str) -> Ack:
        """Succeeds when the CIDR is free; a conflict comes back as a server error."""
        body = {"vpcShortId": vpc_short_id, "vpcCidr": vpc_cidr, "containerNetCidr": container_net}
        return self._ack(self._call("POST", "/v1/cluster/check_container_net", body=body))

    def shift_in(
        self,
        cluster_uuid: str,
        instance_ids: Iterable[str],
        *,
        need_rebuild: bool,
        admin_pass: str | None = None,
        image_id: str | None = None,
        instance_type: str = "BCC",
    ) -> Ack:
        """Move existing BCC/BBC instances into a cluster."""
        body: dict[str, Any] = {
            "clusterUuid": cluster_uuid,
            "needRebuild": need_rebuild,
            "instanceType": instance_type,
            "nodeInfoList": [{"instanceId": i} for i in instance_ids],
        }
        if admin_pass is not None:
            body["adminPass"] = admin_pass
        if image_id is not None:
            body["imageId"] = image_id
        return self._existed_node("shift_in", body)

    def shift_out(self, cluster_uuid: str, instance_ids: Iterable[str]) -> Ack:
        body = {
            "clusterUuid": cluster_uuid,
            "nodeInfoList": [{"instanceId": i} for i in instance_ids],
        }
        return self._existed_node("shift_out", body)

    def _existed_node(self, action: str, body: Body) -> Ack:
        path = "/v1/cluster/existed_node"
        return self._ack(self._call("POST", path, {"action": action}, body, idempotent=False))

    def list_existed_bcc_nodes(self, cluster_uuid: str, **filters: str) -> tuple[ExistedNode, ...]:
        """BCC instances that could be shifted in; ``filters`` are the API's optional fields
        (vpcId, vpcCidr, instanceType, keywordType, keyword, orderBy, order). All pages."""
        path = "/v1/cluster/existed_bcc_node/list"
        found: list[ExistedNode] = []
        for page_no in range(1, MAX_LIST_PAGES + 1):
            body = {
                **filters,
                "clusterUuid": cluster_uuid,
                "pageNo": page_no,
                "pageSize": self.page_size,
            }
            response = self._call("POST", path, body=body)
            nodes, total = self._parse(response, _existed_page, "POST", path)
            found.extend(nodes)
            if total > MAX_LIST_ITEMS:
                problem = f"nodeList: totalCount {total} is beyond the per-list limit"
                raise shape_error(problem, response, "POST", path)
            if len(found) >= total:
                return tuple(found)
            if not nodes:  # the pages ran out before totalCount: the list was cut
                problem = f"nodeList: totalCount is {total} but {len(found)} came back"
                raise shape_error(problem, response, "POST", path)
        raise shape_error(
            f"nodeList: more than {MAX_LIST_PAGES:,} pages, the per-list limit",
            response,
            "POST",
            path,
        )

    def upgrade_cluster(self, cluster_uuid: str, version: str) -> Ack:
        body = {"clusterUuid": cluster_uuid, "version": version}
        return self._ack(
            self._call("POST", "/v1/cluster/cluster_upgrade/upgrade", body=body, idempotent=False)
        )

    # --- nodes -------------------------------------------------------------------------------

    def list_nodes(self, cluster_uuid: str) -> Listing[Node]:
        return self._all_pages(
            NODE_PATH, nodes_query(cluster_uuid), NODES_KEY, Node.from_json, node_id
        )

    def list_node_flavors(self, **filters: Any) -> Ack:
        """``POST /v1/node/flavor/list`` [3P]; the answer's shape is unknown, so it is returned
        as the raw (read-only) data of an ``Ack``."""
        return self._ack(self._call("POST", "/v1/node/flavor/list", body=dict(filters)))


@frozen_record
class Page(Generic[T]):
    """One page of a marker-paged list, as read (``nextMarker`` is "" unless truncated)."""

    items: tuple[T, ...]
    is_truncated: bool
    next_marker: str
    total_count: int | None = None  # only if the server sent one
    max_keys: int = 0  # the page size the server says it used (0: not said)


def parse_page(data: Any, key: str, parse: Callable[[Any], T]) -> Page[T]:
    """A page of a marker-paged list: the list key and ``isTruncated`` are required, and a
    truncated page must say where the next one starts."""
    d = obj(data, "the answer")
    found = each(d, key, parse)
    truncated = required_flag(d, "isTruncated")
    next_marker = text(d, "nextMarker")
    if truncated and not next_marker:
        raise ShapeError(
            "nextMarker: missing or empty although isTruncated is true, so the list is cut "
            f"(keys present: {keys_seen(d)})"
        )
    total = number(d, "totalCount", -1)
    return Page(
        found,
        truncated,
        next_marker if truncated else "",
        total if total >= 0 else None,
        max(0, number(d, "maxKeys", 0)),
    )


def _image_id(image: Image) -> str:
    return f"{image.namespace}/{image.repository}"


def node_id(node: Node) -> str:
    return node.instance_short_id


def versions_from(data: Any) -> tuple[str, ...]:
    return texts(obj(data, "the answer"), "data")


_NONE_COMING = object()  # no page is being read ahead


class _PageAhead:
    """The pages of one marker-paged list, each asked for as soon as its marker is known:
    the thread that receives a page reads its ``nextMarker`` from the JSON and, when the page
    leads to another as far as can be told before parsing it (truncated, full, within
    ``totalCount`` and the limits, a new marker), sends that request itself, at once, while
    the pager parses and checks the page (markers make the pages of a list a chain: they
    cannot all be asked for at once, as ``pageNo`` pages can). It is the very request the
    pager sends next, so the list, its checks and its errors are the same. A page is read
    ahead only once the pager has asked for the page before it (it passed every check up to
    that one), so a page whose items then fail their checks leaves at most one read unused,
    as page after page would. (Whichever comes second, the page or the pager's ask for it,
    decides what comes next: the pager asks before the page arrives when parsing is faster
    than the network.)"""

    def __init__(
        self, client: CceClient, path: str, query: Mapping[str, str | None], key: str
    ) -> None:
        self.client, self.path, self.query, self.key = client, path, query, key
        self._pool: ThreadPoolExecutor | None = None
        self._cond = threading.Condition()
        # the pager's latest ask: (marker, markers seen, items before it, the last page?)
        self._asked: tuple[str | None, set[str], int, bool] | None = None
        self._answers: dict[str | None, ApiResponse | BaseException] = {}
        self._undecided: str | None | object = _NONE_COMING  # an answer no one followed yet
        self._coming: str | None | object = _NONE_COMING  # the marker being read ahead
        self._closed = False

    def __enter__(self) -> _PageAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._cond:
            self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _query(self, marker: str | None) -> dict[str, str | None]:
        return page_query(self.query, self.client.page_size, marker)

    def _get(self, marker: str | None) -> ApiResponse:
        return self.client._call("GET", self.path, self._query(marker))

    def page(self, marker: str | None, markers: set[str], found: int, last: bool) -> ApiResponse:
        """The answer for ``marker`` (``found`` items read before it, ``markers`` the markers
        seen), and the next page asked for if this one leads to it."""
        with self._cond:
            self._asked = (marker, markers, found, last)
            if self._coming == marker or marker in self._answers:
                while marker not in self._answers:
                    self._cond.wait()
                answer = self._answers.pop(marker)
                if isinstance(answer, BaseException):
                    raise answer
                if self._undecided == marker:  # it came before this ask: follow it now
                    self._undecided = _NONE_COMING
                    self._follow(answer, marker)
                return answer
        answer = self._get(marker)  # not read ahead: the first page, or after a surprise
        with self._cond:
            self._follow(answer, marker)
        return answer

    def _follow(self, answer: ApiResponse, marker: str | None) -> None:
        """Ask for the page ``answer`` (the page at ``marker``, which the pager has asked
        for) leads to, if any (holding the lock)."""
        after = self._next(answer, marker)
        if after is not None:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="page-ahead")
            self._coming = after
            self._pool.submit(self._chain, after)

    def _next(self, answer: ApiResponse, marker: str | None) -> str | None:
        asked = self._asked
        assert asked is not None and asked[0] == marker
        _, markers, found, last = asked
        if last or self._closed:
            return None
        after = self._leads_to(answer.data, found)
        return after if after is not None and after != marker and after not in markers else None

    def _chain(self, marker: str | None) -> None:
        """Read the page at ``marker`` and, while the pager has asked for each page as it
        came, the pages it leads to, one after another on this thread."""
        while True:
            try:
                answer: ApiResponse | BaseException = self._get(marker)
            except BaseException as exc:  # the pager raises it when it asks for this page
                answer = exc
            with self._cond:
                self._answers[marker] = answer
                self._coming = _NONE_COMING
                self._cond.notify_all()
                if isinstance(answer, BaseException):
                    return
                asked = self._asked
                if asked is None or asked[0] != marker:
                    self._undecided = marker  # the pager decides when it asks for it
                    return
                after = self._next(answer, marker)
                if after is None:
                    return
                self._coming = marker = after

    def _leads_to(self, data: Any, found: int) -> str | None:
        """The raw page's ``nextMarker`` if nothing seen before parsing it refuses the page."""
        if not isinstance(data, Mapping) or data.get("isTruncated") is not True:
            return None
        after, items = data.get("nextMarker"), data.get(self.key)
        if not isinstance(after, str) or not after or not isinstance(items, list):
            return None
        max_keys, total = data.get("maxKeys"), data.get("totalCount")
        size = self.client.page_size
        if type(max_keys) is int and max_keys > 0:
            size = min(size, max_keys)
        if len(items) < size or found + len(items) >= MAX_LIST_ITEMS:
            return None
        if total is not None and (
            type(total) is not int or total > MAX_LIST_ITEMS or found + len(items) >= total
        ):
            return None
        return after


def shape_error(problem: str, response: ApiResponse, method: str, path: str) -> ShapeError:
    return ShapeError(
        f"the answer does not have the expected shape: {problem}",
        status=response.status,
        request_id=response.request_id,
        method=method,
        path=path,
    )


def _existed_page(data: Any) -> tuple[tuple[ExistedNode, ...], int]:
    d = obj(data, "the answer")
    return each(d, "nodeList", ExistedNode.from_json), required_number(d, "totalCount")
