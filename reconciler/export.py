"""``reconciler export``: YAML declaring the live objects of a target, as they are.

Reads the account with each kind's list calls (an unmanaged cluster is read once more by id for
its nodes), asks each kind how its objects are declared, and returns file name -> YAML text:
one file per kind (``users.yaml``, ``namespaces.yaml``, ...) plus ``target.yaml``, each opening
with the editor modeline. Secrets become ``{env: ...}`` placeholders. Validating the files and
adopting what they declare (``apply --adopt``) plans no change. :func:`declaration_files` is the
one writer of such files: ``import-terraform`` writes its own through it (plus ``imports.yaml``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from reconciler.client.v1 import CceClient
from reconciler.kinds import REGISTRY, Kind
from reconciler.model import Target
from reconciler.plan import LiveObject, LiveState

MODELINE = "# yaml-language-server: $schema=schemas/config.schema.json"
HEADER = (
    "{modeline}\n"
    "# Written by `reconciler {command}` from {origin}.\n"
    "# Check it, then adopt it with {adopt}.{note}\n\n"
)
ADOPT_ALL = "`reconciler apply --adopt`"
ADOPT_BY_ID = "`reconciler apply` (imports.yaml names each object's id)"
IMPORTS_SECTION = "imports"


def notes() -> dict[str, str]:
    """Section -> the comment lines atop its file (``Kind.export_note``)."""
    return {
        k.config_section: "".join(f"\n# {line}" for line in k.export_note.splitlines())
        for k in _kinds(())
    }


def _kinds(names: Iterable[str]) -> list[Kind]:
    wanted = set(names)
    return [k for k in REGISTRY if k.config_section and (not wanted or k.name in wanted)]


def exportable_kinds() -> list[str]:
    return [k.name for k in _kinds(())]


def not_found(names: Iterable[str], files: Mapping[str, str]) -> list[str]:
    """The kinds an export limited to ``names`` (``--kind``) found no object of (no file)."""
    wanted = set(names)
    return [k.name for k in _kinds(wanted) if wanted and f"{k.config_section}.yaml" not in files]


def left_out(names: Iterable[str], files: Mapping[str, str]) -> dict[str, list[str]]:
    """For an export limited to ``names`` (``--kind``): each exported kind (one with a file in
    ``files``) -> the kinds its entries refer to that the export left out, without which
    ``validate`` refuses the files (instance groups without their cluster)."""
    wanted = set(names)
    if not wanted:
        return {}
    found = {}
    for kind in _kinds(wanted):
        if f"{kind.config_section}.yaml" in files:
            missing = sorted(kind.referred_kinds - wanted)
            if missing:
                found[kind.name] = missing
    return found


def _objects(kind: Kind, live: LiveState, client: CceClient) -> list[LiveObject]:
    found = sorted(
        (o for (name, _), o in live.by_id.items() if name == kind.name and not kind.is_gone(o)),
        key=lambda o: (o.address.name, o.cloud_id),
    )
    if not kind.export_reads_one:
        return found
    detailed = [kind.read_one(client, o.address, o.cloud_id) for o in found]
    return [o for o in detailed if o is not None and not kind.is_gone(o)]


# libyaml's emitter writes the same text as PyYAML's, ten times faster (a large import-terraform)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(data: object) -> str:
    return yaml.dump(
        data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def export_files(
    live: LiveState, client: CceClient, target: Target, kinds: Iterable[str] = ()
) -> dict[str, str]:
    entries = {}
    for kind in _kinds(kinds):
        declared = [kind.export_entry(o) for o in _objects(kind, live, client)]
        entries[kind.name] = [e for e in declared if e is not None]
    return declaration_files(entries, target, "export", "the live {what}", notes())


def declaration_files(
    entries: Mapping[str, Sequence[Mapping[str, Any]]],
    target: Target | None,
    command: str,
    origin: str,
    notes: Mapping[str, str] | None = None,
    imports: Sequence[Mapping[str, str]] = (),
    target_origin: str | None = None,
) -> dict[str, str]:
    """File name -> YAML text: ``target.yaml`` (when a target is known), one file per kind
    with entries (``entries``: kind name -> YAML entries) and ``imports.yaml`` (the ids that
    adopt them). ``origin`` says where they come from, ``{what}`` standing for the kind;
    ``target_origin`` where the target does, when it is not ``origin``."""
    files: dict[str, str] = {}

    def head(what: str, note: str = "", said: str | None = None) -> str:
        said = said or origin.format(what=what)
        adopt = ADOPT_BY_ID if imports else ADOPT_ALL
        return HEADER.format(
            modeline=MODELINE, command=command, origin=said, adopt=adopt, note=note
        )

    if target is not None:
        declared = {
            k: v
            for k, v in (
                ("region", target.region),
                ("endpoint", target.endpoint),
                ("ccrEndpoint", target.ccr_endpoint),
            )
            if v
        }
        files["target.yaml"] = head("target", said=target_origin) + _dump({"target": declared})
    for kind in _kinds(entries):
        if entries.get(kind.name):
            section = kind.config_section
            note = (notes or {}).get(section, "")
            files[f"{section}.yaml"] = head(kind.plural, note) + _dump(
                {section: [dict(e) for e in entries[kind.name]]}
            )
    if imports:
        files[f"{IMPORTS_SECTION}.yaml"] = head("ids of the objects") + _dump(
            {IMPORTS_SECTION: [dict(i) for i in imports]}
        )
    return files
