"""`reconciler doctor [PATH]`: read-only checks of the target before the first real run.

For: telling a user, before any plan or apply, whether the endpoint of the configuration at
PATH accepts the credentials (a signed GET), whether this machine's clock is close enough to
the server's ``Date`` for signatures to be accepted, and whether each answer the reconciler
reads (the registry user, the first page of the namespace, image, cluster and node lists, the
quota and the version list) has the shape the client expects; and, when the configuration
declares CCR Enterprise objects, the same of the CCR endpoint: a signed list of instances, each
declared instance found, and the first page of every list a refresh reads there. A mismatch names the key and
shows the keys the answer had, so that a wrong guess about the real API (docs/api-contract.md)
is seen before a plan decides anything from it. The single GETs of a namespace and of an image
tag, which the client avoids because their shapes are unconfirmed, are shown as notes.
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

from reconciler.client import ccr, v1
from reconciler.client.answers import Origin, Reader
from reconciler.client.ccr_types import (
    CcrInstance,
    PrivateNetworks,
    Project,
    PublicNetwork,
    Registry,
    Robot,
)
from reconciler.client.transport import ApiResponse
from reconciler.client.v1 import CceClient, Page, parse_page
from reconciler.client.v1_types import Cluster, Node, Quota, RegistryUser
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
from reconciler.kinds.ccr_common import CCR_KINDS_PREFIX, instance_of
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
# Signatures are refused 15 minutes ahead of the server (cce-v1-api.md section 3); warn well
# before that.
SKEW_WARNING_S = 60.0
SKEW_FAILURE_S = 15 * 60.0
GONE = frozenset({"DELETED", "DELETING"})
CCR_FIRST_PAGE = {"pageNo": "1", "pageSize": str(ccr.MAX_PAGE_SIZE)}


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


def check_credentials_and_clusters(doctor: Doctor) -> Page[Any] | None:
    """One signed GET of the cluster list: credentials, clock and the list's shape at once."""
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


# --- CCR Enterprise (its own endpoint) -----------------------------------------------------


def ccr_instances_declared(desired: DesiredState) -> list[str]:
    """The CCR Enterprise instances the configuration uses, in order."""
    found = (instance_of(a) for a in desired.resources if a.kind.startswith(CCR_KINDS_PREFIX))
    return list(dict.fromkeys(found))


def ccr_first_page(
    doctor: Doctor, name: str, path: str, list_key: str, parse: Callable[[Reader], Any]
) -> tuple[int, list[Any]] | None:
    """The first page of a CCR list (``pageNo``/``pageSize``, the total at the top), read
    the way the client reads it."""
    result: tuple[int, list[Any]] | None = None
    with doctor.answer(name, f"GET {path}"):
        response = doctor.client.ccr.transport.request("GET", path, dict(CCR_FIRST_PAGE))

        def read(data: Any) -> tuple[int, list[Any]]:
            page = Reader(data, Origin("GET", path, response.status, response.request_id))
            total = page.integer("total")
            return total, [parse(i) for i in page.objects(list_key, null_is_empty=total == 0)]

        result = doctor.shaped(
            name, response, read, path, lambda r: f"{list_key}: {len(r[1])} of {r[0]} listed"
        )
    return result


def ccr_object(
    doctor: Doctor, name: str, path: str, parse: Callable[[Reader], Any], summary: str
) -> None:
    with doctor.answer(name, f"GET {path}"):
        response = doctor.client.ccr.transport.request("GET", path)
        origin = Origin("GET", path, response.status, response.request_id)
        doctor.shaped(name, response, lambda d: parse(Reader(d, origin)), path, lambda _: summary)


def check_ccr(doctor: Doctor, instances: list[str]) -> None:
    """The CCR Enterprise endpoint: credentials (a signed list of instances), each declared
    instance found, and the first page of every list a refresh reads in the first one."""
    if not instances:
        return  # a configuration without CCR objects is not checked against CCR
    listed = ccr_first_page(doctor, "ccr instances", ccr.PREFIX, "instances", CcrInstance.read)
    if listed is None or doctor.stopped:
        return
    total, found = listed
    ids = {i.instance_id for i in found}
    for instance_id in instances:
        if instance_id in ids:
            doctor.add(Check("ccr instance", OK, "CCR Enterprise", f"{instance_id} exists"))
        elif total > len(found):
            detail = f"{instance_id} is not on the first page of {total}; plan reads them all"
            doctor.add(Check("ccr instance", WARNING, "CCR Enterprise", detail))
        else:
            detail = f"{instance_id} does not exist in this account and region"
            doctor.add(Check("ccr instance", FAILED, "CCR Enterprise", detail))
    first = next((i for i in instances if i in ids), None)
    if first is None:
        return
    base = f"{ccr.PREFIX}/{first}"
    lists = (
        ("ccr projects", "projects", "projects", Project.read),
        ("ccr robots", "robots", "robots", Robot.read),
        ("ccr registries", "registries", "items", Registry.read),
    )
    for name, tail, key, parse in lists:
        if not doctor.stopped:
            ccr_first_page(doctor, name, f"{base}/{tail}", key, parse)
    if not doctor.stopped:
        ccr_object(doctor, "ccr public", f"{base}/publiclinks", PublicNetwork.read, "read")
        ccr_object(doctor, "ccr private", f"{base}/privatelinks", PrivateNetworks.read, "read")


def run_checks(client: CceClient, ccr_instances: list[str] | None = None) -> list[Check]:
    doctor = Doctor(client)
    clusters = check_credentials_and_clusters(doctor)
    steps: list[Callable[[], None]] = [
        lambda: check_registry(doctor, *check_user(doctor)),
        lambda: check_nodes(doctor, clusters),
        lambda: check_quota(doctor),
        lambda: check_versions(doctor),
    ]
    for step in steps:
        if doctor.stopped:
            break
        step()
    if not doctor.stopped or client.ccr.transport is not client.transport:
        doctor.stopped = False  # the CCR endpoint answers on its own
        check_ccr(doctor, ccr_instances or [])
    return doctor.checks


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
        if client.ccr.transport.endpoint != endpoint:
            endpoint += f" and {client.ccr.transport.endpoint}"
        checks = run_checks(client, ccr_instances_declared(desired))
    if as_json:
        click.echo(json.dumps(to_json(endpoint, checks), indent=2, sort_keys=True))
    else:
        click.echo(render_text(endpoint, checks))
    return EXIT_ERROR if any(c.status in FAILING for c in checks) else EXIT_OK
