"""``reconciler export``: YAML declaring the live objects of a target, as they are.

Reads the account with each kind's list calls (an unmanaged cluster is read once more by id for
its nodes), asks each kind how its objects are declared, and returns file name -> YAML text:
one file per kind (``users.yaml``, ``namespaces.yaml``, ...) plus ``target.yaml``, each opening
with the editor modeline. Secrets become ``{env: ...}`` placeholders. Validating the files and
adopting what they declare (``apply --adopt``) plans no change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from reconciler.client.api import CceClient
from reconciler.kinds import REGISTRY, Kind
from reconciler.model import Target
from reconciler.plan import LiveObject, LiveState

MODELINE = "# yaml-language-server: $schema=schemas/config.schema.json"
HEADER = (
    "{modeline}\n"
    "# Written by `reconciler export` from the live {what}. Check it, then adopt it with\n"
    "# `reconciler apply --adopt`.{note}\n\n"
)


def _note(kind: Kind) -> str:
    return "".join(f"\n# {line}" for line in kind.export_note.splitlines())


def _kinds(names: Iterable[str]) -> list[Kind]:
    wanted = set(names)
    return [k for k in REGISTRY if k.config_section and (not wanted or k.name in wanted)]


def exportable_kinds() -> list[str]:
    return [k.name for k in _kinds(())]


class ExportableKinds(Sequence[str]):
    """The kinds ``--kind`` accepts, read from the registry when the option is checked (a kind
    registered after this module was imported included)."""

    def __getitem__(self, index: Any) -> Any:
        return exportable_kinds()[index]

    def __len__(self) -> int:
        return len(exportable_kinds())


def _objects(kind: Kind, live: LiveState, client: CceClient) -> list[LiveObject]:
    found = sorted(
        (o for (name, _), o in live.by_id.items() if name == kind.name and not kind.is_gone(o)),
        key=lambda o: (o.address.name, o.cloud_id),
    )
    if not kind.export_reads_one:
        return found
    detailed = [kind.read_one(client, o.address, o.cloud_id) for o in found]
    return [o for o in detailed if o is not None and not kind.is_gone(o)]


def _dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def export_files(
    live: LiveState, client: CceClient, target: Target, kinds: Iterable[str] = ()
) -> dict[str, str]:
    files: dict[str, str] = {}
    declared_target = {
        k: v for k, v in (("region", target.region), ("endpoint", target.endpoint)) if v
    }
    files["target.yaml"] = HEADER.format(modeline=MODELINE, what="target", note="") + _dump(
        {"target": declared_target}
    )
    for kind in _kinds(kinds):
        entries = [kind.export_entry(o) for o in _objects(kind, live, client)]
        entries = [e for e in entries if e is not None]
        if not entries:
            continue
        section = kind.config_section
        head = HEADER.format(modeline=MODELINE, what=kind.plural, note=_note(kind))
        files[f"{section}.yaml"] = head + _dump({section: entries})
    return files
