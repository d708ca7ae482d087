"""`reconciler state migrate --from PATH --to URL`: move a local state file into PostgreSQL.

For: the one-time move of a team from ``.reconciler/state.json`` to a shared database. The
state keeps its lineage and serial, so saved plans and the journal semantics carry over. Not
for: copying between two databases or back to a file, or merging two states (refused).
"""

from __future__ import annotations

import click

from reconciler.context import workspace_name
from reconciler.errors import EXIT_OK, StateError, UsageError
from reconciler.kinds import names as kind_names
from reconciler.state import State
from reconciler.state.local import LocalStateStore
from reconciler.state.postgres import PostgresStateStore


def _source(path: str) -> LocalStateStore:
    store = LocalStateStore(path, kinds=kind_names())
    if not store.path.exists() and not store.journal_path.exists():
        raise StateError(f"{path}: no state file to migrate")
    return store


def _target(url: str, workspace: str) -> PostgresStateStore:
    if not url.startswith(("postgresql://", "postgres://")):
        raise UsageError(f"--to must be a postgresql:// URL, not {url!r}")
    return PostgresStateStore(url, workspace_name(workspace), kinds=kind_names())


def _holds_state(state: State) -> bool:
    return bool(state.resources or state.pending)


def check_target(source: State, target: State, where: str) -> None:
    """Refuse to replace anything that is not an older copy of the same state."""
    if target.lineage != source.lineage:
        if _holds_state(target):
            raise StateError(
                f"{where} already holds a different state (lineage {target.lineage}, "
                f"{len(target.resources)} resources); refusing to replace it with lineage "
                f"{source.lineage}. Use another --workspace."
            )
        return
    if target.serial > source.serial:
        raise StateError(
            f"{where} already holds a newer version of this state (serial {target.serial} > "
            f"{source.serial}); nothing to migrate"
        )


def _report(source: State, path: str, where: str) -> None:
    click.echo(
        f"Migrated {len(source.resources)} resources (lineage {source.lineage}, serial "
        f"{source.serial}) from {path} to {where}:"
    )
    for address, entry in sorted(source.resources.items()):
        click.echo(f"  {address}\t{entry.cloud_id}")
    if source.pending:
        click.echo(
            f"{len(source.pending)} unfinished operations moved too; the next plan or apply "
            "recovers them."
        )
    click.echo(f"{path} was left in place; use --state (or RECONCILER_STATE) to use the new one.")


@click.command(name="migrate")
@click.option(
    "--from", "from_path", required=True, type=click.Path(dir_okay=False), help="Local state file."
)
@click.option("--to", "to_url", required=True, help="Target postgresql:// URL.")
@click.option(
    "--workspace",
    default="default",
    show_default=True,
    envvar="RECONCILER_WORKSPACE",
    help="Target workspace.",
)
def command(from_path: str, to_url: str, workspace: str) -> int:
    """Move a local state file into PostgreSQL, keeping its lineage."""
    source_store = _source(from_path)
    target_store = _target(to_url, workspace)
    with source_store.lock("state migrate"), target_store.lock("state migrate"):
        source = source_store.read()
        check_target(source, target_store.read(), target_store.describe())
        target_store.replace(source)
    _report(source, from_path, target_store.describe())
    return EXIT_OK
