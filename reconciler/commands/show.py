"""`reconciler show PLANFILE [--json | --markdown]`: print a saved plan; reads nothing else.

For: turning a plan saved by ``plan --out`` into the terminal view (``render``), the JSON of
``plan --json`` (the unchanged resources, which a saved plan only counts, in its summary and
not among its changes), or a Markdown comment for a pull request (``markdown``). No cloud, state or
config is read, so a CI job can post the plan that ``apply --plan`` will later execute.
Not for: checking whether the saved plan is still fresh (``apply --plan`` does that, exit 5).
"""

from __future__ import annotations

import json

import click

from reconciler.commands.common import use_color
from reconciler.markdown import GITHUB_COMMENT_LIMIT, plan_to_markdown
from reconciler.planfile import read
from reconciler.render import plan_text, plan_to_json


@click.command(name="show")
@click.argument("plan_file", metavar="PLANFILE", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (as `plan --json`).")
@click.option(
    "--markdown",
    "as_markdown",
    is_flag=True,
    help="Print the plan as Markdown for a pull-request comment.",
)
@click.option(
    "--limit",
    type=click.IntRange(1000),
    default=GITHUB_COMMENT_LIMIT,
    show_default=True,
    help="With --markdown: at most this many characters (GitHub's comment limit by default).",
)
@click.option("--no-color", is_flag=True, hidden=True)
def command(plan_file: str, as_json: bool, as_markdown: bool, limit: int, no_color: bool) -> None:
    """Print a saved plan (from `plan --out`) as text, JSON or Markdown.

    Reads only PLANFILE: no cloud, state or configuration. --markdown writes a pull-request
    comment that stays under --limit characters by folding the largest resource diffs.
    """
    if as_json and as_markdown:
        raise click.UsageError("--json and --markdown cannot be used together")
    saved = read(plan_file)
    if as_json:
        click.echo(json.dumps(plan_to_json(saved.plan), indent=2, sort_keys=True))
    elif as_markdown:
        click.echo(
            plan_to_markdown(saved.plan, limit, plan_file=plan_file, mode=saved.mode),
            nl=False,
        )
    else:
        click.echo(plan_text(saved.plan, saved.mode, use_color(no_color)))
