"""`reconciler plan`: refresh, diff and print what apply would do; never changes anything."""

from __future__ import annotations

import json
import shlex
from contextlib import ExitStack

import click

from reconciler.commands.common import (
    adopt_option,
    allow_deletes_option,
    config_choice_options,
    lock_timeout_option,
    paths_argument,
    run_options,
    selection_options,
    use_color,
)
from reconciler.config import config_digest
from reconciler.errors import EXIT_CHANGES, EXIT_NEEDS_ALLOW_DELETES, EXIT_OK, EXIT_REFUSED
from reconciler.guards import evaluate
from reconciler.plan import BLAST_RADIUS, Plan
from reconciler.planfile import SavedPlan, file_digests
from reconciler.planfile import write as write_plan
from reconciler.planner import refresh_only
from reconciler.recovery import RecoveryNote
from reconciler.render import plan_to_json, render_plan, render_refresh_only
from reconciler.session import (
    ConfigChoice,
    RunOptions,
    SecretCache,
    load,
    locked,
    open_client,
    open_store,
    prepare,
    read_state,
)
from reconciler.state import LockInfo, StateStore


def journal_lines(notes: list[RecoveryNote], holder: LockInfo | None) -> list[str]:
    """What a plan (which writes nothing) says of a journal it read: another run's changes in
    flight, or an interrupted run's that the next apply records."""
    if holder is not None:
        lines = [
            f"Note: another run is applying now ({holder.describe()}); this plan counts "
            f"its {len(notes)} finished change(s) and may differ once it ends."
        ]
        return lines + [f"In flight: {n.in_flight()}" for n in notes]
    return [f"Interrupted run: {n.interrupted()}" for n in notes]


def apply_hint(out: str, store: StateStore) -> str:
    """How to apply a saved plan, as a command that works when copied: the plan names its
    state, so no --state is needed (a PostgreSQL password is not kept in it)."""
    hint = f"Saved the plan to {out}. Apply it exactly with: reconciler apply --plan {shlex.quote(out)}"
    if store.location().password_dropped:
        hint += " (the plan does not keep the state's password: give it in PGPASSWORD or ~/.pgpass)"
    return hint


def _say_err(message: str) -> None:
    click.echo(message, err=True)


def exit_code(plan: Plan, detailed: bool, refreshing_only: bool) -> int:
    """0 nothing to do; 2 changes (--detailed-exitcode); 3 apply would refuse; 6 apply would
    need --allow-deletes (--detailed-exitcode; without it, a warning and 0 or 2)."""
    refusals = [r for r in plan.refusals if r.reason != BLAST_RADIUS]
    if refusals and not refreshing_only:
        return EXIT_REFUSED  # apply would refuse this plan: fail the pull request's check now
    if detailed and plan.refusals and not refreshing_only:
        return EXIT_NEEDS_ALLOW_DELETES
    changed = bool(plan.drifted) if refreshing_only else plan.has_changes
    return EXIT_CHANGES if detailed and changed else EXIT_OK


@click.command(name="plan")
@paths_argument
@click.option(
    "--out", "out", type=click.Path(dir_okay=False), help="Save the plan for `apply --plan FILE`."
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing changes, 2 when something would, 6 when apply would need --allow-deletes.",
)
@click.option(
    "--refresh-only",
    "refresh_only_mode",
    is_flag=True,
    help="Show only what changed outside the reconciler since the last apply.",
)
@selection_options
@adopt_option
@allow_deletes_option
@config_choice_options
@lock_timeout_option
@run_options
def command(
    paths: tuple[str, ...],
    out: str | None,
    as_json: bool,
    detailed_exitcode: bool,
    refresh_only_mode: bool,
    adopt: bool,
    targets: tuple[str, ...],
    replaces: tuple[str, ...],
    allow_deletes: int | None,
    env: str | None,
    var_files: tuple[str, ...],
    var_args: tuple[str, ...],
    lock_timeout: float,
    state_spec: str | None,
    workspace: str,
    parallelism: int,
    rate: float | None,
    no_color: bool,
    retry_budget: int,
) -> int:
    """Show what apply would change."""
    choice = ConfigChoice(env, var_files, var_args)
    desired = load(paths, choice)
    options = RunOptions(state_spec, workspace, parallelism, rate, retry_budget)
    store = open_store(state_spec, desired, workspace)
    cache = SecretCache(desired.base_dir)
    holder = None
    with ExitStack() as stack:
        if lock_timeout > 0:  # wait for a running apply, and plan against what it left
            stack.enter_context(locked(store, "plan", lock_timeout, _say_err))
        else:
            holder = store.holder()
        raw = read_state(store, desired.target)
        client = stack.enter_context(open_client(desired.target, desired.base_dir, options))
        prepared = prepare(
            desired, store, raw, client, options, cache, targets, replaces, adopt=adopt
        )
    plan = evaluate(prepared.plan, prepared.state, allow_deletes)
    if refresh_only_mode:
        plan = refresh_only(plan)
    color = use_color(no_color)
    if as_json:
        click.echo(json.dumps(plan_to_json(plan), indent=2, sort_keys=True))
    else:
        render = render_refresh_only if refresh_only_mode else render_plan
        click.echo(render(plan, color, journal_lines(prepared.notes, holder)))
        guard = [r.message for r in plan.refusals if r.reason == BLAST_RADIUS]
        if guard:
            click.echo(f"\nWarning: {guard[0]}")
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
                refresh_only=refresh_only_mode,
                config_root=desired.config_root,
                choice=choice,
                state=store.location().relative_to(desired.config_root),
                file_digests=file_digests(desired, choice),
            ),
        )
        if not as_json:
            click.echo(f"\n{apply_hint(out, store)}")
    return exit_code(plan, detailed_exitcode, refresh_only_mode)
