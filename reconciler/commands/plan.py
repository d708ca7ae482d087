"""`reconciler plan`: refresh, diff and print what apply would do; never changes anything."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

import click

from reconciler.commands.common import (
    config_choice_options,
    paths_argument,
    plan_options,
    run_options,
    state_options,
    use_color,
)
from reconciler.config import config_digest
from reconciler.context import RunContext, location_of
from reconciler.errors import EXIT_CHANGES, EXIT_NEEDS_ALLOW_DELETES, EXIT_OK, EXIT_REFUSED
from reconciler.guards import evaluate
from reconciler.model import ConfigChoice, PlanMode
from reconciler.options import PlanOptions, RunOptions, StateChoice
from reconciler.plan import BLAST_RADIUS, Plan
from reconciler.planner import refresh_only
from reconciler.recovery import RecoveryNote
from reconciler.render import plan_text, plan_to_json
from reconciler.session import EarlyRefresh, Prepared, load, prepare, start
from reconciler.state import LockInfo

if TYPE_CHECKING:
    from reconciler.planfile import SavedPlan


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


def _say_err(message: str) -> None:
    click.echo(message, err=True)


def exit_code(plan: Plan, detailed: bool, mode: PlanMode) -> int:
    """0 nothing to do; 2 changes (--detailed-exitcode); 3 apply would refuse; 6 apply would
    need --allow-deletes (--detailed-exitcode; without it, a warning and 0 or 2)."""
    if mode is PlanMode.REFRESH_ONLY:
        return EXIT_CHANGES if detailed and plan.drifted else EXIT_OK
    if any(r.reason != BLAST_RADIUS for r in plan.refusals):
        return EXIT_REFUSED  # apply would refuse this plan: fail the pull request's check now
    if detailed and plan.refusals:
        return EXIT_NEEDS_ALLOW_DELETES
    return EXIT_CHANGES if detailed and plan.has_changes else EXIT_OK


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
@plan_options("Show only what changed outside the reconciler since the last apply.")
@config_choice_options
@state_options
@run_options
def command(
    paths: tuple[str, ...],
    out: str | None,
    as_json: bool,
    detailed_exitcode: bool,
    options: PlanOptions,
    choice: ConfigChoice,
    state: StateChoice,
    run_options: RunOptions,
) -> int:
    """Show what apply would change."""
    waits = options.lock_timeout > 0  # wait for a running apply, and plan against what it left
    # the refresh starts once the files parse and the target is valid, unless it must wait
    with EarlyRefresh(run_options) as early:
        desired, context = load(paths, choice, state, None if waits else early)
        # the bytes the plan is made from: a file edited while the cloud is read makes it stale
        digests = _file_digests(context) if out else {}
        with start(
            desired,
            context,
            run_options,
            "plan",
            waits,
            options.lock_timeout,
            _say_err,
            early=early,
        ) as run:
            prepared = prepare(run, options)
    plan = evaluate(prepared.plan, prepared.state, options.allow_deletes)
    if options.mode is PlanMode.REFRESH_ONLY:
        plan = refresh_only(plan)
    if as_json:
        click.echo(json.dumps(plan_to_json(plan), indent=2, sort_keys=True))
    else:
        notes = journal_lines(prepared.notes, prepared.holder)
        click.echo(plan_text(plan, options.mode, use_color(), notes))
    if out:
        from reconciler.planfile import write as write_plan  # with --out only

        write_plan(out, saved_plan(plan, options.mode, prepared, context, digests))
        if not as_json:
            click.echo(f"\n{apply_hint(out, context)}")
    return exit_code(plan, detailed_exitcode, options.mode)


def _file_digests(context: RunContext) -> dict[str, str]:
    from reconciler.planfile import file_digests  # with --out only

    return file_digests(context)


def saved_plan(
    plan: Plan,
    mode: PlanMode,
    prepared: Prepared,
    context: RunContext,
    digests: dict[str, str],
) -> SavedPlan:
    """What ``--out`` writes: the plan and what ``apply --plan`` checks it against, with
    ``digests`` of the configuration's files taken right after they were loaded."""
    from reconciler.planfile import SavedConfiguration, SavedPlan, inputs_digest, standing_on

    return SavedPlan(
        plan,
        config_digest(prepared.desired, context.target),
        prepared.state.lineage,
        prepared.state.serial,
        context.target.url(),
        config_paths=context.files,
        mode=mode,
        config_root=context.config_root,
        choice=context.choice,
        state=location_of(context).relative_to(context.config_root),
        file_digests=digests,
        inputs_digest=inputs_digest(context, digests),
        configuration=SavedConfiguration(
            context.target, context.environment, standing_on(plan, prepared.desired)
        ),
        state_digest=prepared.state.read_digest,
    )


def apply_hint(out: str, context: RunContext) -> str:
    """How to apply a saved plan, as a command that works when copied: the plan names its
    state, so no --state is needed (a PostgreSQL password is not kept in it)."""
    hint = f"Saved the plan to {out}. Apply it exactly with: reconciler apply --plan {shlex.quote(out)}"
    if location_of(context).password_dropped:
        hint += " (the plan does not keep the state's password: give it in PGPASSWORD or ~/.pgpass)"
    return hint
