"""`reconciler apply` and `reconciler destroy`: plan (or take a saved plan), guard, approve,
execute, summarise."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import replace

import click

from reconciler import __version__
from reconciler.apply import ApplyOptions, record_drift, summary_lines
from reconciler.commands.common import (
    config_choice_options,
    destroy_options,
    paths_argument,
    plan_options,
    progress_printer,
    run_options,
    state_options,
    timeout_option,
    use_color,
)
from reconciler.context import RunContext, for_saved_plan
from reconciler.errors import EXIT_ERROR, EXIT_OK, UsageError
from reconciler.execution import execute_prepared
from reconciler.guards import check_guards
from reconciler.kinds import names as kind_names
from reconciler.model import (
    NO_CHOICE,
    Action,
    ConfigChoice,
    DesiredState,
    PlanMode,
)
from reconciler.options import PlanOptions, RunOptions, StateChoice
from reconciler.plan import Plan
from reconciler.planfile import SavedPlan, unchanged_configuration
from reconciler.planfile import read as read_plan
from reconciler.planner import refresh_only
from reconciler.render import render_plan, render_refresh_only
from reconciler.session import (
    TARGETED_APPLY_WARNING,
    TARGETING_WARNING,
    Prepared,
    Run,
    is_tty,
    load,
    prepare,
    reread,
    start,
)

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smh]?)$")


def parse_timeouts(values: Sequence[str]) -> dict[str, float]:
    timeouts: dict[str, float] = {}
    for value in values:
        kind, sep, text = value.partition("=")
        match = _DURATION.match(text.strip())
        if not sep or not match or kind not in kind_names():
            raise UsageError(
                f"--timeout {value}: expected KIND=DURATION, e.g. cluster=30m (s, m or h), "
                f"with KIND one of {', '.join(kind_names())}"
            )
        timeouts[kind] = float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    return timeouts


def approve(question: str, expected: str, auto_approve: bool, verb: str = "apply") -> None:
    if auto_approve:
        return
    if not is_tty(sys.stdin):
        raise UsageError(
            f"refusing to {verb} without approval: standard input is not a terminal; rerun with --auto-approve"
        )
    click.echo(question)
    try:
        answer = click.prompt(
            f"  Only '{expected}' will be accepted", default="", show_default=False
        )
    except click.exceptions.Abort:  # Ctrl-D or Ctrl-C at the prompt: nothing has happened yet
        raise UsageError(f"{verb} cancelled; nothing was changed") from None
    if answer.strip() != expected:
        raise UsageError(f"{verb} cancelled; nothing was changed")


def apply_run(
    desired: DesiredState,
    context: RunContext,
    options: PlanOptions,
    run_options: RunOptions,
    auto_approve: bool,
    timeouts: Sequence[str],
    saved: SavedPlan | None = None,
) -> int:
    """Plan (or take ``saved``, checked against what it was made from), guard, approve and
    execute, under the state's lock: the body of apply, ``apply --plan`` and destroy."""
    apply_options = ApplyOptions(
        parallelism=run_options.parallelism, timeouts=parse_timeouts(timeouts)
    )
    color = use_color()
    say = progress_printer()
    operation = "destroy" if options.mode is PlanMode.DESTROY else "apply"
    known = saved.state_digest if saved and saved.version == __version__ else None
    with start(
        desired, context, run_options, operation, True, options.lock_timeout, say, known=known
    ) as run:
        prepared = reread(run, saved) if saved else prepare(run, options)
        notes = [f"Recovered: {note}" for note in prepared.notes]
        plan = prepared.plan
        if options.mode is PlanMode.REFRESH_ONLY:
            drift = plan if saved else refresh_only(plan)
            return _record_drift(
                run, prepared, drift, color, auto_approve or saved is not None, notes
            )
        say(render_plan(plan, color, notes, operation))
        if not plan.has_changes and not plan.conflicts:
            if prepared.recovered:
                run.store.write(prepared.state)
            return EXIT_OK
        check_guards(plan, prepared.state, options.allow_deletes, options.mode)
        run.secrets.preload([c for c in plan.actionable if c.action is not Action.DELETE])
        _approve_changes(context, options.mode, auto_approve, saved is not None)
        result = execute_prepared(run, prepared, plan, apply_options, say, click.echo)
    say("")
    for line in summary_lines(result, options.mode is PlanMode.DESTROY):
        say(line)
    if TARGETING_WARNING in plan.warnings:
        say(f"\n{TARGETED_APPLY_WARNING}")
    return EXIT_ERROR if result.failed else EXIT_OK


def _approve_changes(context: RunContext, mode: PlanMode, auto_approve: bool, saved: bool) -> None:
    """Destroy asks for the target's name; apply for "yes", unless the plan was saved (its
    review was the approval)."""
    if mode is PlanMode.DESTROY:
        name = context.target.endpoint or context.target.region or "bj"
        approve(
            f"\nThis destroys every resource managed in this state at {name}.",
            name,
            auto_approve,
            verb="destroy",
        )
    elif not saved:
        approve("\nDo you want to perform these actions?", "yes", auto_approve)


def _record_drift(
    run: Run,
    prepared: Prepared,
    plan: Plan,
    color: bool,
    approved: bool,
    notes: list[str],
) -> int:
    """`apply --refresh-only`: record the live values of drifted fields in state; the cloud is
    not touched."""
    click.echo(render_refresh_only(plan, color, notes))
    if not plan.drifted:
        if prepared.recovered:
            run.store.write(prepared.state)
        return EXIT_OK
    approve("\nRecord these live values in state?", "yes", approved)
    run.store.write(record_drift(prepared.state, plan))  # the target was checked on reading
    click.echo(
        f"\nRecorded {len(plan.drifted)} object(s) as they are in the cloud; nothing was sent."
    )
    return EXIT_OK


@click.command(name="apply")
@paths_argument
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False),
    help="Apply exactly this saved plan (exit 5 if stale).",
)
@click.option("--auto-approve", is_flag=True, help="Do not ask for approval.")
@plan_options("Record in state what changed outside the reconciler; send nothing to the cloud.")
@timeout_option
@config_choice_options
@state_options
@run_options
def command(
    paths: tuple[str, ...],
    plan_file: str | None,
    auto_approve: bool,
    timeouts: tuple[str, ...],
    options: PlanOptions,
    choice: ConfigChoice,
    state: StateChoice,
    run_options: RunOptions,
) -> int:
    """Make the cloud match the configuration (or apply a saved plan)."""
    if plan_file is None:
        desired, context = load(paths, choice, state)
        return apply_run(desired, context, options, run_options, auto_approve, timeouts)
    if paths or options.targets or options.replaces or choice != NO_CHOICE:
        raise UsageError(
            "--plan applies a saved plan as it is: give no PATH, --target, --replace, --env "
            "or --var with it"
        )
    saved = read_plan(plan_file)
    located = saved.locate_config(plan_file)
    # the configuration the plan records, when its inputs are what they were; else loaded
    desired, context = unchanged_configuration(saved, located, state) or load(
        located, saved.choice, state
    )
    context = for_saved_plan(plan_file, saved.state, context, state)  # exactly its state
    if options.mode is PlanMode.NORMAL:  # the saved plan's mode, unless --refresh-only
        options = replace(options, mode=saved.mode)
    return apply_run(desired, context, options, run_options, auto_approve, timeouts, saved)


@click.command(name="destroy")
@paths_argument
@click.option("--auto-approve", is_flag=True, help="Do not ask for the target's name.")
@destroy_options
@timeout_option
@config_choice_options
@state_options
@run_options
def destroy_command(
    paths: tuple[str, ...],
    auto_approve: bool,
    timeouts: tuple[str, ...],
    options: PlanOptions,
    choice: ConfigChoice,
    state: StateChoice,
    run_options: RunOptions,
) -> int:
    """Delete every resource this state manages (protected ones refuse, exit 3)."""
    desired, context = load(paths, choice, state)
    return apply_run(desired, context, options, run_options, auto_approve, timeouts)
