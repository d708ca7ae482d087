"""Where a run lives, resolved once: :class:`RunContext`.

For: the one value the commands and ``session`` share about a run's place: the configuration
root and files, the target, the environment, the state location and workspace, and the folder
relative secret files are read from. :func:`resolve` makes it from a loaded configuration and
``--state`` / ``--workspace`` (``RECONCILER_STATE`` / ``RECONCILER_WORKSPACE``);
:func:`without_config` from those alone, for the commands that read a state without a
configuration. Nothing downstream works any of it out again.
Not for: what is desired (``model.DesiredState``), or opening the state store or the client
(``session``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.config.environments import NAME, POSTGRES_SCHEMES
from reconciler.errors import UsageError
from reconciler.model import NO_CHOICE, ConfigChoice, Target
from reconciler.options import DEFAULT_WORKSPACE, StateChoice
from reconciler.records import frozen_record
from reconciler.state.local import STATE_DIR, STATE_FILE, default_path
from reconciler.state.location import StateLocation

if TYPE_CHECKING:
    from reconciler.config import LoadResult


def is_postgres(location: str | None) -> bool:
    return bool(location and location.startswith(POSTGRES_SCHEMES))


@frozen_record
class RunContext:
    """Where a run lives.

    ``config_root`` is the deepest folder holding every configuration path: ``environments/``
    and, by default, the state (and the embedded emulator's database, and kubeconfigs) live
    under its ``.reconciler/``. ``files`` are the configuration files read and ``choice`` the
    ``--env`` / ``--var-file`` / ``--var`` they were read with (both saved with a plan).
    ``target`` is where the declared resources live. ``state_location`` is the state file's
    path or the PostgreSQL URL; ``workspace`` the PostgreSQL workspace. ``secrets_base`` is
    the folder a relative secret file is read from: the first configuration path's.
    """

    config_root: str = "."
    files: tuple[str, ...] = ()
    choice: ConfigChoice = NO_CHOICE
    target: Target = field(default_factory=Target)
    environment: str | None = None
    state_location: str = str(default_path("."))
    workspace: str = DEFAULT_WORKSPACE
    secrets_base: str = "."

    @property
    def state_dir(self) -> Path:
        """``.reconciler/`` under the configuration root."""
        return Path(self.config_root) / STATE_DIR


def resolve(
    loaded: LoadResult,
    choice: ConfigChoice,
    state: StateChoice,
    environ: Mapping[str, str] | None = None,
) -> RunContext:
    """The context of a run of the configuration ``loaded`` (read with ``choice``)."""
    environment = loaded.environment
    location, workspace = state_location(
        loaded.config_root,
        environment.name if environment else None,
        environment.state if environment else None,
        state,
        os.environ if environ is None else environ,
    )
    return RunContext(
        config_root=loaded.config_root,
        files=loaded.files,
        choice=choice,
        target=loaded.target,
        environment=environment.name if environment else None,
        state_location=location,
        workspace=workspace,
        secrets_base=loaded.secrets_base,
    )


def location_of(context: RunContext) -> StateLocation:
    """Where the state of ``context`` lives, as a saved plan records it (absolute)."""
    if is_postgres(context.state_location):
        return StateLocation.postgres(context.state_location, context.workspace)
    return StateLocation.file(context.state_location)


def for_saved_plan(
    plan_file: str,
    recorded: StateLocation | None,
    context: RunContext,
    named: StateChoice,
    environ: Mapping[str, str] | None = None,
) -> RunContext:
    """``context`` with the state a saved plan was made against (a file found again under the
    configuration root). ``--state`` / ``RECONCILER_STATE`` / ``--workspace`` may name that
    state again (a PostgreSQL URL then brings its password); naming another is an error that
    names both. A plan of an older format records none: the state the command line names."""
    if recorded is None:
        return context
    location = recorded.under(context.config_root)
    environ = os.environ if environ is None else environ
    given = named.state or environ.get("RECONCILER_STATE")
    if not given and named.workspace == DEFAULT_WORKSPACE:
        return replace(
            context,
            state_location=str(location.url or location.path),
            workspace=location.workspace,
        )
    if not given and location.url is not None:  # --workspace alone: one of that database's
        asked = replace(location, workspace=named.workspace)
    else:
        asked = location_of(context)
    if asked != location:
        raise UsageError(
            f"{plan_file} was made against the state {location.describe()}, but this run names "
            f"the state {asked.describe()} (--state, RECONCILER_STATE or --workspace); apply "
            "the plan without them, or plan again against that state"
        )
    if given:
        return context  # the same state, named with its password if the URL has one
    return replace(context, state_location=str(location.url), workspace=location.workspace)


def without_config(state: StateChoice, environ: Mapping[str, str] | None = None) -> RunContext:
    """The context of a command run without a configuration: the current folder's state."""
    location, workspace = state_location(
        ".", None, None, state, os.environ if environ is None else environ
    )
    return RunContext(state_location=location, workspace=workspace)


def workspace_name(name: str) -> str:
    """``name`` if it is a valid workspace name (the rule of environment names), so that a
    workspace's state file stays under ``.reconciler/workspaces/``; else a UsageError."""
    if not NAME.match(name):
        raise UsageError(
            f'workspace name {name!r} is invalid: letters, digits, "-" and "_", starting '
            "with a letter or digit (at most 64)"
        )
    return name


def state_location(
    config_root: str,
    environment: str | None,
    environment_state: str | None,
    choice: StateChoice,
    environ: Mapping[str, str],
) -> tuple[str, str]:
    """The state a run uses, as (path or URL, workspace): ``--state`` (or ``RECONCILER_STATE``),
    else the environment file's ``state`` (already relative to the working directory), else a
    file under the configuration root: ``.reconciler/state.json``,
    ``.reconciler/envs/ENV/state.json`` with ``--env``, ``.reconciler/workspaces/WS/state.json``
    with ``--workspace``. On PostgreSQL the workspace is ``--workspace``, else the environment."""
    workspace = workspace_name(choice.workspace)
    location = choice.state or environ.get("RECONCILER_STATE") or environment_state
    if is_postgres(location):
        assert location is not None
        named = workspace != DEFAULT_WORKSPACE
        return location, workspace if named else environment or DEFAULT_WORKSPACE
    if location:
        return location, workspace
    if environment and workspace != DEFAULT_WORKSPACE:
        raise UsageError(
            f"--workspace {workspace} with --env {environment}: on a file state the environment "
            "already chooses the state file; give one of them (or --state)"
        )
    folder = Path(config_root) / STATE_DIR
    if environment:
        return str(folder / "envs" / environment / STATE_FILE), workspace
    if workspace != DEFAULT_WORKSPACE:
        return str(folder / "workspaces" / workspace / STATE_FILE), workspace
    return str(default_path(config_root)), workspace
