"""Applying a prepared run: persist what recovery found, open the journal, walk the plan.

What ``apply`` (and ``destroy``, ``apply --plan``) and each ``watch`` turn share once a run is
prepared (``session.prepare`` / ``session.reread``). It sits between the run assembly
(``session``) and the executor (``apply``), below the commands and the watch loop, so that both
call it without one reaching up into the other. Not for: planning (the plan command imports
neither this nor the executor) or printing a plan.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from reconciler.apply import ApplyOptions, ApplyResult, Executor, SecretSink, execute
from reconciler.kinds import apply_inputs
from reconciler.model import Address
from reconciler.plan import Plan
from reconciler.secrets import write_secret_file
from reconciler.session import Prepared, Run


def execute_prepared(
    run: Run,
    prepared: Prepared,
    plan: Plan,
    options: ApplyOptions,
    say: Callable[[str], None],
    echo: Callable[[str], None],
    executor_type: type[Executor] = Executor,
) -> ApplyResult:
    """Persist what recovery found, then walk the plan with the journal open (``watch`` passes
    an executor that stops starting changes when asked). ``echo`` prints the one line a secret
    delivered to ``-`` goes to."""
    store = run.store
    if prepared.recovered:
        # persist what was recovered before a new journal replaces the old one
        prepared.state = store.write(prepared.state)
    prepared.state.target = run.context.target.url()
    with store.journal(prepared.state) as journal:
        executor = executor_type(
            run.client,
            journal,
            journal.state,
            run.secrets.value,
            apply_inputs(prepared.desired, prepared.live),
            options,
            say,
            secret_sink=secret_sink(run.context.secrets_base, say, echo),
        )
        return execute(plan, executor, options.parallelism, say)


def secret_sink(
    base_dir: str, say: Callable[[str], None], echo: Callable[[str], None]
) -> SecretSink:
    """Where a secret the API shows once goes: a 0600 file relative to the configuration, or
    ``echo`` (the command's standard output) for ``-``, the only line that ever carries it."""

    def deliver(address: Address, destination: str, value: str) -> None:
        if destination == "-":
            echo(f"{address}: secret: {value}")
            return
        write_secret_file(os.path.join(base_dir, os.path.expanduser(destination)), value)
        say(f"{address}: secret written to {destination} (mode 0600)")

    return deliver
