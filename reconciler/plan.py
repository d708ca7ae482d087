"""plan(desired, state, live) -> Plan: one action with a reason for every address. Pure.

Inputs are values: the desired state from the config, the state (what this tool manages) and
the live state from a refresh, plus resolved secrets (to compare with the hashes in state).
Nothing here reads files, the environment or the network. ``apply`` executes exactly the
``Change`` objects of a plan; ``reason`` and ``fields`` only explain them to a person.

Invariants: ``before is None`` iff the action is create; ``after is None`` iff the action is
delete or forget; objects not in state are never deleted or modified (a live object with a
declared name that is not in state is a conflict, resolved with ``reconciler import``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.diff import FieldChange, field_changes, project
from reconciler.gcpause import paused_gc
from reconciler.kinds import cluster as cluster_kind
from reconciler.kinds import namespace as namespace_kind
from reconciler.kinds import repository as repository_kind
from reconciler.kinds import user as user_kind
from reconciler.kinds.base import LiveObject
from reconciler.model import (
    KINDS,
    Action,
    Address,
    ClusterSpec,
    DesiredState,
    NamespaceSpec,
    RepositorySpec,
    Resource,
    SecretRef,
    UserSpec,
)
from reconciler.state import ResourceState, State, secret_matches

FORMAT_VERSION = 1
SENSITIVE_TEXT = "(sensitive)"
# json.dumps(value, sort_keys=True, separators=(",", ":"), default=str), without building an
# encoder per call: a plan fingerprints every live object it reads.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class LiveState:
    """Live objects by address (for managed ids) and candidates by name (for conflicts)."""

    by_id: Mapping[tuple[str, str], LiveObject] = field(default_factory=dict)
    by_name: Mapping[Address, tuple[LiveObject, ...]] = field(default_factory=dict)

    def lookup(self, kind: str, cloud_id: str) -> LiveObject | None:
        return self.by_id.get((kind, cloud_id))


@dataclass(frozen=True)
class Change:
    address: Address
    action: Action
    reason: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    fields: tuple[FieldChange, ...] = ()
    cloud_id: str | None = None
    protected: bool = False
    refused: str | None = None
    depends_on: tuple[Address, ...] = ()
    secrets: Mapping[str, SecretRef] = field(default_factory=dict)
    live_fingerprint: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conflict:
    address: Address
    message: str


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    conflicts: tuple[Conflict, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def actionable(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.NOOP]

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    @property
    def refused(self) -> list[Change]:
        return [c for c in self.changes if c.refused]


def fingerprint(value: Any) -> str:
    text = _CANONICAL.encode(value)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def live_fingerprint(live: LiveObject | None) -> str:
    if live is None:
        return "absent"
    return fingerprint({"attrs": live.attrs, "status": live.status, "details": live.details})


def desired_attrs(spec: Resource) -> dict[str, Any]:
    if isinstance(spec, UserSpec):
        return user_kind.desired_attrs(spec)
    if isinstance(spec, NamespaceSpec):
        return namespace_kind.desired_attrs(spec)
    if isinstance(spec, RepositorySpec):
        return repository_kind.desired_attrs(spec)
    return cluster_kind.desired_attrs(spec)


def secret_refs(spec: Resource) -> dict[str, SecretRef]:
    if isinstance(spec, UserSpec):
        return user_kind.secret_refs(spec)
    if isinstance(spec, ClusterSpec):
        return cluster_kind.secret_refs(spec)
    return {}


def replace_fields(kind: str) -> frozenset[str]:
    return {
        "user": user_kind.REPLACE_FIELDS,
        "namespace": namespace_kind.REPLACE_FIELDS,
        "repository": repository_kind.REPLACE_FIELDS,
        "cluster": cluster_kind.REPLACE_FIELDS,
    }[kind]


def _forces_replacement(kind: str, path: str) -> bool:
    forced = replace_fields(kind)
    return any(path == f or path.startswith(f + ".") for f in forced)


def dependencies(
    spec: Resource, desired: DesiredState, users: tuple[Address, ...] | None = None
) -> tuple[Address, ...]:
    """What ``spec`` waits for; ``users`` (the declared user, if any) saves a scan of ``desired``."""
    if isinstance(spec, NamespaceSpec):
        return first_user(desired) if users is None else users
    if isinstance(spec, RepositorySpec):
        return tuple(repository_kind.dependencies(spec))
    return ()


def first_user(desired: DesiredState) -> tuple[Address, ...]:
    return next(((a,) for a in desired.resources if a.kind == "user"), ())


def address_order(address: Address) -> tuple[int, str]:
    """Dependency order for display: users, namespaces, repositories, clusters."""
    return (KINDS.index(address.kind), address.name)


class Planner:
    """Holds the inputs of one plan; ``run`` is the pure function."""

    def __init__(
        self,
        desired: DesiredState,
        state: State,
        live: LiveState,
        secret_values: Mapping[tuple[Address, str], str],
        allow_replace: Iterable[Address] = (),
    ) -> None:
        self.desired = desired
        self.state = state
        self.live = live
        self.secret_values = secret_values
        self.allow_replace = frozenset(allow_replace)
        self.users = first_user(desired)
        self.conflicts: list[Conflict] = []
        self.warnings: list[str] = []

    def run(self, targets: Iterable[Address] = ()) -> Plan:
        addresses = sorted(
            set(self.desired.resources) | set(self.state.resources), key=address_order
        )
        changes = {a: self._change(a) for a in addresses}
        changes = self._cascade_namespace_replacements(changes)
        changes = self._guard_namespace_removals(changes)
        chosen = self._targeted(changes, frozenset(targets))
        ordered = tuple(changes[a] for a in addresses if a in chosen)
        conflicts = tuple(c for c in self.conflicts if c.address in chosen)
        return Plan(ordered, conflicts, tuple(self.warnings))

    # --- one address ----------------------------------------------------------------------

    def _live_for(self, address: Address, entry: ResourceState | None) -> LiveObject | None:
        if entry is None:
            return None
        live = self.live.lookup(address.kind, entry.cloud_id)
        if live is not None and live.status in cluster_kind.GONE_STATUSES:
            return None  # a deleted cluster stays listed as DELETED: for planning it is gone
        return live

    def _change(self, address: Address) -> Change:
        spec = self.desired.resources.get(address)
        entry = self.state.resources.get(address)
        live = self._live_for(address, entry)
        if spec is None:
            assert entry is not None
            return self._removed(address, entry, live)
        if entry is None:
            return self._new(address, spec)
        if live is None:
            change = self._new(address, spec, entry)
            return _evolve(
                change,
                reason="in state but missing from the cloud (deleted outside the reconciler): it will be created again",
            )
        return self._existing(address, spec, entry, live)

    def _protected(self, spec: Resource | None, entry: ResourceState | None) -> bool:
        declared = spec.lifecycle.protect if spec is not None else None
        if declared is not None:
            return declared
        return bool(entry and entry.protect)

    def _new(self, address: Address, spec: Resource, entry: ResourceState | None = None) -> Change:
        taken = [
            o
            for o in self.live.by_name.get(address, ())
            if o.status not in cluster_kind.GONE_STATUSES
        ]
        if taken:
            ids = ", ".join(o.cloud_id for o in taken)
            self.conflicts.append(
                Conflict(
                    address,
                    f"{address} already exists in the cloud ({ids}) but is not managed by this state; "
                    f"adopt it with: reconciler import {address} {taken[0].cloud_id}",
                )
            )
        return Change(
            address,
            Action.CREATE,
            "declared, not in the cloud",
            before=None,
            after=desired_attrs(spec),
            protected=self._protected(spec, entry),
            depends_on=dependencies(spec, self.desired, self.users),
            secrets=secret_refs(spec),
            live_fingerprint="absent",
        )

    def _removed(self, address: Address, entry: ResourceState, live: LiveObject | None) -> Change:
        before = dict(live.attrs) if live else dict(entry.applied)
        common: dict[str, Any] = {
            "before": before,
            "after": None,
            "cloud_id": entry.cloud_id,
            "live_fingerprint": live_fingerprint(live),
        }
        if address.kind == "user":
            self.warnings.append(
                f"{address} is no longer declared; the v1 API cannot delete a registry user, so it is only forgotten"
            )
            return Change(
                address,
                Action.FORGET,
                "no longer declared; registry users cannot be deleted",
                **common,
            )
        if live is None:
            return Change(
                address,
                Action.FORGET,
                "no longer declared and already gone from the cloud",
                **common,
            )
        protected = self._protected(None, entry)
        refused = "protected by lifecycle.protect (kept in state)" if protected else None
        return Change(
            address,
            Action.DELETE,
            "no longer declared",
            protected=protected,
            refused=refused,
            **common,
        )

    def _secret_fields(
        self, address: Address, spec: Resource, entry: ResourceState
    ) -> list[FieldChange]:
        changes = []
        for name in secret_refs(spec):
            value = self.secret_values.get((address, name))
            if value is None or secret_matches(value, entry.secret_hashes.get(name)):
                continue
            if address.kind == "cluster":
                continue  # a worker admin password only applies to nodes created from now on
            changes.append(FieldChange(name, SENSITIVE_TEXT, SENSITIVE_TEXT, sensitive=True))
        return changes

    def _existing(
        self, address: Address, spec: Resource, entry: ResourceState, live: LiveObject
    ) -> Change:
        after = desired_attrs(spec)
        projected = project(after, live.attrs, entry.applied)
        fields = field_changes(after, projected) + self._secret_fields(address, spec, entry)
        protected = self._protected(spec, entry)
        common: dict[str, Any] = {
            "before": dict(live.attrs),
            "after": after,
            "cloud_id": entry.cloud_id,
            "protected": protected,
            "depends_on": dependencies(spec, self.desired, self.users),
            "secrets": secret_refs(spec),
            "live_fingerprint": live_fingerprint(live),
        }
        # only a cluster that never came up is replaced without --replace; one that worked and
        # is now in ERROR may hold workloads, so replacing it must be asked for
        failed_create = entry.tainted or live.status == "CREATE_FAILED"
        broken = failed_create or live.status in cluster_kind.BROKEN_STATUSES
        forcing = [f.path for f in fields if _forces_replacement(address.kind, f.path)]
        if broken or forcing:
            if failed_create:
                reason = f"tainted: status {live.status or 'unknown'} (failed to create); it will be replaced"
            elif broken:
                reason = f"status {live.status}: it can only be replaced"
            else:
                reason = f"{', '.join(forcing)} cannot be changed in place by the v1 API"
            refused = self._replace_refusal(address, protected, needs_flag=not failed_create)
            return Change(
                address,
                Action.REPLACE,
                reason,
                fields=tuple(fields),
                refused=refused,
                details={"forces": forcing},
                **common,
            )
        if protected != entry.protect:
            fields.append(FieldChange("lifecycle.protect", entry.protect, protected))
        if not fields:
            return Change(address, Action.NOOP, "up to date", **common)
        details = self._scale_details(fields, live) if address.kind == "cluster" else {}
        return Change(
            address,
            Action.UPDATE,
            _update_reason(fields),
            fields=tuple(fields),
            details=details,
            **common,
        )

    def _replace_refusal(self, address: Address, protected: bool, needs_flag: bool) -> str | None:
        if protected:
            return "protected by lifecycle.protect: it cannot be replaced"
        if needs_flag and address not in self.allow_replace:
            return f"replacement must be allowed with --replace {address}"
        return None

    def _scale_details(self, fields: list[FieldChange], live: LiveObject) -> dict[str, Any]:
        count = next((f for f in fields if f.path == cluster_kind.SCALE_FIELD), None)
        if count is None:
            return {}
        before, after = int(count.before), int(count.after)
        if after >= before:
            return {"scale_up": after - before}
        nodes = sorted(
            (
                n
                for n in live.details.get("nodes", [])
                if n.get("status") not in cluster_kind.GONE_STATUSES
            ),
            key=lambda n: (n.get("createTime", ""), n.get("id", "")),
            reverse=True,
        )
        return {"scale_down": [n["id"] for n in nodes[: before - after]]}

    # --- whole-plan rules -----------------------------------------------------------------

    def _cascade_namespace_replacements(
        self, changes: dict[Address, Change]
    ) -> dict[Address, Change]:
        replaced = {
            a.name: c
            for a, c in changes.items()
            if a.kind == "namespace" and c.action is Action.REPLACE
        }
        if not replaced:
            return changes
        out = dict(changes)
        for address, change in changes.items():
            ns = repository_kind.namespace_of(address) if address.kind == "repository" else None
            if ns in replaced and change.action in (Action.NOOP, Action.UPDATE):
                parent = replaced[ns]
                refused = (
                    "protected by lifecycle.protect: it cannot be replaced"
                    if change.protected
                    else parent.refused
                )
                out[address] = _evolve(
                    change,
                    action=Action.REPLACE,
                    reason=f"namespace.{ns} is replaced and takes its repositories with it",
                    refused=refused,
                )
        return out

    def _guard_namespace_removals(self, changes: dict[Address, Change]) -> dict[Address, Change]:
        """Deleting or replacing a namespace deletes every repository in it: refuse when one of
        them is protected, and report a conflict for repositories this state does not manage."""
        leaving = {
            a.name: c
            for a, c in changes.items()
            if a.kind == "namespace" and c.action in (Action.DELETE, Action.REPLACE)
        }
        if not leaving:
            return changes
        out = dict(changes)
        live_repos: dict[str, list[str]] = {}
        for kind, cloud_id in self.live.by_id:
            if kind == "repository":
                live_repos.setdefault(cloud_id.split("/", 1)[0], []).append(cloud_id)
        managed = {e.cloud_id for a, e in self.state.resources.items() if a.kind == "repository"}
        for ns, change in leaving.items():
            protected = [
                str(a)
                for a in self._repositories_in(ns, changes)
                if changes[a].protected and changes[a].action is not Action.NOOP
            ]
            if protected and not change.refused:
                out[change.address] = _evolve(
                    change, refused=f"it would take protected {', '.join(protected)} with it"
                )
            unmanaged = sorted(r for r in live_repos.get(ns, []) if r not in managed)
            if unmanaged:
                verb = "deleting" if change.action is Action.DELETE else "replacing"
                self.conflicts.append(
                    Conflict(
                        change.address,
                        f"{verb} {change.address} would delete repositories this state does not "
                        f"manage: {', '.join(unmanaged)}; import them or remove them first",
                    )
                )
        return out

    def _targeted(
        self, changes: dict[Address, Change], targets: frozenset[Address]
    ) -> set[Address]:
        if not targets:
            return set(changes)
        chosen: set[Address] = set()
        stack = [a for a in targets if a in changes]
        while stack:
            address = stack.pop()
            if address in chosen:
                continue
            chosen.add(address)
            stack.extend(d for d in changes[address].depends_on if d in changes)
            if address.kind == "namespace" and changes[address].action in (
                Action.DELETE,
                Action.REPLACE,
            ):
                stack.extend(self._repositories_in(address.name, changes))
        return chosen

    def _repositories_in(self, namespace: str, changes: Mapping[Address, Change]) -> list[Address]:
        return [
            a
            for a in changes
            if a.kind == "repository" and repository_kind.namespace_of(a) == namespace
        ]


def _update_reason(fields: list[FieldChange]) -> str:
    return "changed: " + ", ".join(f.path for f in fields)


def _evolve(change: Change, **updates: Any) -> Change:
    return replace(change, **updates)


def make_plan(
    desired: DesiredState,
    state: State,
    live: LiveState,
    secret_values: Mapping[tuple[Address, str], str] | None = None,
    targets: Iterable[Address] = (),
    allow_replace: Iterable[Address] = (),
) -> Plan:
    with paused_gc():
        return Planner(desired, state, live, secret_values or {}, allow_replace).run(targets)
