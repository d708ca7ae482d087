"""`reconciler validate [PATH ...] [--check-secrets]`: check a configuration without the network.

For: loading the configuration (``reconciler.config``) and printing a one-line summary of what
it declares. Problems are raised as ``ConfigError`` and rendered by ``reconciler.cli``.
Not for: the checks themselves, which live in ``reconciler.config``.
"""

from __future__ import annotations

import click

from reconciler.config import load_desired_state
from reconciler.model import DesiredState, plural


@click.command(name="validate")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option(
    "--check-secrets",
    is_flag=True,
    help="Also resolve every secret reference ({env: ...} / {file: ...}) and report the ones that fail.",
)
def command(paths: tuple[str, ...], check_secrets: bool) -> None:
    """Check the YAML configuration in PATH (files or directories; default: the current directory).

    Runs the JSON Schema and the semantic checks, reports every problem as
    PATH:LINE:COLUMN: error: message, and exits 1 if there is any.
    """
    state = load_desired_state(list(paths) or ["."], check_secrets=check_secrets)
    click.echo(summary(state))


def summary(state: DesiredState) -> str:
    """``valid: 1 user, 2 namespaces, 5 repositories, 1 cluster (3 files)``: the kinds declared."""
    declared = [_count(n, kind, plural(kind)) for kind, n in state.counts().items() if n]
    counts = ", ".join(declared) or "nothing declared"
    return f"valid: {counts} ({_count(len(state.files), 'file', 'files')})"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
