"""`reconciler doctor [PATH]`: read-only checks of the target before the first real run.

For: telling a user, before any plan or apply, whether the endpoint of the configuration at
PATH accepts the credentials (a signed GET), whether this machine's clock is close enough to
the server's ``Date`` for signatures to be accepted, and whether each answer the reconciler
reads has the shape the client expects, for every API the configuration uses: the kinds'
probes (``Kind.probes``, ``reconciler.probes``) of the v1 registry, v1 clusters, CCE v2
clusters, instance groups and add-ons, and the day-2 APIs the declarations use (the cluster
autoscaler, node-upgrade versions). The probes of a kind the configuration does not declare are
listed as skipped, saying so; a configuration that declares nothing is checked against every
API. A mismatch names the key and shows the keys the answer had, so that a wrong guess about
the real API (docs/api-contract.md) is seen before a plan decides anything from it.
Not for: changing anything. Only GETs are sent, and each list is read one page deep.

Exit 0 when every check passed (warnings and notes included), 1 on a mismatch or a failure.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from reconciler.client.v1 import CceClient
from reconciler.commands.common import config_choice_options, paths_argument, state_options
from reconciler.errors import EXIT_ERROR, EXIT_OK
from reconciler.kinds import REGISTRY
from reconciler.model import ConfigChoice, DesiredState
from reconciler.options import RunOptions, StateChoice
from reconciler.probes import FAILING, MISMATCH, NOTE, Check, Doctor, check_clock, run_probes
from reconciler.session import load, open_client, open_store, read_state

__all__ = ["Check", "Doctor", "check_clock", "command", "run_checks"]


def run_checks(client: CceClient, desired: DesiredState | None = None) -> list[Check]:
    """The probes (``Kind.probes``) of every kind the configuration uses, phase by phase;
    the others are listed as skipped."""
    return run_probes(client, REGISTRY, desired)


# --- output ------------------------------------------------------------------------------------


def render_text(endpoint: str, checks: list[Check]) -> str:
    lines = [f"Checking {endpoint} (read-only: GET requests only)", ""]
    for check in checks:
        rid = f" [request id {check.request_id}]" if check.request_id else ""
        lines.append(
            f"  {check.status:<9} {check.name:<15} {check.request:<28} {check.detail}{rid}"
        )
        if check.keys is not None and check.status in (MISMATCH, NOTE):
            lines.append(
                f"  {'':<9} {'':<15} keys in the answer: {', '.join(check.keys) or '(none)'}"
            )
    failing = [c for c in checks if c.status in FAILING]
    lines.append("")
    if any(c.status == MISMATCH for c in failing):
        lines.append(
            f"{len(failing)} problem(s): plan and apply would stop on these answers "
            "(see docs/api-contract.md for the shapes the client expects)."
        )
    elif failing:
        lines.append(
            f"{len(failing)} problem(s): the target did not answer as a CCE endpoint should "
            "(check the endpoint, the BCE_* keys and this machine's clock)."
        )
    else:
        lines.append("All checks passed.")
    return "\n".join(lines)


def to_json(endpoint: str, checks: list[Check]) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "ok": not any(c.status in FAILING for c in checks),
        "checks": [asdict(c) for c in checks],
    }


@click.command(name="doctor")
@paths_argument
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@config_choice_options
@state_options
def command(paths: tuple[str, ...], as_json: bool, choice: ConfigChoice, state: StateChoice) -> int:
    """Check the target before a first run: credentials, clock, answer shapes. Read-only."""
    desired, context = load(paths, choice, state)
    read_state(open_store(context), context.target)  # a state applied elsewhere: not here
    with open_client(context, RunOptions(retry_budget=2)) as client:
        endpoint = client.transport.endpoint
        checks = run_checks(client, desired)
    if as_json:
        click.echo(json.dumps(to_json(endpoint, checks), indent=2, sort_keys=True))
    else:
        click.echo(render_text(endpoint, checks))
    return EXIT_ERROR if any(c.status in FAILING for c in checks) else EXIT_OK
