"""plan(desired, state, live) -> Plan: one action with a reason for every address. Pure.

Inputs are values: the desired state from the config, the state (what this tool manages) and
the live state from a refresh, plus resolved secrets (to compare with the hashes in state).
Nothing here reads files, the environment or the network, and nothing here knows a kind: what
differs between kinds is asked of the kind (``reconciler.kinds``). The plan types are in
``reconciler.plan``.

Invariants: objects not in state are never deleted or modified (a live object with a declared
name that is not in state is a conflict, resolved with ``reconciler import``); deleting or
replacing a container (a namespace) takes its contents (repositories) with it, so they are
planned, guarded and targeted together.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Container, Iterable, Mapping
from dataclasses import replace
from operator import itemgetter
from typing import Any

from reconciler.diff import FieldChange, field_changes, project
from reconciler.gcpause import paused_gc
from reconciler.kinds import address_order, is_gone, kind_named, kind_of
from reconciler.kinds.base import BROKEN, FAILED_CREATE, Kind, LiveObject, PlanView
from reconciler.model import Action, Address, DesiredState, PlanMode, Spec
from reconciler.plan import (
    DELETED_OUTSIDE,
    SENSITIVE_TEXT,
    Change,
    Conflict,
    LiveFingerprintLater,
    LiveState,
    Plan,
    live_fingerprint,
    up_to_date,
)
from reconciler.state import ResourceState, State, secret_matches

PROTECTED_REPLACE = (
    "protected by lifecycle.protect: it cannot be replaced (undo the change that forces the "
    "replacement, or remove lifecycle.protect to allow it)"
)

PROTECTED_REMOVAL = "protected by lifecycle.protect (kept in state)"


class Planner:
    """Holds the inputs of one plan; ``run`` is the pure function."""

    def __init__(
        self,
        desired: DesiredState,
        state: State,
        live: LiveState,
        secret_values: Mapping[tuple[Address, str], str],
        allow_replace: Iterable[Address] = (),
        mode: PlanMode = PlanMode.NORMAL,
        adopt: bool = False,
    ) -> None:
        self.adopt = adopt
        self.desired = desired
        self.removal = "destroy" if mode is PlanMode.DESTROY else "no longer declared"
        self.state = state
        self.live = live
        self.secret_values = secret_values
        self.allow_replace = frozenset(allow_replace)
        self.conflicts: list[Conflict] = []
        self.warnings: list[str] = []
        self.changes: dict[Address, Change] = {}  # each address's own change, before the rules

    def run(self, targets: Iterable[Address] = ()) -> Plan:
        planned = self._in_order()
        changes = {a: self._checked(self._change(a, spec, entry)) for _, a, spec, entry in planned}
        self.changes = changes
        changes = self._cascade_container_replacements(changes)
        changes = self._guard_container_removals(changes)
        changes = self._flag_renames(changes)
        chosen: Container[Address] = changes
        if targets:
            chosen = self._targeted(changes, frozenset(targets))
            ordered = tuple(changes[a] for _, a, _, _ in planned if a in chosen)
        else:
            ordered = tuple(changes[a] for _, a, _, _ in planned)
        conflicts = tuple(c for c in self.conflicts if c.address in chosen)
        return Plan(ordered, conflicts, tuple(self.warnings))

    def _in_order(self) -> list[tuple[str, Address, Spec | None, ResourceState | None]]:
        """(name, address, spec, state entry) of every address declared or in state, in
        ``address_order`` (the registry's order of kinds, then the name), each looked up once."""
        declared, managed = self.desired.resources, self.state.resources
        by_kind: dict[str, list[tuple[str, Address, Spec | None, ResourceState | None]]] = {}
        for address, spec in declared.items():
            group = by_kind.setdefault(address.kind, [])
            group.append((address.name, address, spec, managed.get(address)))
        for address, entry in managed.items():
            if address not in declared:
                group = by_kind.setdefault(address.kind, [])
                group.append((address.name, address, None, entry))
        planned = []
        for kind in sorted(by_kind, key=lambda k: address_order(Address(k, ""))):
            planned += sorted(by_kind[kind], key=itemgetter(0))
        return planned

    # --- one address ----------------------------------------------------------------------

    @functools.cached_property
    def view(self) -> PlanView:
        """What kinds' refusals look at; built only when a change needs checking."""
        objects: dict[str, list[LiveObject]] = {}
        for obj in self.live.by_id.values():
            if not is_gone(obj):
                objects.setdefault(obj.address.kind, []).append(obj)
        managed = {a: e.cloud_id for a, e in self.state.resources.items()}
        return PlanView(self.desired, objects, managed, self.secret_values, self.live.facts)

    def _checked(self, change: Change) -> Change:
        """Refuse now what the API would reject at apply (``Kind.refusal``)."""
        if change.refused or change.action not in (Action.CREATE, Action.UPDATE, Action.REPLACE):
            return change
        spec = self.desired.resources.get(change.address)
        reason = kind_of(spec).refusal(spec, self.view) if spec is not None else None
        return replace(change, refused=reason) if reason else change

    def _live_for(self, address: Address, entry: ResourceState | None) -> LiveObject | None:
        if entry is None:
            return None
        live = self.live.lookup(address.kind, entry.cloud_id)
        return None if is_gone(live) else live  # e.g. a cluster listed as DELETED

    def _change(self, address: Address, spec: Spec | None, entry: ResourceState | None) -> Change:
        live = self._live_for(address, entry)
        if spec is None:
            assert entry is not None
            return self._removed(address, entry, live)
        if entry is None:
            return self._new(address, spec)
        if live is None:
            change = self._new(address, spec, entry)
            return replace(
                change,
                reason="in state but missing from the cloud (deleted outside the reconciler): it will be created again",
                drift=(DELETED_OUTSIDE,),
            )
        self._flag_twins(address, live)
        return self._existing(address, spec, entry, live)

    def _flag_twins(self, address: Address, live: LiveObject) -> None:
        """Two live objects answering to one managed address (a second one created outside,
        or by a run that took an empty list for "nothing there") are a conflict: which one the
        configuration means is not this tool's guess."""
        twice = self._named_twice
        if not twice or address not in twice:
            return  # the common case
        named = self.live.by_name[address]
        kind = kind_named(address.kind)
        twins = sorted(
            o.cloud_id
            for o in named
            if o.cloud_id != live.cloud_id
            and (address.kind, o.cloud_id) not in self._managed_ids
            and not kind.is_gone(o)
        )
        if twins:
            self.conflicts.append(
                Conflict(
                    address,
                    f"{address} is {live.cloud_id} in state, but {', '.join(twins)} also "
                    f"answer{'s' if len(twins) == 1 else ''} to it in the cloud, unmanaged; "
                    "delete or rename the extra one outside the reconciler",
                    twins[0],
                )
            )

    @functools.cached_property
    def _named_twice(self) -> frozenset[Address]:
        """The addresses two or more live objects answer to (usually none)."""
        return frozenset(a for a, named in self.live.by_name.items() if len(named) > 1)

    def _protected(self, spec: Spec | None, entry: ResourceState | None) -> bool:
        declared = spec.lifecycle.protect if spec is not None else None
        if declared is not None:
            return declared
        return bool(entry and entry.protect)

    def _dependencies(self, spec: Spec) -> tuple[Address, ...]:
        return kind_of(spec).dependencies(spec, self.desired)

    def _new(self, address: Address, spec: Spec, entry: ResourceState | None = None) -> Change:
        kind = kind_of(spec)
        imported = self.desired.imports.get(address) if entry is None else None
        if imported is not None:
            live = self._import_target(address, kind, imported)
            if live is not None:
                return self._adopted(address, spec, live, imported=True)
            # refused: the import's conflict
            return self._created(address, spec, entry, "declared; see the conflict of its import")
        taken = [o for o in self.live.by_name.get(address, ()) if not kind.is_gone(o)]
        once_ours = self.state.forgotten.get(address)
        if (
            taken
            and len(taken) == 1
            and entry is None
            and (self.adopt or kind.adopts_on_sight or taken[0].cloud_id == once_ours)
        ):
            return self._adopted(address, spec, taken[0], once_ours is not None)
        if taken:
            ids = ", ".join(o.cloud_id for o in taken)
            command = f"reconciler import {address} {taken[0].cloud_id}"
            self.conflicts.append(
                Conflict(
                    address,
                    f"{address} already exists in the cloud ({ids}) but is not managed by this state; "
                    f"adopt it with: {command}",
                    taken[0].cloud_id,
                    command,
                )
            )
            # one story per address: with a live object of that name it is a conflict, not absent
            unmanaged = (
                "declared; an object of this name exists in the cloud unmanaged (see the conflict)"
            )
            return self._created(address, spec, entry, unmanaged)
        return self._created(address, spec, entry)

    def _created(
        self,
        address: Address,
        spec: Spec,
        entry: ResourceState | None,
        reason: str = "declared, not in the cloud",
    ) -> Change:
        kind = kind_of(spec)
        return Change(
            address,
            Action.CREATE,
            reason,
            before=None,
            after=kind.desired_attrs(spec),
            protected=self._protected(spec, entry),
            depends_on=self._dependencies(spec),
            secrets=kind.secret_refs(spec),
            live_fingerprint="absent",
        )

    @functools.cached_property
    def _managed_ids(self) -> dict[tuple[str, str], Address]:
        """(kind, cloud id) -> the address this state manages it as (for imports, and for a
        second live object answering to a managed address)."""
        return {(a.kind, e.cloud_id): a for a, e in self.state.resources.items()}

    def _import_target(self, address: Address, kind: Kind, cloud_id: str) -> LiveObject | None:
        """The live object an ``imports`` entry names, or None with a conflict saying why not:
        it must exist, be what the address names (the cloud's name wins) and be unmanaged."""
        live = self.live.lookup(address.kind, cloud_id)
        managed = self._managed_ids.get((address.kind, cloud_id))
        if live is None or kind.is_gone(live):
            problem = f"no {address.kind} with id {cloud_id} exists in the cloud"
        elif live.address != address:
            problem = (
                f"{cloud_id} is {live.address} in the cloud; declare it under that name "
                "(the cloud's name wins)"
            )
        elif managed is not None:
            problem = f"{cloud_id} is already managed by this state as {managed}"
        else:
            return live
        self.conflicts.append(Conflict(address, f"{address}: cannot import: {problem}", cloud_id))
        return None

    def _adopted(
        self,
        address: Address,
        spec: Spec,
        live: LiveObject,
        once_ours: bool = False,
        imported: bool = False,
    ) -> Change:
        """``--adopt``, an ``imports`` entry, a kind adopted on sight (the API cannot create
        it), or an object this state forgot while it lived on (a registry user after destroy):
        take it into state as it is; the fields show what the next apply will change (this
        one, for a kind adopted on sight)."""
        kind = kind_of(spec)
        after = kind.desired_attrs(spec)
        fields = field_changes(after, project(after, live.attrs, {}))
        if kind.secret_refs(spec):
            self.warnings.append(
                f"{address}: the API cannot show its "
                f"{', '.join(kind.secret_refs(spec))}; adopting records the declared one as current"
            )
        if once_ours:
            reason = "managed by this state before and forgotten (the API cannot delete it): adopted back"
        elif imported:
            reason = f"imports names id {live.cloud_id}: it will be adopted as it is"
        else:
            reason = "exists in the cloud, not managed: it will be adopted"
        if fields and kind.adopts_on_sight:
            reason += " and changed: " + ", ".join(f.path for f in fields)
        elif fields and imported:
            reason += (
                "; the cloud differs from the configuration in "
                + ", ".join(f.path for f in fields)
                + ": adopting keeps the cloud's values, the next apply would change them"
            )
            self.warnings.append(_keep_the_cloud(address, fields))
        elif fields:
            reason += "; the next apply changes " + ", ".join(f.path for f in fields)
        return Change(
            address,
            Action.IMPORT,
            reason,
            before=dict(live.attrs),
            after=after,
            fields=tuple(fields),
            cloud_id=live.cloud_id,
            protected=self._protected(spec, None),
            depends_on=self._dependencies(spec),
            secrets=kind.secret_refs(spec),
            live_fingerprint=live_fingerprint(live),
        )

    def _removed(self, address: Address, entry: ResourceState, live: LiveObject | None) -> Change:
        before = dict(live.attrs) if live else dict(entry.applied)
        common: dict[str, Any] = {
            "before": before,
            "after": None,
            "cloud_id": entry.cloud_id,
            "live_fingerprint": live_fingerprint(live),
        }
        kind = kind_named(address.kind)
        protected = self._protected(None, entry)
        refused = PROTECTED_REMOVAL if protected else None
        if not kind.deletable and protected and live is not None:
            return Change(  # forgetting would drop it from state: refused like a delete
                address,
                Action.FORGET,
                f"{self.removal}; {kind.noun}s cannot be deleted",
                protected=True,
                refused=refused,
                **common,
            )
        if not kind.deletable:
            cannot = f"{kind.api_name} cannot delete a {kind.noun}"
            self.warnings.append(
                f"{address}: {cannot}; destroy only forgets it"
                if self.removal == "destroy"
                else f"{address} is no longer declared; {cannot}, so it is only forgotten"
            )
            return Change(
                address,
                Action.FORGET,
                f"{self.removal}; {kind.noun}s cannot be deleted",
                **common,
            )
        if live is None:
            return Change(
                address,
                Action.FORGET,
                f"{self.removal}; already gone from the cloud",
                **common,
            )
        refused = refused or kind.delete_refusal(live)
        return Change(
            address,
            Action.DELETE,
            self.removal,
            protected=protected,
            refused=refused,
            **common,
        )

    def _rotated_secrets(self, address: Address, spec: Spec, entry: ResourceState) -> list[str]:
        """Rotatable secrets whose value no longer matches the hash in state."""
        kind = kind_of(spec)
        rotated = []
        for name in kind.secret_refs(spec):
            value = self.secret_values.get((address, name))
            if name not in kind.rotatable_secrets or value is None:
                continue
            if not secret_matches(value, entry.secret_hashes.get(name)):
                rotated.append(name)
        return rotated

    def _existing(
        self, address: Address, spec: Spec, entry: ResourceState, live: LiveObject
    ) -> Change:
        kind = kind_of(spec)
        after = kind.desired_attrs(spec)
        applied = entry.applied
        # in sync (live as declared, and as applied): the projection is what is declared
        in_sync = live.attrs == after and (not applied or applied == after)
        projected = after if in_sync else project(after, live.attrs, applied)
        if not in_sync:  # in sync, every applied field is still declared
            self._warn_unmanaged(address, kind, after, entry)
        health = kind.health(live)
        failed_create = entry.tainted or health == FAILED_CREATE
        broken = failed_create or health == BROKEN
        # a broken object's differences are its failure, not someone's change
        drift = () if broken or in_sync else _drift(after, projected, entry)
        fields = [] if in_sync else field_changes(after, projected)
        rotated = self._rotated_secrets(address, spec, entry)
        fields += [
            FieldChange(name, SENSITIVE_TEXT, SENSITIVE_TEXT, sensitive=True) for name in rotated
        ]
        protected = self._protected(spec, entry)
        if not (broken or fields or drift) and protected == entry.protect and kind.is_ready(live):
            return up_to_date(
                address,
                dict(live.attrs),
                after,
                entry.cloud_id,
                protected,
                self._dependencies(spec),
                kind.secret_refs(spec),
                live,
            )
        common: dict[str, Any] = {
            "before": dict(live.attrs),
            "after": after,
            "cloud_id": entry.cloud_id,
            "protected": protected,
            "depends_on": self._dependencies(spec),
            "secrets": kind.secret_refs(spec),
            "live_fingerprint": LiveFingerprintLater(live),  # read by saved plans and apply
            "drift": drift,
        }
        # only an object that never came up is replaced without --replace; one that worked and
        # is now broken may hold workloads, so replacing it must be asked for
        forcing = kind.forcing_changes(fields) if fields else []
        refusing = _refused_changes(kind, fields) if fields else None
        if broken or forcing:
            if failed_create:
                reason = f"tainted: status {live.status or 'unknown'} (failed to create); it will be replaced"
            elif broken:
                reason = f"status {live.status}: it can only be replaced"
            else:
                reason = f"{', '.join(forcing)} cannot be changed in place by {kind.api_name}"
            refused = (
                refusing
                or self._replace_refusal(address, protected, needs_flag=not failed_create)
                or kind.delete_refusal(live)
            )
            return Change(
                address,
                Action.REPLACE,
                reason,
                fields=tuple(fields),
                refused=refused,
                forces=tuple(forcing),
                **common,
            )
        if protected != entry.protect:
            fields.append(FieldChange("lifecycle.protect", entry.protect, protected))
        settle = not kind.is_ready(live)
        reason = _update_reason(fields, drift) if fields else _caught_up(drift)
        if settle:
            waiting = f"still coming up (status {live.status}): apply waits until it is ready"
            reason = f"{reason}; {waiting}" if reason else waiting
        return Change(
            address,
            Action.UPDATE,
            reason,
            settle=settle,
            fields=tuple(fields),
            scale=kind.update_step(fields, live),
            rotate_secrets=tuple(rotated),
            refused=refusing,
            **common,
        )

    def _replace_refusal(self, address: Address, protected: bool, needs_flag: bool) -> str | None:
        if protected:
            return PROTECTED_REPLACE
        if needs_flag and address not in self.allow_replace:
            return f"replacement must be allowed with --replace {address}"
        return None

    # --- whole-plan rules: containers and their contents ------------------------------------

    @functools.cached_property
    def contents(self) -> dict[Address, list[Address]]:
        """container address -> the addresses (declared or in state) it holds; worked out
        only when a rule needs it (a replace, a delete, a create or a target)."""
        index: dict[Address, list[Address]] = {}
        for address in self.changes:
            container = kind_named(address.kind).container_of(address)
            if container is not None:
                index.setdefault(container, []).append(address)
        return index

    def _cascade_container_replacements(
        self, changes: dict[Address, Change]
    ) -> dict[Address, Change]:
        replaced = {a: c for a, c in changes.items() if c.action is Action.REPLACE}
        if not replaced:
            return changes  # the common case, without a copy
        out = dict(changes)
        for container, parent in replaced.items():
            for address in self.contents.get(container, ()):
                change = changes[address]
                if change.action not in (Action.NOOP, Action.UPDATE):
                    continue
                out[address] = replace(
                    change,
                    action=Action.REPLACE,
                    reason=f"{container} is replaced and takes its "
                    f"{kind_named(address.kind).plural} with it",
                    # the container's refusal, said of the container (its reason, such as its
                    # protection, is not this object's)
                    refused=PROTECTED_REPLACE
                    if change.protected
                    else (f"{container}: {parent.refused}" if parent.refused else None),
                )
        return out

    def _guard_container_removals(self, changes: dict[Address, Change]) -> dict[Address, Change]:
        """Deleting or replacing a container deletes everything in it: refuse when one of them
        is protected, and report a conflict for contents this state does not manage."""
        removed = {a: c for a, c in changes.items() if c.action in (Action.DELETE, Action.REPLACE)}
        if not removed:
            return changes  # the common case, without a pass over the live objects
        containers = self._containers()
        leaving = {a: c for a, c in removed.items() if a in containers}
        if not leaving:
            return changes
        out = dict(changes)
        live_contents = self._live_contents()
        managed = {(a.kind, e.cloud_id) for a, e in self.state.resources.items()}
        for container, change in leaving.items():
            protected = [
                str(a)
                for a in self.contents.get(container, ())
                if changes[a].protected and changes[a].action is not Action.NOOP
            ]
            if protected and not change.refused:
                out[container] = replace(
                    change, refused=f"it would take protected {', '.join(protected)} with it"
                )
            unmanaged = sorted(
                (
                    o
                    for o in live_contents.get(container, ())
                    if (o.address.kind, o.cloud_id) not in managed
                ),
                key=lambda o: o.cloud_id,
            )
            if unmanaged:
                verb = "deleting" if change.action is Action.DELETE else "replacing"
                what = kind_named(unmanaged[0].address.kind).plural
                self.conflicts.append(
                    Conflict(
                        container,
                        f"{verb} {container} would delete {what} this state does not "
                        f"manage: {', '.join(o.cloud_id for o in unmanaged)}; import them or remove them first",
                    )
                )
        return out

    def _containers(self) -> set[Address]:
        """Addresses that may hold contents: those with declared or managed contents, and any
        of a kind that other kinds name as their container."""
        found = set(self.contents)
        for obj in self.live.by_id.values():
            container = kind_named(obj.address.kind).container_of(obj.address)
            if container is not None:
                found.add(container)
        return found

    def _live_contents(self) -> dict[Address, list[LiveObject]]:
        out: dict[Address, list[LiveObject]] = {}
        for obj in self.live.by_id.values():
            container = kind_named(obj.address.kind).container_of(obj.address)
            if container is not None and not is_gone(obj):
                out.setdefault(container, []).append(obj)
        return out

    def _warn_unmanaged(
        self, address: Address, kind: Kind, after: Mapping[str, Any], entry: ResourceState
    ) -> None:
        """A declared field removed from the config: the kinds reset what the API can reset
        (their attributes then hold the default); what it cannot is left as it is."""
        applied = entry.applied
        if all(k in after and not isinstance(v, dict) for k, v in applied.items()):
            return  # flat and every key still declared: the common case, without paths
        declared = set(_paths(after))
        for path in sorted(set(_paths(entry.applied)) - declared):
            if any(path.startswith(d + ".") for d in declared):
                continue
            self.warnings.append(
                f"{address}: {path} is no longer declared; {kind.api_name} cannot reset it, "
                "so the cloud keeps its value and it is no longer managed"
            )

    def _flag_renames(self, changes: dict[Address, Change]) -> dict[Address, Change]:
        """A delete and a create of one kind with the same signature look like a rename: the
        API cannot rename, so say what the delete destroys (the guard still counts it)."""
        by_kind: dict[str, tuple[list[Change], list[Change]]] = {}
        for change in changes.values():
            if change.action in (Action.DELETE, Action.CREATE):
                pair = by_kind.setdefault(change.address.kind, ([], []))
                pair[0 if change.action is Action.DELETE else 1].append(change)
        if not by_kind:
            return changes  # the common case, without a copy
        out = dict(changes)
        for name, (deletes, creates) in by_kind.items():
            kind = kind_named(name)
            gone = self._signatures(kind, deletes, from_state=True)
            new = self._signatures(kind, creates, from_state=False)
            for signature, old in gone.items():
                if signature is None or signature not in new:
                    continue
                renamed = new[signature]
                lost = kind.loses_on_delete(old.before or {}, self._held(old.address, True))
                note = (
                    f"{old.address} -> {renamed.address} looks like a rename, which "
                    f"{kind.api_name} cannot do: {old.address} is deleted with {lost}, and "
                    f"{renamed.address} starts empty"
                )
                self.warnings.append(note)
                out[old.address] = replace(old, reason=f"{old.reason}; {note}")
        return out

    def _signatures(self, kind: Kind, changes: list[Change], from_state: bool) -> dict[Any, Change]:
        """signature -> change, for signatures that only one change has."""
        seen: dict[Any, list[Change]] = {}
        for change in changes:
            attrs = (change.before if from_state else change.after) or {}
            held = self._held(change.address, from_state)
            seen.setdefault(kind.rename_signature(attrs, held), []).append(change)
        return {s: c[0] for s, c in seen.items() if len(c) == 1}

    def _held(self, container: Address, from_state: bool) -> tuple[str, ...]:
        """The names of what ``container`` holds: managed (state) or declared (config)."""
        source = self.state.resources if from_state else self.desired.resources
        return tuple(sorted(a.name for a in self.contents.get(container, ()) if a in source))

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
            if changes[address].action in (Action.DELETE, Action.REPLACE):
                stack.extend(self.contents.get(address, ()))
        return chosen


def _refused_changes(kind: Kind, fields: list[FieldChange]) -> str | None:
    """Why the kind refuses these changes (``Kind.change_refusal``), or None."""
    reasons = [
        f"{f.path} cannot be changed: {why}"
        for f in fields
        if not f.sensitive and (why := kind.change_refusal(f.path))
    ]
    return "; ".join(reasons) or None


def _paths(values: Mapping[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in values.items():
        if isinstance(value, Mapping) and value:
            out.extend(_paths(value, f"{prefix}{key}."))
        else:
            out.append(f"{prefix}{key}")
    return out


def _drift(
    declared: Mapping[str, Any], projected_live: Mapping[str, Any], entry: ResourceState
) -> tuple[FieldChange, ...]:
    """Declared fields whose live value differs from the value state recorded as applied:
    changed outside the reconciler since the last apply (before = recorded, after = live)."""
    if not entry.applied or entry.applied == projected_live:
        return ()  # the common case, in one comparison
    recorded = project(declared, entry.applied, projected_live)  # unrecorded: no drift known
    return tuple(field_changes(projected_live, recorded))


def _keep_the_cloud(address: Address, fields: Iterable[FieldChange]) -> str:
    """What to declare so that the configuration says what the cloud has (an import whose
    declaration, e.g. a Terraform record, is stale)."""
    values = ", ".join(f"{f.path}: {json.dumps(f.before)}" for f in fields)
    return (
        f"{address}: the cloud differs from what the configuration declares; to keep the cloud "
        f"as it is, declare {values}"
    )


def _caught_up(drift: tuple[FieldChange, ...]) -> str:
    """An object changed outside the reconciler to what the configuration declares (a master
    upgraded in the console to the declared k8sVersion): an update of state alone."""
    if not drift:
        return ""
    paths = ", ".join(f.path for f in drift)
    return f"changed outside the reconciler to the declared value: {paths} (state records it)"


def _update_reason(fields: list[FieldChange], drift: tuple[FieldChange, ...]) -> str:
    drifted = {f.path for f in drift}
    configured = [f.path for f in fields if f.path not in drifted]
    outside = [f.path for f in fields if f.path in drifted]
    parts = []
    if configured:
        parts.append("changed: " + ", ".join(configured))
    if outside:
        parts.append(
            "changed outside the reconciler: "
            + ", ".join(outside)
            + " (set back to the configuration)"
        )
    return "; ".join(parts)


def refresh_only(plan: Plan) -> Plan:
    """The plan of ``--refresh-only``: no change to the cloud, only the drift to record."""
    changes = tuple(
        replace(c, action=Action.NOOP, reason="changed outside the reconciler")
        for c in plan.changes
        if c.drift
    )
    return Plan(changes, (), (), (), plan.context)


def make_plan(
    desired: DesiredState,
    state: State,
    live: LiveState,
    secret_values: Mapping[tuple[Address, str], str] | None = None,
    targets: Iterable[Address] = (),
    allow_replace: Iterable[Address] = (),
    mode: PlanMode = PlanMode.NORMAL,
    adopt: bool = False,
) -> Plan:
    """The plan of ``desired`` against ``state`` and ``live``. A destroy plan gets an empty
    ``desired``; a refresh-only plan is planned as a normal one, and :func:`refresh_only`
    then keeps its drift (after the guards have seen the whole plan)."""
    with paused_gc():
        planner = Planner(desired, state, live, secret_values or {}, allow_replace, mode, adopt)
        return planner.run(targets)
