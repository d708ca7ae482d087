"""Saved plans (``plan --out FILE``, ``apply --plan FILE``): JSON of a Plan's changes.

A saved plan holds what apply executes and what a view of the plan shows: every change that
does something or shows drift, lossless; an unchanged resource is only counted (``unchanged``),
so the file's size follows the changes, not the resources managed. Besides the changes, it
records the tool version, a digest of the config (and of
each file it was read from, so a stale plan names them), where its state lives (a file relative
to the configuration root, or a PostgreSQL URL without its password and the workspace) with the
lineage and serial it was made from, the target URL, and for every change a fingerprint of the
live object it was computed against. ``apply --plan`` re-reads those objects and refuses with
exit 5 if any of them changed: a check on content, finer than a global serial. The file carries
a digest of all of it, so a plan edited after it was made is refused (exit 5) too. It also
records a digest of the configuration's inputs (:func:`inputs_digest`): when they are what they
were, apply knows the configuration unchanged without working out its content's digest, and
then takes what it needs of the configuration from the plan itself (:class:`SavedConfiguration`:
the target, the environment, the declared resources the changes stand on) instead of loading a
configuration of 100,000 resources to change one. Secret values are never written; only their
references (``{env: ...}``) are.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field, replace
from pathlib import Path
from typing import Any

from reconciler import __version__, jsontext
from reconciler.config import config_digest
from reconciler.config.files import ENVIRONMENTS_DIR, YAML_SUFFIXES, config_root, secrets_base
from reconciler.config.variables import ENV_PREFIX
from reconciler.context import RunContext, state_location
from reconciler.diff import FieldChange
from reconciler.errors import ReconcilerError, StalePlanError
from reconciler.gcpause import paused_gc
from reconciler.kinds import is_gone, kind_named, kind_of
from reconciler.kinds import names as kind_names
from reconciler.model import (
    NOWHERE,
    Action,
    Address,
    ConfigChoice,
    DesiredState,
    Lifecycle,
    Location,
    PlanMode,
    SecretRef,
    Spec,
    Target,
)
from reconciler.options import DEFAULT_WORKSPACE, StateChoice
from reconciler.plan import (
    Change,
    Conflict,
    LiveState,
    Plan,
    PlanContext,
    Refusal,
    ScaleStep,
    live_fingerprint,
)
from reconciler.records import frozen_record
from reconciler.safefiles import read_file, replace_file
from reconciler.state import State, StateLocation

SAVED_FORMAT = "cce-reconciler-plan/5"
# /2 said ``"refresh_only": true|false`` where /3 and later say ``"mode"``; it is read as that
# mode. /4 adds the digest of the whole file (a plan edited after it was made is refused); /2
# and /3, written by earlier versions, carry none. /5 keeps only the changes that do something
# or show drift, and counts the rest (``"unchanged"``); /2 to /4 hold one record per resource.
REFRESH_ONLY_FORMAT = "cce-reconciler-plan/2"
DIGESTED_FORMATS = ("cce-reconciler-plan/4", SAVED_FORMAT)
OLDER_FORMATS = (REFRESH_ONLY_FORMAT, "cce-reconciler-plan/3", "cce-reconciler-plan/4")


@frozen_record
class SavedConfiguration:
    """What apply needs of the configuration beyond a saved plan's changes: where the resources
    live (``target``), the environment (``--env``) and the declared resources the changes stand
    on (``desired``: :func:`standing_on`). Saved with the plan, so that apply need not load a
    configuration that :func:`inputs_digest` proves unchanged (:func:`unchanged_configuration`).
    Secret references only, never their values."""

    target: Target
    environment: str | None
    desired: DesiredState


@frozen_record
class SavedPlan:
    plan: Plan
    config_digest: str
    lineage: str
    serial: int
    target_url: str
    version: str = __version__
    config_paths: tuple[str, ...] = ()  # relative to config_root once saved
    mode: PlanMode = PlanMode.NORMAL  # refresh-only (`plan --refresh-only`): apply records drift
    config_root: str = "."  # where the plan was made (absolute); paths are found again from it
    choice: ConfigChoice = ConfigChoice()  # --env / --var-file (relative to the root) / --var
    root_in_repo: str | None = None  # the root relative to its git checkout, when it is in one
    # the state it was made against (a file relative to config_root); None: an older plan
    state: StateLocation | None = None
    # sha256 of each file the configuration was read from, by path relative to config_root:
    # a stale plan names the files that changed
    file_digests: Mapping[str, str] = field(default_factory=dict)
    # :func:`inputs_digest` when the plan was made (None: an older plan): what lets apply
    # know the configuration is unchanged without working out its content's digest again
    inputs_digest: str | None = None
    # what apply needs of the configuration (None: a plan saved before: apply loads it)
    configuration: SavedConfiguration | None = None
    # sha256 of the state document the plan was made against, as read (``State.read_digest``):
    # apply reads that very text without decoding every entry (None: not a file, or older)
    state_digest: str | None = None

    def locate_config(self, plan_file: str) -> list[str]:
        """The configuration paths, looked for first in the checkout around the working
        directory (the root's place in its repository), then around the saved plan, and last
        where the plan was made: any checkout of the same commit works, and the one you are in
        wins (the content is checked by digest afterwards)."""
        for root in _candidate_roots(self.config_root, plan_file, self.root_in_repo):
            paths = [str(root / p) for p in self.config_paths]
            if all(Path(p).exists() for p in paths):
                return paths
        raise ReconcilerError(
            f"{plan_file}: cannot find the configuration this plan was made from "
            f"({', '.join(self.config_paths)}, relative to the configuration root); run apply "
            "from a checkout of the same commit"
        )


def repository_of(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` holding ``.git``."""
    return next((p for p in (path, *path.parents) if (p / ".git").exists()), None)


def _candidate_roots(saved_root: str, plan_file: str, root_in_repo: str | None) -> list[Path]:
    here = Path.cwd().resolve()
    beside = Path(plan_file).resolve().parent
    found: list[Path] = []
    if root_in_repo is not None:
        found += [repo / root_in_repo for repo in map(repository_of, (here, beside)) if repo]
    name = Path(saved_root).name
    # the same folder name in another checkout: /ci/work/repo/infra for /home/me/repo/infra
    found += [p / name for p in (here, *here.parents, beside, *beside.parents)]
    found += [here, *here.parents, beside, *beside.parents, Path(saved_root)]
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def _change_to_dict(change: Change) -> dict[str, Any]:
    return {
        "address": str(change.address),
        "action": change.action.value,
        "reason": change.reason,
        "before": change.before,
        "after": change.after,
        "fields": [[f.path, f.before, f.after, f.sensitive] for f in change.fields],
        "drift": [[f.path, f.before, f.after, f.sensitive] for f in change.drift],
        "cloud_id": change.cloud_id,
        "protected": change.protected,
        "refused": change.refused,
        "depends_on": [str(a) for a in change.depends_on],
        "secrets": {k: {"env": v.env, "file": v.file} for k, v in change.secrets.items()},
        "live_fingerprint": change.live_fingerprint,
        "forces": list(change.forces),
        "scale": change.scale.to_json() if change.scale else None,
        "rotate_secrets": list(change.rotate_secrets),
        "settle": change.settle,
    }


def _change_from_dict(data: dict[str, Any], kinds: Sequence[str]) -> Change:
    return Change(
        address=Address.parse(data["address"], kinds),
        action=Action(data["action"]),
        reason=data["reason"],
        before=data["before"],
        after=data["after"],
        fields=tuple(FieldChange(p, b, a, s) for p, b, a, s in data["fields"]),
        drift=tuple(FieldChange(p, b, a, s) for p, b, a, s in data["drift"]),
        cloud_id=data["cloud_id"],
        protected=bool(data["protected"]),
        refused=data["refused"],
        depends_on=tuple(Address.parse(a, kinds) for a in data["depends_on"]),
        secrets={k: SecretRef(v.get("env"), v.get("file")) for k, v in data["secrets"].items()},
        live_fingerprint=data["live_fingerprint"],
        forces=tuple(data["forces"]),
        scale=ScaleStep.from_json(data["scale"]),
        rotate_secrets=tuple(data["rotate_secrets"]),
        settle=bool(data["settle"]),
    )


def standing_on(plan: Plan, desired: DesiredState) -> DesiredState:
    """The declared resources ``plan``'s changes stand on: those they change, what they depend
    on and what contains them, and what those depend on, to the end (a repository's namespace
    and the registry user it is created for). It is all that apply asks of the configuration:
    each kind's ``apply_inputs`` and the refresh of what the plan changes look only at what
    the changes stand on."""
    wanted: list[Address] = []
    for change in plan.actionable:
        container = kind_named(change.address.kind).container_of(change.address)
        wanted += [change.address, *change.depends_on, *([container] if container else [])]
    found: dict[Address, Spec] = {}
    while wanted:
        address = wanted.pop()
        spec = desired.resources.get(address)
        if spec is None or address in found:
            continue
        found[address] = spec
        wanted += kind_of(spec).dependencies(spec, desired)
        container = kind_of(spec).container_of(address)
        wanted += [container] if container else []
    ordered = {a: found[a] for a in desired.resources if a in found}  # the configuration's order
    return DesiredState(
        ordered,
        {a: i for a, i in desired.imports.items() if a in ordered},
        {k: v for k, v in desired.secret_locations.items() if k[0] in ordered},
    )


def _location_to_list(location: Location, relative: Callable[[str], str]) -> list[Any]:
    """A declaration's place, its file relative to the configuration root."""
    path = location.path if location == NOWHERE else relative(location.path)
    return [path, location.line, location.column]


def _location_from_list(data: Sequence[Any]) -> Location:
    path, line, column = data
    return Location(str(path), int(line), int(column))


def _under(root: str, location: Location) -> Location:
    """``location`` (its file relative to the configuration root) under ``root``."""
    if location == NOWHERE:
        return location
    return replace(location, path=os.path.normpath(os.path.join(root, location.path)))


def _rooted(desired: DesiredState, root: str) -> DesiredState:
    """The saved declarations with their files under the configuration root found again."""
    return DesiredState(
        {a: replace(s, location=_under(root, s.location)) for a, s in desired.resources.items()},
        desired.imports,
        {k: _under(root, where) for k, where in desired.secret_locations.items()},
    )


def _configuration_to_dict(
    configuration: SavedConfiguration, relative: Callable[[str], str]
) -> dict[str, Any]:
    target, desired = configuration.target, configuration.desired
    secrets_at: dict[Address, dict[str, list[Any]]] = {}  # one walk, not one per resource
    for (at, name), where in desired.secret_locations.items():
        secrets_at.setdefault(at, {})[name] = _location_to_list(where, relative)
    return {
        "target": {
            "region": target.region,
            "endpoint": target.endpoint,
            "ccr_endpoint": target.ccr_endpoint,
        },
        "environment": configuration.environment,
        "resources": [
            {
                "address": str(address),
                "attrs": spec.attrs,
                "secrets": {k: {"env": v.env, "file": v.file} for k, v in spec.secrets.items()},
                "secret_locations": secrets_at.get(address, {}),
                "protect": spec.lifecycle.protect,
                "reconcile": spec.lifecycle.reconcile,
                "location": _location_to_list(spec.location, relative),
            }
            for address, spec in desired.resources.items()
        ],
        "imports": {str(a): i for a, i in desired.imports.items()},
    }


def _configuration_from_dict(
    data: dict[str, Any] | None, kinds: Sequence[str]
) -> SavedConfiguration | None:
    if data is None:
        return None
    target = data["target"]
    resources: dict[Address, Spec] = {}
    locations: dict[tuple[Address, str], Location] = {}
    for entry in data["resources"]:
        address = Address.parse(entry["address"], kinds)
        resources[address] = Spec(
            address,
            dict(entry["attrs"]),
            {k: SecretRef(v.get("env"), v.get("file")) for k, v in entry["secrets"].items()},
            Lifecycle(entry["protect"], entry["reconcile"]),
            _location_from_list(entry["location"]),
        )
        for name, where in entry["secret_locations"].items():
            locations[(address, name)] = _location_from_list(where)
    imports = {Address.parse(a, kinds): str(i) for a, i in data["imports"].items()}
    return SavedConfiguration(
        Target(target["region"], target["endpoint"], target["ccr_endpoint"]),
        _optional_text(data["environment"]),
        DesiredState(resources, imports, locations),
    )


def unchanged_configuration(
    saved: SavedPlan, paths: Sequence[str], state: StateChoice
) -> tuple[DesiredState, RunContext] | None:
    """For ``apply --plan``: what it needs of the configuration at ``paths`` (the plan's files,
    found again), taken from the plan, when the configuration's inputs are what they were
    (:func:`inputs_digest`); None when they differ, or the plan records no configuration, or the
    state the run names needs the environment file read: the configuration is then loaded and
    its content decides. The run checks the inputs again under the state's lock."""
    configuration = saved.configuration
    if configuration is None or saved.inputs_digest is None or saved.state is None:
        return None
    given = state.state or os.environ.get("RECONCILER_STATE")
    if not given and state.workspace != DEFAULT_WORKSPACE:
        return None  # --workspace alone: the environment file's state may decide
    root = config_root(paths)
    # the state --state names, else (context.for_saved_plan) the one the plan records
    location, workspace = state_location(root, saved.choice.env, None, state, os.environ)
    context = RunContext(
        config_root=root,
        files=tuple(paths),
        choice=saved.choice,
        target=configuration.target,
        environment=configuration.environment,
        state_location=location,
        workspace=workspace,
        secrets_base=secrets_base(paths[0]),
    )
    if inputs_digest(context, file_digests(context)) != saved.inputs_digest:
        return None
    return _rooted(configuration.desired, root), context


def is_kept(change: Change) -> bool:
    """Whether a saved plan records ``change``: what apply executes, the staleness check reads
    or a view of the plan shows (its drift, a refusal); an unchanged resource is only counted."""
    return change.action is not Action.NOOP or bool(change.drift) or bool(change.refused)


def dump(saved: SavedPlan) -> str:
    kept = [c for c in saved.plan.changes if is_kept(c)]
    relative = _relative_to(Path(saved.config_root).resolve())
    doc = {
        "format": SAVED_FORMAT,
        "version": saved.version,
        "config_digest": saved.config_digest,
        "config_paths": [relative(p) for p in saved.config_paths],
        "config_root": str(Path(saved.config_root).resolve()),
        "root_in_repo": _in_repo(saved.config_root),
        "env": saved.choice.env,
        "var_files": [relative(p) for p in saved.choice.var_files],
        "var_args": list(saved.choice.var_args),
        "lineage": saved.lineage,
        "serial": saved.serial,
        "target_url": saved.target_url,
        "mode": saved.mode.value,
        "state": saved.state.to_json() if saved.state else None,
        "config_files": dict(saved.file_digests),
        "inputs_digest": saved.inputs_digest,
        "state_digest": saved.state_digest,
        "configuration": _configuration_to_dict(saved.configuration, relative)
        if saved.configuration
        else None,
        "changes": [_change_to_dict(c) for c in kept],
        "unchanged": saved.plan.unchanged + len(saved.plan.changes) - len(kept),
        "conflicts": [
            [str(c.address), c.message, c.cloud_id, c.command] for c in saved.plan.conflicts
        ],
        "warnings": list(saved.plan.warnings),
        "refusals": [r.to_json() for r in saved.plan.refusals],
        "context": saved.plan.context.to_json() if saved.plan.context else None,
    }
    doc["digest"] = digest_of(doc)
    # one change per line; key order kept: attributes print as planned
    return jsontext.dumps(doc, sort_keys=False) + "\n"


def digest_of(doc: dict[str, Any]) -> str:
    """``sha256:...`` of everything in a saved plan but the digest itself (canonical JSON), so
    that an edit to a change (an address, an attribute, a step) is refused at apply."""
    body = {k: v for k, v in doc.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _in_repo(root: str) -> str | None:
    resolved = Path(root).resolve()
    repo = repository_of(resolved)
    return os.path.relpath(resolved, repo) if repo else None


def _relative_to(resolved_root: Path) -> Callable[[str], str]:
    """``path`` resolved, relative to the root resolved once (a configuration has a file per
    hundred resources: resolving the root again for each one shows at 100,000), each folder
    resolved once too (a file's own link is still followed)."""
    folders: dict[str, str] = {}

    def relative(path: str) -> str:
        folder, name = os.path.split(path)
        real = folders.get(folder)
        if real is None:
            real = folders[folder] = os.path.realpath(folder or ".")
        resolved = os.path.realpath(path) if os.path.islink(path) else os.path.join(real, name)
        return os.path.relpath(resolved, resolved_root)

    return relative


@paused_gc()
def write(path: str, saved: SavedPlan) -> None:
    try:
        replace_file(path, dump(saved).encode("utf-8"))
    except OSError as exc:
        raise ReconcilerError(f"{path}: cannot write the saved plan: {exc.strerror}") from None


@paused_gc()
def read(path: str) -> SavedPlan:
    try:
        doc = json.loads(read_file(path).decode("utf-8"))
    except OSError as exc:
        raise ReconcilerError(f"{path}: cannot read saved plan: {exc.strerror}") from None
    except ValueError as exc:
        raise ReconcilerError(f"{path}: not a saved plan (invalid JSON: {exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("format"), str):
        raise ReconcilerError(
            f"{path}: not a saved plan of this tool (format {SAVED_FORMAT} expected)"
        )
    if doc["format"] not in (SAVED_FORMAT, *OLDER_FORMATS):
        raise ReconcilerError(
            f"{path}: a saved plan in format {doc['format']}, which this version "
            f"({__version__}, format {SAVED_FORMAT}) cannot read; make it again with "
            "`reconciler plan --out`"
        )
    if doc["format"] in DIGESTED_FORMATS and doc.get("digest") != digest_of(doc):
        raise StalePlanError(
            f"{path}: the saved plan was changed after it was made (its content does not match "
            "its digest); nothing was applied, plan again"
        )
    kinds = kind_names()
    try:
        plan = Plan(
            tuple(_change_from_dict(c, kinds) for c in doc["changes"]),
            tuple(Conflict(Address.parse(a, kinds), m, i, c) for a, m, i, c in doc["conflicts"]),
            tuple(doc["warnings"]),
            tuple(Refusal.from_json(r, kinds) for r in doc["refusals"]),
            PlanContext(**doc["context"]) if doc["context"] else None,
            int(doc["unchanged"]) if doc["format"] == SAVED_FORMAT else 0,
        )
        return SavedPlan(
            plan,
            doc["config_digest"],
            doc["lineage"],
            int(doc["serial"]),
            doc["target_url"],
            doc["version"],
            tuple(doc["config_paths"]),
            _mode(doc),
            str(doc["config_root"]),
            ConfigChoice(
                doc["env"],
                tuple(str(Path(doc["config_root"]) / p) for p in doc["var_files"]),
                tuple(doc["var_args"]),
            ),
            doc["root_in_repo"],
            StateLocation.from_json(doc["state"]) if doc.get("state") is not None else None,
            {str(k): str(v) for k, v in (doc.get("config_files") or {}).items()},
            _optional_text(doc.get("inputs_digest")),
            _configuration_from_dict(doc.get("configuration"), kinds),
            _optional_text(doc.get("state_digest")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReconcilerError(f"{path}: saved plan is damaged: {exc}") from None


def _optional_text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"expected a string or null, not {type(value).__name__}")
    return value


def _mode(doc: dict[str, Any]) -> PlanMode:
    if doc["format"] == REFRESH_ONLY_FORMAT:
        return PlanMode.REFRESH_ONLY if doc["refresh_only"] is True else PlanMode.NORMAL
    return PlanMode(doc["mode"])


def file_digests(context: RunContext) -> dict[str, str]:
    """sha256 of every file the configuration was read from (its files, the environment file,
    the --var-files), by path relative to the configuration root."""
    root = context.config_root
    paths = [*context.files, *context.choice.var_files]
    if context.choice.env:
        folder = Path(root) / ENVIRONMENTS_DIR
        paths += [str(folder / f"{context.choice.env}{suffix}") for suffix in YAML_SUFFIXES]
    relative = _relative_to(Path(root).resolve())
    digests: dict[str, str] = {}
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError:
            continue  # the environment file's other suffix; a vanished file shows as removed
        digests[relative(path)] = hashlib.sha256(data).hexdigest()
    return digests


def inputs_digest(
    context: RunContext, digests: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> str:
    """``sha256:...`` of everything the configuration is made from: this version of the tool,
    the files read (``digests``: :func:`file_digests`, by their bytes; the ``--var-file``
    ones named again below), ``--env`` / ``--var-file`` / ``--var`` and the ``RECONCILER_VAR_*``
    variables. Equal inputs load to an equal configuration, so when this matches the saved
    one apply need not work out the content's digest (:func:`check_fresh`); when it differs,
    the content's digest decides, as for a plan saved without it."""
    environ = os.environ if environ is None else environ
    relative = _relative_to(Path(context.config_root).resolve())
    inputs = {
        "version": __version__,
        "files": dict(sorted(digests.items())),  # the configuration's, the environment's
        "env": context.choice.env,
        "var_files": [relative(p) for p in context.choice.var_files],
        "var_args": list(context.choice.var_args),
        "variables": sorted((k, v) for k, v in environ.items() if k.startswith(ENV_PREFIX)),
    }
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _changed_files(before: Mapping[str, str], now: Mapping[str, str]) -> str:
    """``(changed: main.yaml; added: b.yaml)``, or why no file explains the change."""
    if not before:
        return "(this plan does not record its files)"
    parts = []
    for label, names in (
        ("changed", [n for n in before if n in now and now[n] != before[n]]),
        ("added", [n for n in now if n not in before]),
        ("removed", [n for n in before if n not in now]),
    ):
        if names:
            parts.append(f"{label}: {', '.join(sorted(names))}")
    if not parts:
        return "(no file changed: a value from --var or RECONCILER_VAR_* differs)"
    return "(" + "; ".join(parts) + ")"


@paused_gc()
def check_fresh(
    saved: SavedPlan, desired: DesiredState, context: RunContext, state: State, live: LiveState
) -> None:
    """Refuse (exit 5) a saved plan whose inputs changed: config (naming the files that
    changed), state lineage, live objects. ``live`` needs only the kinds of the plan's changes.
    The configuration's inputs (:func:`inputs_digest`, worked out now) equal to the saved
    ones prove it unchanged; else its content's digest decides (``desired`` is then the
    configuration loaded)."""
    digests = file_digests(context)
    same_inputs = inputs_digest(context, digests) == saved.inputs_digest
    if not same_inputs and saved.config_digest != config_digest(desired, context.target):
        which = _changed_files(saved.file_digests, digests)
        raise StalePlanError(
            f"the saved plan is stale: the configuration changed since it was made {which}; "
            "plan again"
        )
    never_written = saved.serial == 0 and state.serial == 0
    if saved.serial != state.serial and not never_written:
        raise StalePlanError(
            f"the saved plan is stale: the state changed since it was made (serial {saved.serial}, "
            f"now {state.serial}); plan again"
        )
    if saved.lineage != state.lineage and not never_written:
        raise StalePlanError(
            "the saved plan is stale: it was made against a different state; plan again"
        )
    changed = []
    for change in saved.plan.actionable:
        if change.cloud_id:
            now = live_fingerprint(live.lookup(change.address.kind, change.cloud_id))
        else:
            taken = [o for o in live.by_name.get(change.address, ()) if not is_gone(o)]
            now = live_fingerprint(taken[0]) if taken else "absent"
        if change.live_fingerprint is not None and now != change.live_fingerprint:
            changed.append(str(change.address))
    if changed:
        raise StalePlanError(
            "the saved plan is stale: these objects changed in the cloud since it was made: "
            + ", ".join(changed)
            + "; plan again"
        )
