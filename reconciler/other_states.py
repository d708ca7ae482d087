"""The other states of one configuration, read so that one cloud object has one owner.

For: finding and reading every state a configuration keeps besides the one a run uses, so that
``import``, ``--adopt`` and deletes can refuse an object another of them manages
(``reconciler.ownership`` decides; this module only reads). The states of a configuration are:

- on files, under its root: ``.reconciler/state.json``, ``.reconciler/envs/*/state.json`` and
  ``.reconciler/workspaces/*/state.json``, and the ``state:`` an environment file names
  (``environments/NAME.yaml``; a path relative to the root, or a PostgreSQL URL whose workspace
  is NAME);
- on PostgreSQL: every workspace of each database those name or the run uses (one database is
  one configuration's, as docs/state-backends.md says).

Above the configuration (it reads environment files), the state backends and the kind registry
(each state is read as the run's own is, refusing an entry of a kind not registered).

A state that cannot be read stops the run with a StateError naming it: an unread state could be
the owner. An environment's ``state:`` built from ``${var...}`` cannot be known without loading
that environment, and is not read (README, known limits).
Not for: deciding anything (``reconciler.ownership``), or the run's own state
(``reconciler.session.open_store``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.config.environments import POSTGRES_SCHEMES, list_environments
from reconciler.config.files import ENVIRONMENTS_DIR, YAML_SUFFIXES
from reconciler.config.yamlload import LoadError, read_document
from reconciler.errors import StateError
from reconciler.kinds import names as kind_names
from reconciler.ownership import OtherState
from reconciler.state import State, StateStore
from reconciler.state.local import STATE_DIR, STATE_FILE, LocalStateStore
from reconciler.state.location import StateLocation

if TYPE_CHECKING:
    from reconciler.state.postgres import PostgresStateStore


def other_states(root: str, store: StateStore) -> list[OtherState]:
    """Every state of the configuration at ``root`` but ``store``, the run's own."""
    current = store.location()
    found: list[OtherState] = []
    databases: dict[str, PostgresStateStore] = {}  # by public URL: a store to reach the others
    if current.url is not None:
        databases[current.url] = store  # type: ignore[assignment]  # its password, if any
    seen = {current}
    for name, location in _named_locations(root):
        if location.url is not None:
            if location.url not in databases:
                from reconciler.state.postgres import PostgresStateStore

                databases[location.url] = PostgresStateStore(location.url, kinds=kind_names())
            continue
        if location not in seen and Path(str(location.path)).exists():
            seen.add(location)
            found.append(
                OtherState.of(
                    name, _read(LocalStateStore(str(location.path), kinds=kind_names()), name)
                )
            )
    for public, database in databases.items():
        found.extend(_workspaces(public, database, seen))
    return found


def _named_locations(root: str) -> Iterator[tuple[str, StateLocation]]:
    folder = Path(root) / STATE_DIR
    yield f"the state {_shown(folder / STATE_FILE, root)}", StateLocation.file(folder / STATE_FILE)
    for sub, label in (("envs", "environment"), ("workspaces", "workspace")):
        for path in sorted((folder / sub).glob(f"*/{STATE_FILE}")):
            name = path.parent.name
            yield f"{label} {name} ({_shown(path, root)})", StateLocation.file(path)
    for env in list_environments(root):
        state = _environment_state(root, env)
        if state is None:
            continue
        if state.startswith(POSTGRES_SCHEMES):
            yield f"environment {env}", StateLocation.postgres(state, env)
        else:
            path = Path(root) / state
            yield f"environment {env} ({_shown(path, root)})", StateLocation.file(path)


def _environment_state(root: str, env: str) -> str | None:
    """The literal ``state:`` of an environment file (None if it names none, or builds it from
    variables)."""
    for suffix in YAML_SUFFIXES:
        path = os.path.join(root, ENVIRONMENTS_DIR, env + suffix)
        if not os.path.isfile(path):
            continue
        try:
            data = read_document(path, empty=None).data
        except LoadError:
            return None  # the run that uses this environment reports it
        state = data.get("state") if isinstance(data, dict) else None
        return state if isinstance(state, str) and "${" not in state else None
    return None


def _workspaces(
    public: str, database: PostgresStateStore, seen: set[StateLocation]
) -> list[OtherState]:
    out = []
    for workspace in _read_workspaces(database, public):
        location = StateLocation.postgres(public, workspace)
        if location in seen:
            continue
        seen.add(location)
        name = f"workspace {workspace} of {public}"
        out.append(OtherState.of(name, _read(database.other_workspace(workspace), name)))
    return out


def _read_workspaces(store: PostgresStateStore, public: str) -> list[str]:
    try:
        return store.workspaces()
    except StateError as exc:
        raise StateError(
            f"cannot read the other workspaces of {public} (one object, one owner): {exc}"
        ) from None


def _read(store: StateStore, name: str) -> State:
    try:
        return store.read()
    except StateError as exc:
        raise StateError(f"cannot read {name} (one object, one owner): {exc}") from None


def _shown(path: Path, root: str) -> str:
    return os.path.relpath(path, root)
