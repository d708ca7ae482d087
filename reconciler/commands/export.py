"""`reconciler export [PATH] [--kind KIND ...] [--out DIR]`: YAML for what the target holds.

For adopting an existing account: export, check the files, then `reconciler apply --adopt`.
The target comes from the configuration at PATH (only its ``target`` is needed).
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands.common import config_choice_options, emit_files, run_options
from reconciler.errors import EXIT_OK
from reconciler.export import export_files, exportable_kinds
from reconciler.model import ConfigChoice
from reconciler.refresh import refresh
from reconciler.session import LOCAL, RunOptions, load_target, open_client
from reconciler.state import State


@click.command(name="export")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(exportable_kinds()),
    help="Only this kind (repeatable; default: every kind).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Write one file per kind into DIR (default: print one YAML document).",
)
@config_choice_options
@run_options
def command(
    paths: tuple[str, ...],
    kinds: tuple[str, ...],
    out: str | None,
    env: str | None,
    var_files: tuple[str, ...],
    var_args: tuple[str, ...],
    state_spec: str | None,
    workspace: str,
    parallelism: int,
    rate: float | None,
    no_color: bool,
    retry_budget: int,
) -> int:
    """Write YAML declaring the live objects of the target, to adopt an existing account."""
    target, base_dir = load_target(paths, ConfigChoice(env, var_files, var_args))
    if target.endpoint == LOCAL:
        click.echo(
            "Warning: the target is the embedded emulator (endpoint: local), whose database "
            f"lives under {base_dir}/.reconciler: the exported files, used from another folder, "
            "start another, empty emulator. Run `reconciler emulator` and point both at its URL "
            "to rehearse an adoption.",
            err=True,
        )
    options = RunOptions(state_spec, workspace, parallelism, rate, retry_budget)
    with open_client(target, base_dir, options) as client:
        live = refresh(client, State(lineage="export"), parallelism)
        files = export_files(live, client, target, kinds)
    emit_files(files, out)
    if out is None:
        return EXIT_OK
    folder = Path(out)
    click.echo(f"Wrote {', '.join(sorted(files))} to {out}.")
    click.echo(
        f"Next: `reconciler schema --out {folder / 'schemas'}` for editor support, "
        f"`reconciler validate {out}`, then `reconciler apply {out} --adopt`."
    )
    return EXIT_OK
