"""Execute a Plan: guards, then every change on a bounded pool in dependency order, journaled.

Each mutation is journaled before it is sent (an ``intent`` carrying the state entry the
resource gets on success), the cloud id is journaled the moment it is known, and a ``done``
record carries the outcome. "Already done" answers from the error table count as success:
``RegistryAlreadyExist`` / ``Cce.UserExist`` on a create (after reading the object back),
``*NotFound`` / ``*NotExist`` / ``Cce.ClusterDeleted`` on a delete, ``Cce.PasswdNotChange`` on a
password update; ``Cce.ClusterCreating`` / ``Cce.ClusterDeleting`` mean wait and retry. A create
whose answer was lost is followed by a read before any resend.

Not for: deciding what to do (``plan``) or printing plans (``render``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler import waiters
from reconciler.client.api import CceClient
from reconciler.errors import (
    AlreadyExistsError,
    ApiError,
    BusyError,
    NotFoundError,
    OutcomeUnknownError,
    ReconcilerError,
    RefusedError,
)
from reconciler.graph import DONE, FAILED, SKIPPED, NodeResult, Walker
from reconciler.kinds import cluster as cluster_kind
from reconciler.kinds.base import LiveObject
from reconciler.model import Action, Address
from reconciler.plan import Change, Plan, fingerprint
from reconciler.refresh import read_one
from reconciler.state import (
    ADOPTED,
    CREATED,
    Journal,
    ResourceState,
    State,
    hash_secret,
    new_intent_id,
    now_text,
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int = 10
    timeouts: Mapping[str, float] = field(default_factory=lambda: {"cluster": 1800.0})
    poll_interval: float = 2.0
    progress_every: float = 10.0
    busy_retries: int = 30


class ConflictError(ReconcilerError):
    pass


class Interrupted(ReconcilerError):
    exit_code = 130


def check_guards(
    plan: Plan, state: State, allow_deletes: int | None, destroying: bool = False
) -> None:
    """Refuse (exit 3) a plan with conflicts, protected or unapproved replacements, or too many deletes."""
    problems = [c.message for c in plan.conflicts]
    problems += [f"{c.address}: {c.refused}" for c in plan.refused]
    if problems:
        raise RefusedError("refusing to apply:\n  " + "\n  ".join(problems))
    if destroying:
        return
    deleting = [c for c in plan.changes if c.action in (Action.DELETE, Action.REPLACE)]
    managed = len(state.resources)
    limit = max(3, math.floor(0.1 * managed))
    leaving = {c.address for c in plan.changes if c.action in (Action.DELETE, Action.FORGET)}
    empties = bool(deleting) and managed > 0 and set(state.resources) <= leaving
    if (len(deleting) > limit or empties) and (
        allow_deletes is None or allow_deletes < len(deleting)
    ):
        why = (
            "would delete every managed resource"
            if empties
            else f"deletes or replaces {len(deleting)} of {managed} managed resources (limit {limit})"
        )
        raise RefusedError(
            f"blast-radius guard: this plan {why}; if that is intended, rerun with --allow-deletes {len(deleting)}"
        )


SecretResolver = Callable[[Change, str], str]


class Operations:
    """What each change does against the API. Thread-safe; one instance per apply."""

    def __init__(
        self,
        client: CceClient,
        journal: Journal,
        state: State,
        secrets: SecretResolver,
        username: str | None,
        options: ApplyOptions,
        progress: Progress,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.state = state
        self.secrets = secrets
        self.username = username
        self.options = options
        self.progress = progress
        self.cancelled = threading.Event()
        self.sleep = sleep or self._sleep_unless_cancelled
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Stop waiting (Ctrl-C): waits end at once; requests in flight finish and are journaled."""
        self.cancelled.set()

    def _sleep_unless_cancelled(self, seconds: float) -> None:
        if self.cancelled.wait(seconds):
            raise Interrupted("interrupted while waiting; the next run picks this up")

    # --- journal helpers -----------------------------------------------------------------

    def _entry(
        self, change: Change, cloud_id: str, ownership: str = CREATED, **extra: Any
    ) -> ResourceState:
        after = dict(change.after or {})
        hashes = {
            name: hash_secret(self.secrets(change, name))
            for name in change.secrets
            if name != "workers.adminPassword"
        }
        return ResourceState(
            kind=change.address.kind,
            cloud_id=cloud_id,
            ownership=ownership,
            protect=change.protected,
            fingerprint=fingerprint(after),
            secret_hashes=hashes,
            applied=after,
            **extra,
        )

    def _intent(
        self, change: Change, action: str, entry: ResourceState | None, cloud_id: str | None = None
    ) -> str:
        intent_id = new_intent_id()
        self.journal.append(
            {
                "op": "intent",
                "id": intent_id,
                "address": str(change.address),
                "action": action,
                "cloud_id": cloud_id,
                "entry": entry.to_json() if entry else None,
                "started": now_text(),
            }
        )
        return intent_id

    def _done(self, intent_id: str, address: Address, entry: ResourceState | None) -> None:
        self.journal.append(
            {
                "op": "done",
                "id": intent_id,
                "address": str(address),
                "entry": entry.to_json() if entry else None,
            }
        )

    # --- dispatch --------------------------------------------------------------------------

    def run(self, change: Change) -> None:
        kind, action = change.address.kind, change.action
        if action is Action.FORGET:
            intent = self._intent(change, "delete", None)
            self._done(intent, change.address, None)
            return
        if action is Action.DELETE:
            self._delete(change)
        elif action is Action.CREATE:
            self._create(change)
        elif action is Action.REPLACE:
            self._delete(change)
            self._create(change)
        elif action is Action.UPDATE:
            getattr(self, f"_update_{kind}")(change)

    def _delete(self, change: Change) -> None:
        entry = self.state.resources.get(change.address)
        if entry is None:
            return
        intent = self._intent(change, "delete", None, entry.cloud_id)
        try:
            getattr(self, f"_delete_{change.address.kind}")(entry.cloud_id, change.address)
        except NotFoundError:
            pass  # already gone: a delete's goal
        self._done(intent, change.address, None)

    def _create(self, change: Change) -> None:
        kind = change.address.kind
        entry = self._entry(change, cloud_id=_natural_id(change))
        intent = self._intent(change, "create", entry)
        created = getattr(self, f"_create_{kind}")(change, entry, intent)
        self._done(intent, change.address, created)

    # --- users -----------------------------------------------------------------------------

    def _create_user(self, change: Change, entry: ResourceState, intent: str) -> ResourceState:
        username, password = entry.cloud_id, self.secrets(change, "password")
        try:
            self._unknown_then_read(
                lambda: self.client.create_user(username, password), change, entry.cloud_id
            )
        except AlreadyExistsError:
            self._set_password(username, password)
            return entry.evolve(ownership=ADOPTED)
        return entry

    def _set_password(self, username: str, password: str) -> None:
        try:
            self.client.update_password(username, password)
        except AlreadyExistsError:
            pass  # Cce.PasswdNotChange: it already is this password

    def _update_user(self, change: Change) -> None:
        entry = self._state_entry(change)
        intent = self._intent(change, "update", None, entry.cloud_id)
        if any(f.path == "password" for f in change.fields):
            self._set_password(entry.cloud_id, self.secrets(change, "password"))
        new = self._entry(change, entry.cloud_id, entry.ownership)
        self._done(intent, change.address, new)

    # --- namespaces ------------------------------------------------------------------------

    def _create_namespace(self, change: Change, entry: ResourceState, intent: str) -> ResourceState:
        name, public = entry.cloud_id, bool((change.after or {}).get("public", False))
        if not self.username:
            raise ConflictError(
                f"{change.address}: no registry user is declared or exists; a namespace needs one"
            )
        try:
            self._unknown_then_read(
                lambda: self.client.create_namespace(name, public=public, user=self.username or ""),
                change,
                name,
            )
        except AlreadyExistsError:
            return self._adopt_if_same(change, entry)
        return entry

    def _delete_namespace(self, cloud_id: str, address: Address) -> None:
        self.client.delete_namespace(cloud_id)

    def _update_namespace(self, change: Change) -> None:
        self._state_only_update(change)

    # --- repositories ----------------------------------------------------------------------

    def _create_repository(
        self, change: Change, entry: ResourceState, intent: str
    ) -> ResourceState:
        after = change.after or {}
        description = after.get("description")
        for tag in after.get("tags", []):
            # POST /v1/image/meta is an upsert (provisional contract), so a resend is harmless
            self.client.create_image_meta(after["namespace"], after["name"], tag, description)
        return entry

    def _delete_repository(self, cloud_id: str, address: Address) -> None:
        namespace, _, name = cloud_id.partition("/")
        self.client.delete_image_meta(namespace, name)

    def _update_repository(self, change: Change) -> None:
        entry = self._state_entry(change)
        intent = self._intent(change, "update", None, entry.cloud_id)
        after, before = change.after or {}, change.before or {}
        namespace, name = after["namespace"], after["name"]
        want, have = set(after.get("tags", [])), set(before.get("tags", []))
        description = after.get("description")
        added = sorted(want - have)
        for tag in added:
            self.client.create_image_meta(namespace, name, tag, description)
        if description is not None and description != before.get("description") and not added:
            self.client.create_image_meta(namespace, name, sorted(want)[0], description)
        for tag in sorted(have - want):
            try:
                self.client.delete_image_meta(namespace, name, tag)
            except NotFoundError:
                pass
        self._done(intent, change.address, self._entry(change, entry.cloud_id, entry.ownership))

    # --- clusters --------------------------------------------------------------------------

    def _create_cluster(self, change: Change, entry: ResourceState, intent: str) -> ResourceState:
        after = change.after or {}
        admin = (
            self.secrets(change, "workers.adminPassword")
            if "workers.adminPassword" in change.secrets
            else None
        )
        body = cluster_body(after, admin)
        try:
            cloud_id = self.client.create_cluster(body).cluster_uuid
        except OutcomeUnknownError:
            found = self._find_cluster_by_name(after["name"])
            if found is None:
                self.progress(
                    f"{change.address}: the create's answer was lost and no cluster named {after['name']} exists; sending it again"
                )
                cloud_id = self.client.create_cluster(body).cluster_uuid
            else:
                cloud_id = found
        self.journal.append({"op": "cloud_id", "id": intent, "cloud_id": cloud_id})
        entry = entry.evolve(cloud_id=cloud_id)
        try:
            self._wait(change, cloud_id, waiters.CLUSTER_CREATED)
        except waiters.WaitFailed as exc:
            if exc.last_status in cluster_kind.BROKEN_STATUSES:
                self._done(intent, change.address, entry.evolve(tainted=True))
                raise ReconcilerError(
                    f"{change.address} ({cloud_id}) failed to create (status {exc.last_status}); it is marked tainted and the next plan replaces it"
                ) from None
            raise
        return entry

    def _find_cluster_by_name(self, name: str) -> str | None:
        # dict() copies in one step under the GIL; other workers add and remove entries meanwhile
        snapshot = dict(self.state.resources)
        owned = {e.cloud_id for a, e in snapshot.items() if a.kind == "cluster"}
        found = [
            c.cluster_uuid
            for c in self.client.list_clusters()
            if c.cluster_name == name
            and c.status not in cluster_kind.GONE_STATUSES
            and c.cluster_uuid not in owned
        ]
        if len(found) > 1:
            raise ConflictError(
                f"cluster {name}: the create's answer was lost and {len(found)} unmanaged clusters "
                f"have that name ({', '.join(found)}); import the right one, nothing was resent"
            )
        return found[0] if found else None

    def _delete_cluster(self, cloud_id: str, address: Address) -> None:
        for _ in range(self.options.busy_retries):
            try:
                self.client.delete_cluster(cloud_id, delete_eip_cds=True, delete_snap=True)
                break
            except BusyError:
                self._wait_status(
                    address,
                    cloud_id,
                    waiters.Waiter(
                        "waiting for a busy cluster",
                        {
                            "RUNNING": waiters.SUCCESS,
                            "CREATE_FAILED": waiters.SUCCESS,
                            "ERROR": waiters.SUCCESS,
                            "DELETED": waiters.SUCCESS,
                            waiters.GONE: waiters.SUCCESS,
                        },
                    ),
                )
        self._wait_status(address, cloud_id, waiters.CLUSTER_DELETED)

    def _update_cluster(self, change: Change) -> None:
        entry = self._state_entry(change)
        intent = self._intent(change, "update", None, entry.cloud_id)
        after = change.after or {}
        if "scale_up" in change.details:
            order = {
                "items": [
                    {
                        "config": bcc_config(
                            after, int(change.details["scale_up"]), self._admin(change)
                        )
                    }
                ]
            }
            self._scale(change, entry.cloud_id, lambda: self.client.scale_up(entry.cloud_id, order))
        elif "scale_down" in change.details:
            nodes = list(change.details["scale_down"])
            self._scale(
                change, entry.cloud_id, lambda: self.client.scale_down(entry.cloud_id, nodes)
            )
        self._done(intent, change.address, self._entry(change, entry.cloud_id, entry.ownership))

    def _scale(self, change: Change, cloud_id: str, send: Callable[[], object]) -> None:
        """Scale, then wait; a lost answer is settled by counting the nodes, never by a resend."""
        want = int((change.after or {}).get("workers", {}).get("count", 0))
        try:
            send()
        except OutcomeUnknownError:
            have = len(
                [
                    n
                    for n in self.client.list_nodes(cloud_id)
                    if n.status not in cluster_kind.GONE_STATUSES
                ]
            )
            if have != want:
                raise
        self._wait(change, cloud_id, waiters.CLUSTER_SCALED)

    def _admin(self, change: Change) -> str | None:
        return (
            self.secrets(change, "workers.adminPassword")
            if "workers.adminPassword" in change.secrets
            else None
        )

    def _wait(self, change: Change, cloud_id: str, waiter: waiters.Waiter) -> None:
        self._wait_status(change.address, cloud_id, waiter)

    def _wait_status(self, address: Address, cloud_id: str, waiter: waiters.Waiter) -> None:
        timeout = self.options.timeouts.get(address.kind, waiter.timeout)
        configured = waiters.Waiter(
            waiter.name,
            waiter.table,
            self.options.poll_interval,
            timeout,
            self.options.progress_every,
        )

        def status() -> str:
            try:
                return self.client.get_cluster(cloud_id).status
            except NotFoundError:
                return waiters.GONE

        configured.wait(status, lambda msg: self.progress(f"{address}: {msg}"), sleep=self.sleep)

    # --- shared ----------------------------------------------------------------------------

    def _state_entry(self, change: Change) -> ResourceState:
        entry = self.state.resources.get(change.address)
        if entry is None:
            raise ReconcilerError(f"{change.address} is not in state any more; plan again")
        return entry

    def _state_only_update(self, change: Change) -> None:
        entry = self._state_entry(change)
        intent = self._intent(change, "update", None, entry.cloud_id)
        self._done(intent, change.address, self._entry(change, entry.cloud_id, entry.ownership))

    def _unknown_then_read(self, send: Callable[[], object], change: Change, cloud_id: str) -> None:
        """Send a create; if its answer is lost, read before resending (never a blind resend)."""
        try:
            send()
        except OutcomeUnknownError:
            if read_one(self.client, change.address, cloud_id) is None:
                send()

    def _adopt_if_same(self, change: Change, entry: ResourceState) -> ResourceState:
        live: LiveObject | None = read_one(self.client, change.address, entry.cloud_id)
        want = change.after or {}
        if live is not None and all(live.attrs.get(k) == v for k, v in want.items()):
            return entry.evolve(ownership=ADOPTED)
        raise ConflictError(
            f"{change.address} already exists in the cloud with different settings; import it or change the config"
        )


def _natural_id(change: Change) -> str:
    """The cloud id of kinds whose id is their name; clusters get theirs from the API."""
    after = change.after or {}
    if change.address.kind == "repository":
        return f"{after['namespace']}/{after['name']}"
    if change.address.kind == "cluster":
        return ""
    return change.address.name


def bcc_config(attrs: Mapping[str, Any], count: int, admin_password: str | None) -> dict[str, Any]:
    w = attrs.get("workers", {})
    config: dict[str, Any] = {
        "productType": w.get("productType", "postpay"),
        "logicalZone": w.get("logicalZone", attrs.get("mainAvailableZone")),
        "instanceType": w.get("instanceType"),
        "gpuCount": 0,
        "cpu": w.get("cpu"),
        "memory": w.get("memory"),
        "imageType": w.get("imageType", "common"),
        "subnetUuid": w.get("subnetUuid"),
        "securityGroupId": w.get("securityGroupId"),
        "purchaseNum": count,
        "imageId": w.get("imageId"),
        "serviceType": "BCC",
    }
    if "rootDiskSizeInGb" in w:
        config["rootDiskSizeInGb"] = w["rootDiskSizeInGb"]
    if "rootDiskStorageType" in w:
        config["rootDiskStorageType"] = w["rootDiskStorageType"]
    if admin_password:
        config["adminPass"] = admin_password
    return config


def cluster_body(attrs: Mapping[str, Any], admin_password: str | None) -> dict[str, Any]:
    count = int(attrs.get("workers", {}).get("count", 0))
    body: dict[str, Any] = {
        "clusterName": attrs["name"],
        "version": attrs["version"],
        "mainAvailableZone": attrs["mainAvailableZone"],
        "containerNet": attrs["containerNet"],
        "deployMode": attrs.get("deployMode", "BCC"),
        "orderContent": {
            "items": [{"config": bcc_config(attrs, count, admin_password)}] if count else []
        },
    }
    if attrs.get("comment") is not None:
        body["comment"] = attrs["comment"]
    if attrs.get("advancedOptions"):
        body["advancedOptions"] = dict(attrs["advancedOptions"])
    return body


@dataclass
class ApplyResult:
    results: dict[Address, NodeResult]

    def by_status(self, status: str) -> list[NodeResult]:
        return [r for _, r in sorted(self.results.items()) if r.status == status]

    @property
    def failed(self) -> bool:
        return any(r.status != DONE for r in self.results.values())


def execute(
    plan: Plan, operations: Operations, parallelism: int, progress: Progress
) -> ApplyResult:
    def run(change: Change) -> None:
        start = time.monotonic()
        progress(f"{change.address}: {_ING[change.action]}...")
        operations.run(change)
        progress(f"{change.address}: {_ED[change.action]} after {time.monotonic() - start:.1f}s")

    results = Walker(plan.actionable, run, parallelism, on_interrupt=operations.cancel).walk()
    for result in results.values():
        if result.status == FAILED:
            progress(f"{result.change.address}: failed: {describe_error(result.error)}")
    return ApplyResult(results)


_ING = {
    Action.CREATE: "creating",
    Action.UPDATE: "updating",
    Action.REPLACE: "replacing",
    Action.DELETE: "deleting",
    Action.FORGET: "forgetting",
}
_ED = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.REPLACE: "replaced",
    Action.DELETE: "deleted",
    Action.FORGET: "forgotten",
}


def describe_error(error: BaseException | None) -> str:
    if isinstance(error, ApiError):
        return str(error)
    return str(error) if error else "unknown error"


def summary_lines(result: ApplyResult) -> list[str]:
    done = result.by_status(DONE)
    counts = {a: sum(1 for r in done if r.change.action is a) for a in _ED}
    lines = [
        "Apply complete: "
        + ", ".join(
            f"{counts[a]} {_ED[a]}"
            for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.FORGET)
        )
        + f", {len(result.by_status(FAILED))} failed, {len(result.by_status(SKIPPED))} skipped."
    ]
    for r in result.by_status(FAILED):
        lines.append(f"  failed:  {r.change.address}: {describe_error(r.error)}")
    for r in result.by_status(SKIPPED):
        lines.append(f"  skipped: {r.change.address} (depends on {r.blocked_by}, which failed)")
    return lines
