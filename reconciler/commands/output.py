"""`reconciler output [ADDR [FIELD]] [--json | --raw]`: the ids and attributes of managed
objects, for scripts that run after apply.

Reads the state; a cluster's live fields (status, node ids, master and worker counts) take one
read by id per cluster shown, and none when FIELD is a state field. Secrets never appear: the
state holds only their hashes, and those are not shown either. The engine is
``reconciler.outputs``; this module parses arguments and prints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click

from reconciler import outputs
from reconciler.commands.common import located_options
from reconciler.context import RunContext
from reconciler.errors import EXIT_OK, UsageError
from reconciler.model import Address, ConfigChoice
from reconciler.options import RunOptions, StateChoice
from reconciler.session import (
    check_target,
    load,
    locate,
    open_client,
    open_store,
    parse_addresses,
)
from reconciler.state import State, StateStore

Table = dict[Address, dict[str, Any]]


@click.command(name="output")
@click.argument("address", metavar="[ADDR]", required=False)
@click.argument("field", metavar="[FIELD]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (an object keyed by address).")
@click.option(
    "--raw",
    is_flag=True,
    help="Print FIELD's value alone: no quotes, no trailing newline (for $(...) in scripts).",
)
@located_options
def command(
    address: str | None,
    field: str | None,
    as_json: bool,
    raw: bool,
    config: tuple[str, ...],
    choice: ConfigChoice,
    state: StateChoice,
) -> int:
    """Print the ids and attributes of managed objects (clusters are read live).

    Without ADDR: every managed address (a table, or with --json an object keyed by address).
    With ADDR: that object's outputs; with ADDR FIELD: one value (FIELD may be a dotted path,
    such as workers.count). Everything comes from the state, except a cluster's status,
    nodeIds, masterCount and workerCount: those take one read by id per cluster shown.
    Secrets never appear, not even as the hashes the state keeps.
    """
    if raw and as_json:
        raise UsageError("--raw and --json cannot be used together")
    if raw and field is None:
        raise UsageError("--raw prints one value: give ADDR and FIELD")
    desired, context = locate(config, choice, state)
    store = open_store(context)
    managed = store.read()
    configured = context if desired is not None else None  # else read the current folder's
    if address is None:
        table = _collect(
            store, managed, outputs.managed_addresses(managed), None, configured, state
        )
        click.echo(json.dumps(_keyed(table), indent=2) if as_json else _table(table, store))
        return EXIT_OK
    (addr,) = parse_addresses((address,), "ADDR")
    entry = outputs.managed_entry(managed, addr, store.describe())
    if field is not None and field not in outputs.field_names(addr, entry):
        raise UsageError(
            f"{addr} has no output {field!r}; its outputs: {', '.join(outputs.field_names(addr, entry))}"
        )
    values = _collect(store, managed, [addr], field, configured, state)[addr]
    if field is None:
        click.echo(json.dumps(values, indent=2) if as_json else _lines(values))
        return EXIT_OK
    value = outputs.lookup(values, field)
    if raw:
        if value is None:
            raise UsageError(f"{addr} {field} is null; --json shows it")
        click.echo(outputs.raw_text(value), nl=False)
    else:
        click.echo(json.dumps(value, indent=2 if as_json else None, ensure_ascii=False))
    return EXIT_OK


def _collect(
    store: StateStore,
    state: State,
    addresses: Sequence[Address],
    field: str | None,
    context: RunContext | None,
    choice: StateChoice,
) -> Table:
    """The outputs of ``addresses``; opens a client only if a cluster's live field is needed
    (for ``context``'s target, else the current folder's configuration's), and only at the
    target the state was applied to."""
    if not any(outputs.reads_live(a, field) for a in addresses):
        return {a: outputs.outputs_of(a, state.resources[a], None)[0] for a in addresses}
    context = context or load((), state=choice)[1]
    check_target(store, state, context.target)
    table: Table = {}
    with open_client(context, RunOptions()) as client:
        for address in addresses:
            entry = state.resources[address]
            reader = client if outputs.reads_live(address, field) else None
            table[address], found = outputs.outputs_of(address, entry, reader)
            if not found:
                click.echo(
                    f"warning: {address} ({entry.cloud_id}) was not found in the cloud; its live "
                    "fields are null (`reconciler plan` shows what apply would do)",
                    err=True,
                )
    return table


def _keyed(table: Table) -> dict[str, dict[str, Any]]:
    return {str(address): values for address, values in table.items()}


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _lines(values: Mapping[str, Any]) -> str:
    """One ``name = value`` line per field, nested fields as dotted names (Terraform's view)."""
    return "\n".join(f"{name} = {_shown(value)}" for name, value in outputs.flatten(values))


def _details(values: Mapping[str, Any]) -> str:
    notes = [values["ownership"]]
    notes += ["protected"] if values.get("protected") else []
    notes += ["tainted"] if values.get("tainted") else []
    for name, label in (("masterCount", "masters"), ("workerCount", "workers")):
        if values.get(name) is not None:
            notes.append(f"{values[name]} {label}")
    return ", ".join(notes)


def _table(table: Table, store: StateStore) -> str:
    if not table:
        return (
            f"The state {store.describe()} manages nothing yet (give -c PATH or --env to find "
            "another configuration's state)."
        )
    rows = [("ADDRESS", "ID", "STATUS", "DETAILS")]
    for address, values in table.items():
        status = values.get("status") if "status" in values else "-"
        rows.append((str(address), values["id"], str(status or "not found"), _details(values)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])), row[3]]).rstrip()
        for row in rows
    )
