"""`reconciler plan`: refresh, diff and print what apply would do; never changes anything."""

from __future__ import annotations

import json

import click

from reconciler.commands.common import run_options, selection_options
from reconciler.config import config_digest
from reconciler.errors import EXIT_CHANGES, EXIT_OK, EXIT_REFUSED
from reconciler.guards import blast_radius_warning
from reconciler.planfile import SavedPlan
from reconciler.planfile import write as write_plan
from reconciler.render import plan_to_json, render_plan
from reconciler.session import (
    RunOptions,
    SecretCache,
    is_tty,
    load,
    open_client,
    open_store,
    prepare,
)


@click.command(name="plan")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--out", "out", type=click.Path(dir_okay=False), help="Save the plan for `apply --plan FILE`."
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 when nothing changes, 2 when something would."
)
@selection_options
@run_options
def command(
    paths: tuple[str, ...],
    out: str | None,
    as_json: bool,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    replaces: tuple[str, ...],
    state_spec: str | None,
    workspace: str,
    parallelism: int,
    rate: float | None,
    no_color: bool,
    retry_budget: int,
) -> int:
    """Show what apply would change. Reads the cloud; writes nothing but --out."""
    desired = load(paths)
    options = RunOptions(state_spec, workspace, parallelism, rate, retry_budget)
    store = open_store(state_spec, desired.base_dir, workspace)
    cache = SecretCache(desired.base_dir)
    with open_client(desired.target, desired.base_dir, options) as client:
        prepared = prepare(desired, store, client, options, cache, targets, replaces)
    plan = prepared.plan
    if as_json:
        click.echo(json.dumps(plan_to_json(plan), indent=2, sort_keys=True))
    else:
        for note in prepared.notes:
            click.echo(f"Recovered: {note}")
        click.echo(render_plan(plan, color=is_tty() and not no_color))
        guard = blast_radius_warning(plan, prepared.state)
        if guard:
            click.echo(f"\nWarning: {guard}")
    if out:
        write_plan(
            out,
            SavedPlan(
                plan,
                config_digest(desired),
                prepared.state.lineage,
                prepared.state.serial,
                desired.target.url(),
                config_paths=desired.files,
            ),
        )
        if not as_json:
            click.echo(
                f"\nSaved the plan to {out}. Apply it exactly with: reconciler apply --plan {out}"
            )
    if plan.conflicts or plan.refused:
        return EXIT_REFUSED  # apply would refuse this plan: fail the pull request's check now
    if detailed_exitcode and plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK
