"""CCE v2 add-ons (组件) of a cluster: install, upgrade, update parameters, uninstall, list.

For: the rules of docs/api-contract.md "Add-ons" over the ``ccev2_addons`` table, and the
lifecycle (each call's phase lasts ``addon_seconds``)::

    install:   Installing  -> Running
    upgrade:   Upgrading   -> Running (the new version)
    update:    Upgrading   -> Running (the new parameters)
    uninstall: Uninstalling -> gone

A refusal the service reports in a 200 body (``code`` and ``message``, as the docs say add-on
failures do) is raised as :class:`AddonRefused`, which the handler turns into that body.
Functions over an open connection, called by :class:`.models.CceV2` inside its lifecycle's
transactions, after it has checked the cluster.
Not for: the catalogue's data (:mod:`.catalogue`), the wire envelope (:mod:`.handlers`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..params import Json
from .catalogue import ADDONS, AddonEntry, version_key
from .errors import INVALID_PARAM, NOT_ALLOWED, READ

SCHEMA = """
-- steps = JSON [[due, phase, version, params], ...] still to come (phase "" = uninstalled).
CREATE TABLE IF NOT EXISTS ccev2_addons (
    cluster_id TEXT NOT NULL,
    name TEXT NOT NULL,
    phase TEXT NOT NULL,
    version TEXT NOT NULL,
    params TEXT NOT NULL,
    steps TEXT NOT NULL,
    due REAL,
    PRIMARY KEY (cluster_id, name)
);
"""
DUE = "SELECT 1 FROM ccev2_addons WHERE due <= ?1"
RUNNING, INSTALLING, UPGRADING, UNINSTALLING = "Running", "Installing", "Upgrading", "Uninstalling"


class AddonRefused(Exception):
    """The service refuses the call in a 200 answer carrying ``code`` and ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _refused(message: str, code: str = INVALID_PARAM) -> AddonRefused:
    return AddonRefused(code, message)


@dataclass(frozen=True)
class Installed:
    name: str
    phase: str
    version: str
    params: str


def _entry(name: str) -> AddonEntry:
    entry = ADDONS.get(name)
    if entry is None:
        raise _refused(f"add-on {name!r} is not one of the catalogue's ({', '.join(ADDONS)})")
    return entry


def _installed(conn: sqlite3.Connection, cluster_id: str, name: str) -> Installed | None:
    row = conn.execute(
        "SELECT * FROM ccev2_addons WHERE cluster_id = ? AND name = ?", (cluster_id, name)
    ).fetchone()
    return None if row is None else Installed(row["name"], row["phase"], row["version"],
                                              row["params"])  # fmt: skip


def _running(conn: sqlite3.Connection, cluster_id: str, name: str) -> Installed:
    found = _installed(conn, cluster_id, name)
    if found is None:
        raise _refused(f"add-on {name} is not installed in {cluster_id}")
    if found.phase != RUNNING:
        raise _refused(f"add-on {name} is {found.phase}", NOT_ALLOWED)
    return found


def _params(body: Json, required: bool = False) -> str | None:
    params = READ.opt_str(body, "params")
    if required and not params:
        raise _refused("params is required")
    return params


def _schedule(
    conn: sqlite3.Connection,
    cluster_id: str,
    name: str,
    phase: str,
    final: list[Any],
    due: float,
) -> None:
    conn.execute(
        "UPDATE ccev2_addons SET phase = ?, steps = ?, due = ? WHERE cluster_id = ? AND name = ?",
        (phase, json.dumps([[due, *final]]), due, cluster_id, name),
    )


def install(conn: sqlite3.Connection, cluster_id: str, body: Json, due: float) -> None:
    entry = _entry(READ.text(body, "name"))
    if _installed(conn, cluster_id, entry.name) is not None:
        raise _refused(f"add-on {entry.name} is already installed")
    version = READ.text(body, "version") or entry.latest
    if version not in entry.versions:
        raise _refused(f"{entry.name} has no version {version!r} ({', '.join(entry.versions)})")
    params = _params(body) or entry.default_params
    conn.execute(
        "INSERT INTO ccev2_addons (cluster_id, name, phase, version, params, steps, due)"
        " VALUES (?, ?, ?, ?, ?, '[]', NULL)",
        (cluster_id, entry.name, INSTALLING, version, params),
    )
    _schedule(conn, cluster_id, entry.name, INSTALLING, [RUNNING, version, params], due)


def upgrade(conn: sqlite3.Connection, cluster_id: str, body: Json, due: float) -> None:
    entry = _entry(READ.text(body, "name"))
    found = _running(conn, cluster_id, entry.name)
    READ.text(body, "instanceName")  # multi-instance add-ons are not modelled
    if not entry.upgradable:
        raise _refused(f"add-on {entry.name} cannot be upgraded (暂不支持升级版本)")
    target = READ.text(body, "targetVersion") or entry.latest
    if target not in entry.versions or version_key(target) <= version_key(found.version):
        newer = [v for v in entry.versions if version_key(v) > version_key(found.version)]
        raise _refused(
            f"{entry.name} {found.version} cannot be upgraded to {target!r} "
            f"(newer: {', '.join(newer) or 'none'})"
        )
    params = _params(body) or found.params
    _schedule(conn, cluster_id, entry.name, UPGRADING, [RUNNING, target, params], due)


def update(conn: sqlite3.Connection, cluster_id: str, body: Json, due: float) -> None:
    entry = _entry(READ.text(body, "name"))
    found = _running(conn, cluster_id, entry.name)
    if not entry.updatable:
        raise _refused(f"add-on {entry.name}'s parameters cannot be updated")
    params = _params(body, required=True)
    _schedule(conn, cluster_id, entry.name, UPGRADING, [RUNNING, found.version, params], due)


def uninstall(conn: sqlite3.Connection, cluster_id: str, body: Json, due: float) -> None:
    entry = _entry(READ.text(body, "name"))
    found = _installed(conn, cluster_id, entry.name)
    if found is None:
        raise _refused(f"add-on {entry.name} is not installed in {cluster_id}")
    if found.phase == UNINSTALLING:
        return  # a resend is harmless
    if found.phase != RUNNING:
        raise _refused(f"add-on {entry.name} is {found.phase}", NOT_ALLOWED)
    _schedule(conn, cluster_id, entry.name, UNINSTALLING, ["", found.version, found.params], due)


def advance(conn: sqlite3.Connection, now: float) -> None:
    for row in conn.execute("SELECT * FROM ccev2_addons WHERE due <= ?", (now,)).fetchall():
        steps = json.loads(row["steps"])
        done = [s for s in steps if s[0] <= now]
        left = [s for s in steps if s[0] > now]
        _, phase, version, params = done[-1]
        key = (row["cluster_id"], row["name"])
        if not phase:
            conn.execute("DELETE FROM ccev2_addons WHERE cluster_id = ? AND name = ?", key)
            continue
        conn.execute(
            "UPDATE ccev2_addons SET phase = ?, version = ?, params = ?, steps = ?, due = ?"
            " WHERE cluster_id = ? AND name = ?",
            (phase, version, params, json.dumps(left), left[0][0] if left else None, *key),
        )


def listed(conn: sqlite3.Connection, cluster_id: str, names: Sequence[str]) -> list[dict[str, Any]]:
    """``AddOnInfo`` for each catalogue entry (``names``: only those; unknown names are left
    out [GUESS]), with its instance when installed."""
    wanted = [n for n in names if n] or list(ADDONS)
    out = []
    for name in wanted:
        entry = ADDONS.get(name)
        if entry is None:
            continue
        found = _installed(conn, cluster_id, name)
        out.append(_info(entry, found))
    return out


def _info(entry: AddonEntry, found: Installed | None) -> dict[str, Any]:
    install: dict[str, Any] = {"allowInstall": found is None}
    if found is not None:
        install["message"] = "already installed"
    item: dict[str, Any] = {
        "meta": {
            "name": entry.name,
            "type": entry.addon_type,
            "latestVersion": entry.latest,
            "shortIntroduction": entry.introduction or entry.name,
            "defaultParams": entry.default_params,
            "installInfo": install,
        }
    }
    if found is not None:
        item["instance"] = _instance(entry, found)
    return item


def _instance(entry: AddonEntry, found: Installed) -> dict[str, Any]:
    newer = [v for v in entry.versions if version_key(v) > version_key(found.version)]
    running = found.phase == RUNNING
    upgrade: dict[str, Any] = {
        "allowUpgrade": entry.upgradable and bool(newer) and running,
        "nextVersion": newer[0] if newer and entry.upgradable else "",
    }
    if not entry.upgradable:
        upgrade["message"] = "暂不支持升级版本"
    update: dict[str, Any] = {"allowUpdate": entry.updatable and running}
    if not entry.updatable:
        update["message"] = "the add-on's parameters cannot be updated"
    return {
        "name": found.name,
        "installedVersion": found.version,
        "params": found.params,
        "status": {"phase": found.phase},
        "uninstallInfo": {"allowUninstall": running},
        "upgradeInfo": upgrade,
        "updateInfo": update,
        "rollback": {"allowRollback": False},
    }
