"""`reconciler doctor [PATH]`: read-only checks of the target before the first real run.

For: telling a user, before any plan or apply, whether the endpoint of the configuration at
PATH accepts the credentials (a signed GET), whether this machine's clock is close enough to
the server's ``Date`` for signatures to be accepted, and whether each answer the reconciler
reads has the shape the client expects: for the v1 registry API (the registry user, the first
page of the namespace and image lists), the v1 cluster API (cluster and node lists, the quota
and the version list) and the v2 API (clusters, quotas, instance groups and their nodes, and
each day-2 API the configuration uses: add-ons, the cluster autoscaler, node-upgrade versions).
Only the APIs the configuration uses are checked (all of them for a configuration that
declares nothing); every other check is listed as skipped, saying why. A mismatch names the key
and shows the keys the answer had, so that a wrong guess about the real API
(docs/api-contract.md) is seen before a plan decides anything from it. The single GETs of a
namespace and of an image tag, which the client avoids because their shapes are unconfirmed,
are shown as notes.
Not for: changing anything. Only GETs are sent, and each list is read one page deep.

Exit 0 when every check passed (warnings and notes included), 1 on a mismatch or a failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import click

from reconciler.client import v1
from reconciler.client.transport import ApiResponse
from reconciler.client.v1 import CceClient, Page, parse_page
from reconciler.client.v1_types import Cluster, Node, Quota, RegistryUser
from reconciler.client.v2_types import (
    Addon,
    CceInstance,
    ClusterAutoscaler,
    InstanceGroup,
    K8sCluster,
    Origin,
    Reader,
    UpgradeVersions,
)
from reconciler.client.v2_types import Quota as V2Quota
from reconciler.commands.common import config_choice_options, paths_argument, state_options
from reconciler.errors import (
    EXIT_ERROR,
    EXIT_OK,
    ApiError,
    AuthError,
    BadResponseError,
    NotFoundError,
    ServerError,
    ShapeError,
)
from reconciler.kinds import kind_named
from reconciler.model import ConfigChoice, DesiredState
from reconciler.options import RunOptions, StateChoice
from reconciler.session import load, open_client, open_store, read_state

OK, MISMATCH, FAILED, WARNING, SKIPPED, NOTE = (
    "ok",
    "mismatch",
    "failed",
    "warning",
    "skipped",
    "note",
)
FAILING = frozenset({MISMATCH, FAILED})
# Signatures are refused 15 minutes ahead of the server (cce-v1-v1.md section 3); warn well
# before that.
SKEW_WARNING_S = 60.0
SKEW_FAILURE_S = 15 * 60.0
GONE = frozenset({"DELETED", "DELETING"})


@dataclass
class Check:
    name: str
    status: str
    request: str
    detail: str
    request_id: str = ""
    keys: list[str] | None = None  # the answer's top-level keys, on a mismatch


@dataclass
class Doctor:
    """Runs the checks in order against one client; later checks use what earlier ones read."""

    client: CceClient
    checks: list[Check] = field(default_factory=list)
    stopped: bool = False

    def add(self, check: Check) -> None:
        self.checks.append(check)

    @contextmanager
    def answer(self, name: str, method_path: str) -> Iterator[None]:
        """Turn the errors of one check into its row; an auth or connection failure stops the
        rest (every later request would fail the same way)."""
        try:
            yield
        except BadResponseError as exc:  # not JSON, an HTML page, too large ...
            self.add(Check(name, MISMATCH, method_path, exc.message, exc.request_id))
        except AuthError as exc:
            self.add(Check(name, FAILED, method_path, _auth_detail(exc), exc.request_id))
            self.stopped = True
        except ServerError as exc:
            detail = f"{exc.code or 'HTTP ' + str(exc.status)}: {exc.message}"
            self.add(Check(name, FAILED, method_path, detail, exc.request_id))
        except ApiError as exc:
            self.add(Check(name, FAILED, method_path, str(exc), exc.request_id))
            self.stopped = True

    def get(self, path: str, query: dict[str, str | None] | None = None) -> ApiResponse:
        return self.client.transport.request("GET", path, query)

    def shaped(
        self,
        name: str,
        response: ApiResponse,
        parse: Callable[[Any], Any],
        path: str,
        summary: Callable[[Any], str],
    ) -> Any:
        """Parse an answer the way the client does; a mismatch is a row with the raw keys."""
        where = f"GET {path}"
        try:
            value = parse(response.data)
        except ShapeError as exc:
            keys = sorted(response.data) if isinstance(response.data, dict) else None
            self.add(Check(name, MISMATCH, where, exc.message, response.request_id, keys))
            return None
        self.add(Check(name, OK, where, summary(value), response.request_id))
        return value

    def first_page(
        self,
        name: str,
        path: str,
        query: dict[str, str | None],
        key: str,
        parse: Callable[[Any], Any],
    ) -> Page[Any] | None:
        response = self.get(path, v1.page_query(query))
        return self.shaped(
            name, response, lambda d: parse_page(d, key, parse), path, _page_summary(key)
        )


def _auth_detail(exc: AuthError) -> str:
    hint = ""
    if exc.code == "RequestExpired":
        hint = " (this machine's clock is probably off: signatures carry the local time)"
    elif exc.code in ("InvalidAccessKeyId", "SignatureDoesNotMatch"):
        hint = " (check BCE_ACCESS_KEY_ID / BCE_SECRET_ACCESS_KEY)"
    return f"credentials refused: {exc.code}: {exc.message}{hint}"


def _page_summary(key: str) -> Callable[[Page[Any]], str]:
    def summary(page: Page[Any]) -> str:
        more = ", more pages follow" if page.is_truncated else ""
        return f"{key}: {len(page.items)} on the first page{more}"

    return summary


# --- the checks --------------------------------------------------------------------------------


def check_credentials_and_clusters(doctor: Doctor, shape: bool = True) -> Page[Any] | None:
    """One signed GET of the cluster list: credentials, clock and (``shape``) the list's shape
    at once."""
    where = f"GET {v1.CLUSTER_PATH}"
    response = None
    with doctor.answer("credentials", where):
        response = doctor.get(v1.CLUSTER_PATH, v1.page_query({}))
        doctor.add(
            Check("credentials", OK, where, "a signed request was accepted", response.request_id)
        )
    if response is None:
        return None
    check_clock(doctor, response)
    if not shape:
        return None
    return doctor.shaped(
        "clusters",
        response,
        lambda d: parse_page(d, v1.CLUSTERS_KEY, Cluster.from_json),
        v1.CLUSTER_PATH,
        _page_summary(v1.CLUSTERS_KEY),
    )


def check_clock(doctor: Doctor, response: ApiResponse) -> None:
    date = response.headers.get("Date", "")
    try:
        server = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        doctor.add(Check("clock", WARNING, "Date header", f"no usable Date header ({date!r})"))
        return
    if server.tzinfo is None:
        server = server.replace(tzinfo=UTC)
    skew = (datetime.now(UTC) - server).total_seconds()
    if abs(skew) < 2:  # Date has whole seconds
        detail = f"in step with the server (Date: {date})"
    else:
        ahead = "ahead of" if skew > 0 else "behind"
        detail = f"this machine is {abs(skew):.0f} s {ahead} the server (Date: {date})"
    if abs(skew) >= SKEW_FAILURE_S:
        status = FAILED
        detail += "; signatures will be refused (RequestExpired): set the clock"
    elif abs(skew) >= SKEW_WARNING_S:
        status = WARNING
        detail += "; signatures are still accepted, but set the clock"
    else:
        status = OK
    doctor.add(Check("clock", status, "Date header", detail))


def check_user(doctor: Doctor) -> tuple[str | None, str]:
    """The registry user's name, or None and why the per-user lists cannot be read."""
    where = f"GET {v1.USER_PATH}"
    user: RegistryUser | None = None
    with doctor.answer("user", where):
        try:
            response = doctor.get(v1.USER_PATH)
        except NotFoundError as exc:
            detail = f"no registry user yet ({exc.code}); apply creates the one declared"
            doctor.add(Check("user", OK, where, detail, exc.request_id))
            return None, "listed per registry user, and there is none yet"
        user = doctor.shaped(
            "user",
            response,
            RegistryUser.from_json,
            v1.USER_PATH,
            lambda u: f"registry user {u.username}",
        )
    if user is None:
        return None, "listed per registry user, whose answer could not be read"
    return user.username, ""


def check_registry(doctor: Doctor, username: str | None, why_not: str) -> None:
    if username is None:
        for name, path in (("namespaces", v1.NAMESPACE_PATH), ("images", v1.IMAGE_PATH)):
            doctor.add(Check(name, SKIPPED, f"GET {path}", why_not))
        return
    query = v1.registry_list_query(username)
    namespaces = images = None
    with doctor.answer("namespaces", f"GET {v1.NAMESPACE_PATH}"):
        namespaces = doctor.first_page(
            "namespaces", v1.NAMESPACE_PATH, query, v1.NAMESPACES_KEY, v1.namespace_from
        )
    with doctor.answer("images", f"GET {v1.IMAGE_PATH}"):
        images = doctor.first_page("images", v1.IMAGE_PATH, query, v1.IMAGES_KEY, v1.image_from)
    if namespaces is not None and namespaces.items and not doctor.stopped:
        note_namespace_get(doctor, namespaces.items[0].namespace)
    if images is not None and not doctor.stopped:
        tagged = next((i for i in images.items if i.tags), None)
        if tagged is not None:
            note_image_meta_get(doctor, tagged.namespace, tagged.repository, tagged.tags[0])


def note_namespace_get(doctor: Doctor, name: str) -> None:
    """``GET /v1/image/namespace/{ns}`` may be an existence check only: say what it returned."""
    path = f"{v1.NAMESPACE_PATH}/{name}"
    with doctor.answer("namespace get", f"GET {path}"):
        response = doctor.get(path)
        _note_shape(doctor, "namespace get", path, response, v1.namespace_from, "find_namespace")


def note_image_meta_get(doctor: Doctor, namespace: str, repository: str, tag: str) -> None:
    query: dict[str, str | None] = dict(v1.image_meta_query(namespace, repository, tag))
    with doctor.answer("image meta get", f"GET {v1.IMAGE_META_PATH}"):
        response = doctor.get(v1.IMAGE_META_PATH, query)
        _note_shape(
            doctor,
            "image meta get",
            v1.IMAGE_META_PATH,
            response,
            v1.image_meta_from,
            "the image list",
        )


def _note_shape(
    doctor: Doctor,
    name: str,
    path: str,
    response: ApiResponse,
    parse: Callable[[Any], Any],
    instead: str,
) -> None:
    try:
        parse(response.data)
        detail = "answers with the object (the client reads the list all the same)"
    except ShapeError as exc:
        detail = f"answers without the object ({exc.message}); the client uses {instead} instead"
    keys = sorted(response.data) if isinstance(response.data, dict) else None
    doctor.add(Check(name, NOTE, f"GET {path}", detail, response.request_id, keys))


def check_nodes(doctor: Doctor, clusters: Page[Any] | None) -> None:
    where = f"GET {v1.NODE_PATH}"
    live = [c for c in clusters.items if c.status not in GONE] if clusters is not None else []
    if not live:
        doctor.add(Check("nodes", SKIPPED, where, "no live cluster to list the nodes of"))
        return
    cluster: Cluster = live[0]
    with doctor.answer("nodes", where):
        doctor.first_page(
            "nodes",
            v1.NODE_PATH,
            v1.nodes_query(cluster.cluster_uuid),
            v1.NODES_KEY,
            Node.from_json,
        )


def check_quota(doctor: Doctor) -> None:
    where = f"GET {v1.CLUSTER_PATH}?quota"
    with doctor.answer("quota", where):
        try:
            response = doctor.get(v1.CLUSTER_PATH, dict(v1.QUOTA_QUERY))
        except AuthError:
            raise
        except ServerError as exc:  # known only from third-party code: it may not exist
            detail = f"no quota call here ({exc.code or exc.status}: {exc.message})"
            doctor.add(Check("quota", WARNING, where, detail, exc.request_id))
            return
        doctor.shaped(
            "quota", response, Quota.from_json, f"{v1.CLUSTER_PATH}?quota", _quota_summary
        )


def _quota_summary(quota: Quota) -> str:
    return (
        f"clusters {quota.cluster_used}/{quota.cluster}, workers {quota.slave_used}/{quota.slave}"
    )


def check_versions(doctor: Doctor) -> None:
    where = f"GET {v1.VERSIONS_PATH}"
    with doctor.answer("versions", where):
        try:
            response = doctor.get(v1.VERSIONS_PATH)
        except AuthError:
            raise
        except ServerError as exc:
            detail = f"no version list here ({exc.code or exc.status}: {exc.message})"
            doctor.add(Check("versions", WARNING, where, detail, exc.request_id))
            return
        doctor.shaped(
            "versions",
            response,
            v1.versions_from,
            v1.VERSIONS_PATH,
            lambda v: ", ".join(v) or "none",
        )


# --- the v2 API (cce-v2-v1.md, cce-v2-day2-v1.md) ---------------------------------------------

V2_FIRST_PAGE = {"pageNo": "1", "pageSize": "10"}


def _v2_reader(response: ApiResponse, data: Any, path: str) -> Reader:
    return Reader(data, Origin("GET", path, response.status, response.request_id))


def v2_first_page(
    doctor: Doctor,
    name: str,
    path: str,
    query: dict[str, str],
    wrapper: str,
    list_key: str,
    read: Callable[[Reader], Any],
) -> list[Any] | None:
    """The first page of a v2 list, read as the client reads every page."""
    response = doctor.client.transport.request("GET", path, {**query, **V2_FIRST_PAGE})

    def parse(data: Any) -> list[Any]:
        page = _v2_reader(response, data, path).obj(wrapper)
        count = page.integer("totalCount")
        items = page.opt_objects(list_key) if count == 0 else page.objects(list_key)
        return [read(item) for item in items]

    def summary(items: list[Any]) -> str:
        return f"{list_key}: {len(items)} on the first page"

    found: list[Any] | None = doctor.shaped(name, response, parse, path, summary)
    return found


def v2_object(
    doctor: Doctor,
    name: str,
    path: str,
    read: Callable[[Reader], Any],
    summary: Callable[[Any], str],
    body: Any = None,
) -> Any:
    response = doctor.client.transport.request("GET", path, None, body)
    return doctor.shaped(
        name, response, lambda data: read(_v2_reader(response, data, path)), path, summary
    )


def _quota_text(quota: V2Quota) -> str:
    return f"{quota.used} of {quota.quota} used"


@dataclass(frozen=True)
class Uses:
    """Which APIs a configuration uses (every one, for a configuration that declares nothing)."""

    registry: bool = True
    v1_clusters: bool = True
    v2: bool = True
    addons: bool = True
    autoscaler: bool = True
    upgrades: bool = True
    v2_names: tuple[str, ...] = ()  # the declared v2 cluster names, to pick which one to read

    @classmethod
    def of(cls, desired: DesiredState | None) -> Uses:
        if desired is None or not desired.resources:
            return cls()
        kinds = {a.kind for a in desired.resources}
        attrs = [
            kind_named(a.kind).desired_attrs(spec)
            for a, spec in desired.resources.items()
            if a.kind in ("k8s_cluster", "instance_group")
        ]
        return cls(
            registry=bool(kinds & {"user", "namespace", "repository"}),
            v1_clusters="cluster" in kinds,
            v2=bool(kinds & {"k8s_cluster", "instance_group", "addon"}),
            addons="addon" in kinds,
            autoscaler=any("autoscaler" in a or "clusterAutoscaler" in a for a in attrs),
            upgrades=any("kubeletVersion" in a or "containerRuntimeVersion" in a for a in attrs),
            v2_names=tuple(a.name for a in desired.resources if a.kind == "k8s_cluster"),
        )


NOT_USED = "not used by this configuration"


def check_v2(doctor: Doctor, uses: Uses) -> None:
    """The v2 lists and quotas, then what one live cluster (a declared one first) answers."""
    v2 = doctor.client.v2
    with doctor.answer("v2 clusters", f"GET {v2.prefix}/clusters"):
        clusters = v2_first_page(
            doctor, "v2 clusters", f"{v2.prefix}/clusters", {}, "clusterPage", "clusterList",
            K8sCluster.read,
        )  # fmt: skip
    if doctor.stopped:
        return
    with doctor.answer("v2 quota", f"GET {v2.prefix}/quota/cluster"):
        v2_object(doctor, "v2 quota", f"{v2.prefix}/quota/cluster", V2Quota.read, _quota_text)
    live = [c for c in clusters or () if c.phase == "running"]
    live.sort(key=lambda c: c.cluster_name not in uses.v2_names)
    if not live:
        for name, what in V2_CLUSTER_CHECKS:
            doctor.add(Check(name, SKIPPED, what, "no running v2 cluster to read"))
        return
    check_v2_cluster(doctor, uses, live[0])


V2_CLUSTER_CHECKS = (
    ("v2 node quota", "GET .../quota/cluster/{id}/node"),
    ("v2 groups", "GET .../cluster/{id}/instancegroups"),
    ("v2 nodes", "GET .../instancegroup/{id}/instances"),
    ("v2 add-ons", "GET .../cluster/{id}/addon"),
    ("v2 autoscaler", "GET .../autoscaler/{id}"),
    ("v2 upgrades", "GET .../component_upgrade_versions"),
)


def check_v2_cluster(doctor: Doctor, uses: Uses, cluster: K8sCluster) -> None:
    v2, cid = doctor.client.v2, cluster.cluster_id
    base = f"{v2.prefix}/cluster/{cid}"
    path = f"{v2.prefix}/quota/cluster/{cid}/node"
    with doctor.answer("v2 node quota", f"GET {path}"):
        v2_object(doctor, "v2 node quota", path, V2Quota.read, _quota_text)
    with doctor.answer("v2 groups", f"GET {base}/instancegroups"):
        groups = v2_first_page(
            doctor, "v2 groups", f"{base}/instancegroups", {}, "page", "list", InstanceGroup.read
        )
    group = (groups or [None])[0]
    group_path = f"{base}/instancegroup/{group.instance_group_id}" if group else ""
    if group is None:
        doctor.add(Check("v2 nodes", SKIPPED, "GET .../instances", "no instance group to list"))
    else:
        with doctor.answer("v2 nodes", f"GET {group_path}/instances"):
            v2_first_page(
                doctor, "v2 nodes", f"{group_path}/instances", {}, "page", "list", CceInstance.read
            )
    check_v2_day2(doctor, uses, cid, base, group_path)


def check_v2_day2(doctor: Doctor, uses: Uses, cid: str, base: str, group_path: str) -> None:
    v2 = doctor.client.v2
    if not uses.addons:
        doctor.add(Check("v2 add-ons", SKIPPED, f"GET {base}/addon", NOT_USED))
    elif not doctor.stopped:
        with doctor.answer("v2 add-ons", f"GET {base}/addon"):
            v2_object(
                doctor, "v2 add-ons", f"{base}/addon",
                lambda r: [Addon.read(i) for i in r.objects("items")],
                lambda items: f"items: {len(items)} add-ons in the catalogue",
                body={"clusterID": cid, "addons": ""},
            )  # fmt: skip
    path = f"{v2.prefix}/autoscaler/{cid}"
    if not uses.autoscaler:
        doctor.add(Check("v2 autoscaler", SKIPPED, f"GET {path}", NOT_USED))
    elif not doctor.stopped:
        with doctor.answer("v2 autoscaler", f"GET {path}"):
            try:
                v2_object(
                    doctor, "v2 autoscaler", path,
                    lambda r: ClusterAutoscaler.read(r.obj("autoscaler")),
                    lambda a: f"expander {a.config.expander}",
                )  # fmt: skip
            except NotFoundError as exc:
                detail = f"no cluster autoscaler yet ({exc.code}); apply creates the one declared"
                doctor.add(Check("v2 autoscaler", OK, f"GET {path}", detail, exc.request_id))
    path = f"{group_path}/component_upgrade_versions"
    if not uses.upgrades:
        doctor.add(Check("v2 upgrades", SKIPPED, f"GET {path}", NOT_USED))
    elif not group_path:
        doctor.add(Check("v2 upgrades", SKIPPED, f"GET {path}", "no instance group to read"))
    elif not doctor.stopped:
        with doctor.answer("v2 upgrades", f"GET {path}"):
            v2_object(
                doctor, "v2 upgrades", path,
                lambda r: UpgradeVersions.read(r.obj("result")),
                lambda u: f"kubelet {u.of('kubelet').current_version}",
            )  # fmt: skip


def check_v1_clusters(doctor: Doctor, clusters: Page[Any] | None) -> None:
    for step in (
        lambda: check_nodes(doctor, clusters),
        lambda: check_quota(doctor),
        lambda: check_versions(doctor),
    ):
        if doctor.stopped:
            return
        step()


def skip(doctor: Doctor, names: tuple[str, ...], why: str) -> None:
    for name in names:
        doctor.add(Check(name, SKIPPED, "", why))


REGISTRY_CHECKS = ("user", "namespaces", "images")
V1_CLUSTER_CHECKS = ("clusters", "nodes", "quota", "versions")
V2_CHECKS = ("v2 clusters", "v2 quota", *(name for name, _ in V2_CLUSTER_CHECKS))


def run_checks(client: CceClient, desired: DesiredState | None = None) -> list[Check]:
    doctor = Doctor(client)
    uses = Uses.of(desired)
    clusters = None
    if uses.v2 and not uses.v1_clusters:
        check_credentials_v2(doctor)
    else:  # credentials and the clock, and the list's shape when v1 clusters are declared
        clusters = check_credentials_and_clusters(doctor, shape=uses.v1_clusters)
    steps: list[Callable[[], None]] = [
        (lambda: check_registry(doctor, *check_user(doctor)))
        if uses.registry
        else (
            lambda: skip(
                doctor, REGISTRY_CHECKS, f"{NOT_USED} (no registry user, namespace or repository)"
            )
        ),  # fmt: skip
        (lambda: check_v1_clusters(doctor, clusters))
        if uses.v1_clusters
        else (lambda: skip(doctor, V1_CLUSTER_CHECKS, f"{NOT_USED} (no v1 cluster)")),
        (lambda: check_v2(doctor, uses))
        if uses.v2
        else (lambda: skip(doctor, V2_CHECKS, f"{NOT_USED} (no k8s_cluster)")),
    ]
    for step in steps:
        if doctor.stopped:
            break
        step()
    return doctor.checks


def check_credentials_v2(doctor: Doctor) -> None:
    """For a configuration of v2 clusters only: the signed GET is the v2 cluster list's."""
    path = f"{doctor.client.v2.prefix}/clusters"
    where = f"GET {path}"
    with doctor.answer("credentials", where):
        response = doctor.client.transport.request("GET", path, dict(V2_FIRST_PAGE))
        doctor.add(
            Check("credentials", OK, where, "a signed request was accepted", response.request_id)
        )
        check_clock(doctor, response)


# --- output ------------------------------------------------------------------------------------


def render_text(endpoint: str, checks: list[Check]) -> str:
    lines = [f"Checking {endpoint} (read-only: GET requests only)", ""]
    for check in checks:
        rid = f" [request id {check.request_id}]" if check.request_id else ""
        lines.append(
            f"  {check.status:<9} {check.name:<15} {check.request:<28} {check.detail}{rid}"
        )
        if check.keys is not None and check.status in (MISMATCH, NOTE):
            lines.append(
                f"  {'':<9} {'':<15} keys in the answer: {', '.join(check.keys) or '(none)'}"
            )
    failing = [c for c in checks if c.status in FAILING]
    lines.append("")
    if any(c.status == MISMATCH for c in failing):
        lines.append(
            f"{len(failing)} problem(s): plan and apply would stop on these answers "
            "(see docs/api-contract.md for the shapes the client expects)."
        )
    elif failing:
        lines.append(
            f"{len(failing)} problem(s): the target did not answer as a CCE endpoint should "
            "(check the endpoint, the BCE_* keys and this machine's clock)."
        )
    else:
        lines.append("All checks passed.")
    return "\n".join(lines)


def to_json(endpoint: str, checks: list[Check]) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "ok": not any(c.status in FAILING for c in checks),
        "checks": [asdict(c) for c in checks],
    }


@click.command(name="doctor")
@paths_argument
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@config_choice_options
@state_options
def command(paths: tuple[str, ...], as_json: bool, choice: ConfigChoice, state: StateChoice) -> int:
    """Check the target before a first run: credentials, clock, answer shapes. Read-only."""
    desired, context = load(paths, choice, state)
    read_state(open_store(context), context.target)  # a state applied elsewhere: not here
    with open_client(context, RunOptions(retry_budget=2)) as client:
        endpoint = client.transport.endpoint
        checks = run_checks(client, desired)
    if as_json:
        click.echo(json.dumps(to_json(endpoint, checks), indent=2, sort_keys=True))
    else:
        click.echo(render_text(endpoint, checks))
    return EXIT_ERROR if any(c.status in FAILING for c in checks) else EXIT_OK
