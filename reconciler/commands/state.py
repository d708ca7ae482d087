"""`reconciler state list | show ADDR | rm ADDR`, `reconciler force-unlock ID`, `reconciler import ADDR ID`."""

from __future__ import annotations

import json

import click

from reconciler.adoption import adopted_entry
from reconciler.commands.common import config_choice_options, located_options, state_options
from reconciler.commands.lazy import LazyGroup
from reconciler.errors import EXIT_OK, StateError
from reconciler.model import ConfigChoice
from reconciler.session import RunOptions, load, locate, open_client, open_store, parse_addresses
from reconciler.state import StateStore


def _store(
    state_spec: str | None, workspace: str, config: tuple[str, ...], choice: ConfigChoice
) -> StateStore:
    return locate(config, choice, state_spec, workspace)[1]


@click.group(
    name="state",
    cls=LazyGroup,
    lazy={
        "migrate": (
            "reconciler.commands.state_migrate",
            "command",
            "Move a local state file into PostgreSQL, keeping its lineage.",
        )
    },
)
def group() -> None:
    """Inspect or edit the state (what this tool manages)."""


@group.command(name="list")
@located_options
def list_command(
    config: tuple[str, ...],
    env: str | None,
    var_files: tuple[str, ...],
    var_args: tuple[str, ...],
    state_spec: str | None,
    workspace: str,
) -> int:
    """List managed addresses with their cloud ids."""
    store = _store(state_spec, workspace, config, ConfigChoice(env, var_files, var_args))
    state = store.read()
    if not state.resources:
        click.echo(
            f"The state {store.describe()} manages nothing (give -c PATH or --env to find "
            "another configuration's state).",
            err=True,
        )
    for address, entry in sorted(state.resources.items()):
        flags = (
            [entry.ownership]
            + (["protected"] if entry.protect else [])
            + (["tainted"] if entry.tainted else [])
        )
        click.echo(f"{address}\t{entry.cloud_id}\t{','.join(flags)}")
    return EXIT_OK


@group.command(name="show")
@click.argument("address")
@located_options
def show_command(
    address: str,
    config: tuple[str, ...],
    env: str | None,
    var_files: tuple[str, ...],
    var_args: tuple[str, ...],
    state_spec: str | None,
    workspace: str,
) -> int:
    """Show one managed address as JSON (secrets appear only as salted hashes)."""
    (addr,) = parse_addresses((address,), "ADDR")
    state = _store(state_spec, workspace, config, ConfigChoice(env, var_files, var_args)).read()
    if addr not in state.resources:
        raise StateError(f"{addr} is not in state")
    click.echo(
        json.dumps(
            {"address": str(addr), **state.resources[addr].to_json()}, indent=2, sort_keys=True
        )
    )
    return EXIT_OK


@group.command(name="rm")
@click.argument("address")
@located_options
def rm_command(
    address: str,
    config: tuple[str, ...],
    env: str | None,
    var_files: tuple[str, ...],
    var_args: tuple[str, ...],
    state_spec: str | None,
    workspace: str,
) -> int:
    """Forget ADDR: the cloud object stays and is no longer managed."""
    (addr,) = parse_addresses((address,), "ADDR")
    store = _store(state_spec, workspace, config, ConfigChoice(env, var_files, var_args))
    with store.lock("state rm"):
        state = store.read()
        if addr not in state.resources:
            raise StateError(f"{addr} is not in state")
        del state.resources[addr]
        store.write(state)
    click.echo(f"Removed {addr} from state; the cloud object was not touched.")
    return EXIT_OK


@click.command(name="force-unlock")
@click.argument("lock_id")
@located_options
def force_unlock_command(
    lock_id: str,
    config: tuple[str, ...],
    env: str | None,
    var_files: tuple[str, ...],
    var_args: tuple[str, ...],
    state_spec: str | None,
    workspace: str,
) -> int:
    """Release a state lock left by a run that hangs or died (give the lock's id)."""
    holder = _store(
        state_spec, workspace, config, ConfigChoice(env, var_files, var_args)
    ).force_unlock(lock_id)
    click.echo(f"Released {holder.describe()}.")
    return EXIT_OK


@click.command(name="import")
@click.argument("address")
@click.argument("cloud_id", metavar="ID")
@click.argument("paths", nargs=-1, type=click.Path())
@config_choice_options
@state_options
def import_command(
    address: str,
    cloud_id: str,
    paths: tuple[str, ...],
    env: str | None,
    var_files: tuple[str, ...],
    var_args: tuple[str, ...],
    state_spec: str | None,
    workspace: str,
) -> int:
    """Adopt an existing cloud object ID as ADDR (ownership: adopted)."""
    (addr,) = parse_addresses((address,), "ADDR")
    desired = load(paths, ConfigChoice(env, var_files, var_args))
    store = open_store(state_spec, desired, workspace)
    with (
        store.lock("import"),
        open_client(desired.target, desired.base_dir, RunOptions(state_spec, workspace)) as client,
    ):
        state = store.read()
        entry = adopted_entry(desired, state, client, addr, cloud_id)
        state.resources[addr] = entry
        state.target = state.target or desired.target.url()  # what it was read from
        store.write(state)
    click.echo(
        f"Imported {addr} ({cloud_id}); run `reconciler plan` to see any difference from the configuration."
    )
    return EXIT_OK
