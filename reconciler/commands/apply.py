"""`reconciler apply` and `reconciler destroy`: plan, guard, approve, execute, summarise."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import replace

import click

from reconciler.apply import ApplyOptions, Executor, execute, record_drift, summary_lines
from reconciler.commands.common import (
    adopt_option,
    allow_deletes_option,
    config_choice_options,
    lock_timeout_option,
    progress_printer,
    run_options,
    selection_options,
    timeout_option,
    use_color,
)
from reconciler.errors import EXIT_ERROR, EXIT_OK, UsageError
from reconciler.guards import check_guards
from reconciler.kinds import apply_inputs
from reconciler.model import NO_CHOICE, Action, kind_names
from reconciler.plan import Plan
from reconciler.planfile import check_fresh
from reconciler.planfile import read as read_plan
from reconciler.planner import refresh_only
from reconciler.render import render_plan, render_refresh_only
from reconciler.session import (
    ConfigChoice,
    Prepared,
    RunOptions,
    SecretCache,
    is_tty,
    load,
    locked,
    open_client,
    open_store,
    prepare,
)
from reconciler.state import StateStore

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


def run(
    paths: Sequence[str],
    plan_file: str | None,
    auto_approve: bool,
    options: RunOptions,
    targets: Sequence[str],
    replaces: Sequence[str],
    allow_deletes: int | None,
    timeouts: Sequence[str],
    no_color: bool,
    destroying: bool = False,
    refreshing_only: bool = False,
    adopt: bool = False,
    choice: ConfigChoice = NO_CHOICE,
    lock_timeout: float = 0.0,
) -> int:
    saved = read_plan(plan_file) if plan_file else None
    if saved is not None and saved.refresh_only:
        refreshing_only = True
    if saved is not None:
        desired = load(saved.locate_config(plan_file or ""), saved.choice)
    else:
        desired = load(paths, choice)
    apply_options = ApplyOptions(parallelism=options.parallelism, timeouts=parse_timeouts(timeouts))
    store = open_store(options.state, desired, options.workspace)
    cache = SecretCache(desired.base_dir)
    color = use_color(no_color)
    say = progress_printer()
    with (
        locked(store, "destroy" if destroying else "apply", lock_timeout, say),
        open_client(desired.target, desired.base_dir, options) as client,
    ):
        if destroying:
            desired = replace(desired, resources={})
        prepared = prepare(
            desired,
            store,
            client,
            options,
            cache,
            targets,
            replaces,
            destroying=destroying,
            adopt=adopt,
        )
        notes = [f"Recovered: {note}" for note in prepared.notes]
        plan: Plan = prepared.plan
        if saved is not None:
            check_fresh(saved, desired, prepared.state, prepared.live)
            plan = saved.plan
        if refreshing_only:
            return _record_drift(
                store,
                prepared,
                plan if saved else refresh_only(plan),
                color,
                auto_approve or saved is not None,
                notes,
            )
        say(render_plan(plan, color, notes))
        if not plan.has_changes and not plan.conflicts:
            if prepared.recovered:
                store.write(prepared.state)
            return EXIT_OK
        check_guards(plan, prepared.state, allow_deletes, destroying)
        cache.preload([c for c in plan.actionable if c.action is not Action.DELETE])
        if destroying:
            name = desired.target.endpoint or desired.target.region or "bj"
            approve(
                f"\nThis destroys every resource managed in this state at {name}.",
                name,
                auto_approve,
                verb="destroy",
            )
        elif saved is None:
            approve("\nDo you want to perform these actions?", "yes", auto_approve)
        if prepared.recovered:
            # persist what was recovered before a new journal replaces the old one
            prepared.state = store.write(prepared.state)
        prepared.state.target = desired.target.url()
        with store.journal(prepared.state) as journal:
            executor = Executor(
                client,
                journal,
                journal.state,
                cache.value,
                apply_inputs(prepared.desired, prepared.live),
                apply_options,
                say,
            )
            result = execute(plan, executor, options.parallelism, say)
    say("")
    for line in summary_lines(result):
        say(line)
    return EXIT_ERROR if result.failed else EXIT_OK


def _record_drift(
    store: StateStore,
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
            store.write(prepared.state)
        return EXIT_OK
    approve("\nRecord these live values in state?", "yes", approved)
    store.write(record_drift(prepared.state, plan))  # the target was checked by prepare
    click.echo(
        f"\nRecorded {len(plan.drifted)} object(s) as they are in the cloud; nothing was sent."
    )
    return EXIT_OK


@click.command(name="apply")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False),
    help="Apply exactly this saved plan (exit 5 if stale).",
)
@click.option("--auto-approve", is_flag=True, help="Do not ask for approval.")
@click.option(
    "--refresh-only",
    "refreshing_only",
    is_flag=True,
    help="Record in state what changed outside the reconciler; send nothing to the cloud.",
)
@selection_options
@adopt_option
@allow_deletes_option
@timeout_option
@config_choice_options
@lock_timeout_option
@run_options
def command(
    paths: tuple[str, ...],
    plan_file: str | None,
    auto_approve: bool,
    refreshing_only: bool,
    adopt: bool,
    targets: tuple[str, ...],
    replaces: tuple[str, ...],
    allow_deletes: int | None,
    timeouts: tuple[str, ...],
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
    """Make the cloud match the configuration (or apply a saved plan)."""
    if plan_file and (paths or targets or replaces or env or var_files or var_args):
        raise UsageError(
            "--plan applies a saved plan as it is: give no PATH, --target, --replace, --env "
            "or --var with it"
        )
    options = RunOptions(state_spec, workspace, parallelism, rate, retry_budget)
    return run(
        paths,
        plan_file,
        auto_approve,
        options,
        targets,
        replaces,
        allow_deletes,
        timeouts,
        no_color,
        refreshing_only=refreshing_only,
        adopt=adopt,
        choice=ConfigChoice(env, var_files, var_args),
        lock_timeout=lock_timeout,
    )


@click.command(name="destroy")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Do not ask for the target's name.")
@timeout_option
@config_choice_options
@lock_timeout_option
@run_options
def destroy_command(
    paths: tuple[str, ...],
    auto_approve: bool,
    timeouts: tuple[str, ...],
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
    """Delete every resource this state manages (protected ones refuse, exit 3)."""
    options = RunOptions(state_spec, workspace, parallelism, rate, retry_budget)
    return run(
        paths,
        None,
        auto_approve,
        options,
        (),
        (),
        None,
        timeouts,
        no_color,
        destroying=True,
        choice=ConfigChoice(env, var_files, var_args),
        lock_timeout=lock_timeout,
    )
