"""`reconciler state list | show ADDR | rm ADDR`, `reconciler force-unlock ID`, `reconciler import ADDR ID`."""

from __future__ import annotations

import json

import click

from reconciler.adoption import adopted_entry
from reconciler.commands.common import (
    config_choice_options,
    located_options,
    paths_argument,
    state_options,
)
from reconciler.commands.lazy import LazyGroup
from reconciler.errors import EXIT_OK, RefusedError, StateError, closest
from reconciler.model import ConfigChoice
from reconciler.options import RunOptions, StateChoice
from reconciler.other_states import other_states
from reconciler.ownership import one_owner_advice, owner_of
from reconciler.session import load, locate, open_client, open_store, parse_addresses, read_state
from reconciler.state import StateStore


def _store(config: tuple[str, ...], choice: ConfigChoice, state: StateChoice) -> StateStore:
    return open_store(locate(config, choice, state)[1])


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
    choice: ConfigChoice,
    state: StateChoice,
) -> int:
    """List managed addresses with their cloud ids."""
    store = _store(config, choice, state)
    managed = store.read()
    if not managed.resources:
        click.echo(
            f"The state {store.describe()} manages nothing (give -c PATH or --env to find "
            "another configuration's state).",
            err=True,
        )
    for address, entry in sorted(managed.resources.items()):
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
    choice: ConfigChoice,
    state: StateChoice,
) -> int:
    """Show one managed address as JSON (secrets appear only as salted hashes)."""
    (addr,) = parse_addresses((address,), "ADDR")
    managed = _store(config, choice, state).read()
    if addr not in managed.resources:
        close = closest(str(addr), map(str, managed.resources))
        raise StateError(f"{addr} is not in state" + (f"; did you mean {close}?" if close else ""))
    click.echo(
        json.dumps(
            {"address": str(addr), **managed.resources[addr].to_json()}, indent=2, sort_keys=True
        )
    )
    return EXIT_OK


@group.command(name="rm")
@click.argument("address")
@located_options
def rm_command(
    address: str,
    config: tuple[str, ...],
    choice: ConfigChoice,
    state: StateChoice,
) -> int:
    """Forget ADDR: the cloud object stays and is no longer managed."""
    (addr,) = parse_addresses((address,), "ADDR")
    store = _store(config, choice, state)
    with store.lock("state rm"):
        managed = store.read()
        if addr not in managed.resources:
            raise StateError(f"{addr} is not in state")
        del managed.resources[addr]
        store.write(managed)
    click.echo(f"Removed {addr} from state; the cloud object was not touched.")
    return EXIT_OK


@click.command(name="force-unlock")
@click.argument("lock_id")
@located_options
def force_unlock_command(
    lock_id: str,
    config: tuple[str, ...],
    choice: ConfigChoice,
    state: StateChoice,
) -> int:
    """Release a state lock left by a run that hangs or died (give the lock's id)."""
    holder = _store(config, choice, state).force_unlock(lock_id)
    click.echo(f"Released {holder.describe()}.")
    return EXIT_OK


@click.command(name="import")
@click.argument("address")
@click.argument("cloud_id", metavar="ID")
@paths_argument
@config_choice_options
@state_options
def import_command(
    address: str,
    cloud_id: str,
    paths: tuple[str, ...],
    choice: ConfigChoice,
    state: StateChoice,
) -> int:
    """Adopt an existing cloud object ID as ADDR (ownership: adopted)."""
    (addr,) = parse_addresses((address,), "ADDR")
    desired, context = load(paths, choice, state)
    store = open_store(context)
    with store.lock("import"):
        managed = read_state(store, context.target)  # before a client or an embedded emulator
        with open_client(context, RunOptions()) as client:
            entry = adopted_entry(desired, managed, client, addr, cloud_id)
        owner = owner_of(other_states(context.config_root, store), addr.kind, cloud_id)
        if owner is not None:
            raise RefusedError(
                f"cannot import {addr}: {owner[0].name} manages {cloud_id} as {owner[1]}; one "
                f"object has one owner: {one_owner_advice()}"
            )
        managed.resources[addr] = entry
        managed.target = context.target.url()
        store.write(managed)
    click.echo(
        f"Imported {addr} ({cloud_id}); run `reconciler plan` to see any difference from the configuration."
    )
    return EXIT_OK
