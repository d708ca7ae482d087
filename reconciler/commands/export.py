"""`reconciler export [PATH] [--kind KIND ...] [--out DIR]`: YAML for what the target holds.

For adopting an existing account: export, check the files, then `reconciler apply --adopt`.
The target comes from the configuration at PATH (only its ``target`` is needed).
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands.common import (
    config_choice_options,
    emit_files,
    force_option,
    paths_argument,
    run_options,
    state_options,
)
from reconciler.errors import EXIT_OK
from reconciler.export import export_files, exportable_kinds, left_out, not_found
from reconciler.model import ConfigChoice
from reconciler.options import RunOptions, StateChoice
from reconciler.refresh import refresh
from reconciler.session import LOCAL, load, open_client, open_store, read_state
from reconciler.state import State


class RegisteredKind(click.Choice):
    """``--kind``: a kind that can be exported, read from the registry whenever the option is
    checked or shown. ``click.Choice`` copies the values it is given when the command is
    declared, so a kind registered after this module was imported would be refused."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(exportable_kinds())

    @choices.setter
    def choices(self, _: object) -> None:
        """``click.Choice.__init__`` sets its copy; the registry stays the one source."""


@click.command(name="export")
@paths_argument
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=RegisteredKind(),
    help="Only this kind (repeatable; default: every kind).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Write one file per kind into DIR (default: print one YAML document).",
)
@force_option
@config_choice_options
@state_options
@run_options
def command(
    paths: tuple[str, ...],
    kinds: tuple[str, ...],
    out: str | None,
    force: bool,
    choice: ConfigChoice,
    state: StateChoice,
    run_options: RunOptions,
) -> int:
    """Write YAML declaring the live objects of the target, to adopt an existing account."""
    _, context = load(paths, choice, state)
    target = context.target
    read_state(open_store(context), target)  # an environment applied elsewhere: not here
    if target.endpoint == LOCAL:
        click.echo(
            "Warning: the target is the embedded emulator (endpoint: local), whose database "
            f"lives under {context.state_dir}: the exported files, used from another folder, "
            "start another, empty emulator. Run `reconciler emulator` and point both at its URL "
            "to rehearse an adoption.",
            err=True,
        )
    with open_client(context, run_options) as client:
        live = refresh(client, State(lineage="export"), run_options.parallelism)
        files = export_files(live, client, target, kinds)
    emit_files(files, out, force)
    for kind in not_found(kinds, files):
        click.echo(
            f"Note: the target has no {kind} objects; nothing of that kind was written.", err=True
        )
    for kind, missing in left_out(kinds, files).items():
        adding = " ".join(f"--kind {name}" for name in missing)
        click.echo(
            f"Warning: the exported {kind} entries refer to {' and '.join(missing)} objects "
            f"that --kind left out, so `reconciler validate` will refuse them: add {adding}, "
            "or declare those objects yourself.",
            err=True,
        )
    if out is None:
        return EXIT_OK
    folder = Path(out)
    click.echo(f"Wrote {', '.join(sorted(files))} to {out}.")
    click.echo(
        f"Next: `reconciler schema --out {folder / 'schemas'}` for editor support, "
        f"`reconciler validate {out}`, then `reconciler apply {out} --adopt`."
    )
    return EXIT_OK
