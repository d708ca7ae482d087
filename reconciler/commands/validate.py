"""`reconciler validate [PATH ...] [--check-secrets] [--env NAME | --all-envs]`: check a
configuration without the network.

For: loading the configuration (``reconciler.config``) and printing a one-line summary of what
it declares. Problems are raised as ``ConfigError`` and rendered by ``reconciler.cli``.
Not for: the checks themselves, which live in ``reconciler.config``.
"""

from __future__ import annotations

import click

from reconciler.commands.common import config_choice_options, paths_argument
from reconciler.config import LoadResult, config_root, list_environments, load_config
from reconciler.errors import ConfigError, UsageError
from reconciler.kinds import REGISTRY
from reconciler.kinds import names as kind_names
from reconciler.model import ConfigChoice


@click.command(name="validate")
@paths_argument
@click.option(
    "--check-secrets",
    is_flag=True,
    help="Also resolve every secret reference ({env: ...} / {file: ...}) and report the ones that fail.",
)
@click.option(
    "--all-envs",
    is_flag=True,
    help="Check the configuration once per environments/*.yaml (for a pull-request check).",
)
@config_choice_options
def command(
    paths: tuple[str, ...],
    check_secrets: bool,
    all_envs: bool,
    choice: ConfigChoice,
) -> None:
    """Check the YAML configuration in PATH (files or directories; default: the current directory).

    Runs the JSON Schema and the semantic checks, reports every problem as
    PATH:LINE:COLUMN: error: message, and exits 1 if there is any.
    """
    where = list(paths) or ["."]
    if all_envs and choice.env:
        raise UsageError("give --env NAME or --all-envs, not both")
    names: list[str | None] = [choice.env]
    if all_envs:
        names = list(list_environments(config_root(where)))
        if not names:
            raise UsageError(
                f"--all-envs: no environments/*.yaml under {config_root(where)}; see docs/configuration.md"
            )
    problems: list[str] = []
    for name in names:
        try:
            result = load_config(
                where,
                check_secrets=check_secrets,
                env=name,
                var_files=choice.var_files,
                var_args=choice.var_args,
            )
        except ConfigError as exc:
            problems.extend(exc.diagnostics)
            if all_envs:
                problems.append(f"environment {name}: invalid")
            continue
        for warning in result.warnings:
            click.echo(warning, err=True)
        prefix = f"{name}: " if all_envs else ""
        click.echo(prefix + summary(result))
    if not all_envs and choice.env is None:
        unread = list(list_environments(config_root(where)))
        if unread:  # the root's environments/ folder is read only with --env
            shown = ", ".join(unread)
            click.echo(
                f"note: environments/ ({shown}) not checked: give --env NAME, or --all-envs "
                "to check each",
                err=True,
            )
    if problems:
        raise ConfigError(problems)


def summary(loaded: LoadResult) -> str:
    """``valid: 1 user, 2 namespaces, 5 repositories, 1 cluster (3 files)``: the kinds declared."""
    counts = loaded.desired.counts(kind_names())
    declared = [_count(counts[k.name], k.name, k.plural) for k in REGISTRY if counts[k.name]]
    listed = ", ".join(declared) or "nothing declared"
    return f"valid: {listed} ({_count(len(loaded.files), 'file', 'files')})"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
