"""`reconciler import-terraform TFSTATE [--out DIR]`: move from Terraform's baiducloud provider.

Reads a Terraform state (a file, or ``-`` for the output of ``terraform state pull``), writes
the YAML that declares each supported resource (the files of ``export``, plus ``imports.yaml``:
the ids that adopt them) and reports what it did not convert and why, the secrets it left as
placeholders and the ``terraform state rm`` commands to run once the objects are adopted. It
reads the state only: Terraform's state is never changed and the cloud is not read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.commands.common import emit_files, force_option
from reconciler.errors import EXIT_OK, TerraformStateError, UsageError
from reconciler.export import declaration_files
from reconciler.model import Target
from reconciler.terraform_state import Conversion, Note, convert, read_state


@click.command(name="import-terraform")
@click.argument("tfstate", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Write one file per kind, and imports.yaml, into DIR (default: print them).",
)
@force_option
@click.option("--region", default=None, help="The target's region (Terraform does not record it).")
@click.option("--endpoint", default=None, help="The target's endpoint URL, instead of a region.")
def command(
    tfstate: str, out: str | None, force: bool, region: str | None, endpoint: str | None
) -> int:
    """Write YAML declaring the CCE resources of a Terraform state, to adopt them by id."""
    if region and endpoint:
        raise UsageError("give --region or --endpoint, not both")
    source = "<stdin>" if tfstate == "-" else tfstate
    conversion = convert(read_state(_read(tfstate), source))
    target = _target(conversion, region, endpoint)
    files = declaration_files(
        conversion.entries(),
        target,
        "import-terraform",
        f"the {{what}} in Terraform state {Path(source).name}",
        imports=conversion.imports(),
        target_origin="the target given on its command line"
        if region or endpoint
        else f"the region recorded in Terraform state {Path(source).name}",
    )
    emit_files(files, out, force)
    for line in report(conversion, files, out, target is not None):
        click.echo(line, err=out is None)  # without --out, stdout is only the YAML
    return EXIT_OK


def _read(tfstate: str) -> str:
    try:
        if tfstate == "-":
            return sys.stdin.buffer.read().decode("utf-8")
        return Path(tfstate).read_bytes().decode("utf-8")
    except OSError as exc:
        raise TerraformStateError(f"{tfstate}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise TerraformStateError(
            f"{tfstate}: not UTF-8 text (byte {exc.start}), not a Terraform state"
        ) from None


def _target(conversion: Conversion, region: str | None, endpoint: str | None) -> Target | None:
    """The target given, else the one region the v1 clusters recorded, else none."""
    if region or endpoint:
        return Target(region=region, endpoint=endpoint)
    regions = {
        str(i.attributes["region"])
        for i in conversion.state.instances
        if isinstance(i.attributes.get("region"), str) and i.attributes["region"]
    }
    return Target(region=regions.pop()) if len(regions) == 1 else None


def report(
    conversion: Conversion, files: dict[str, str], out: str | None, has_target: bool
) -> list[str]:
    """What was converted and what was not, the placeholders to set, and what to run next."""
    state = conversion.state
    lines = [
        f"Converted {len(conversion.converted)} of {len(state.instances)} resource instance(s) "
        f"of {state.source} (Terraform {state.terraform_version}, serial {state.serial}):"
    ]
    lines += [
        f"  {c.terraform_address} -> {c.address} (id {c.cloud_id})" for c in conversion.converted
    ]
    if conversion.skipped:
        lines += ["", f"Not converted ({len(conversion.skipped)}):"]
        lines += [f"  {s.terraform_address}: {s.reason}" for s in conversion.skipped]
    sections = (
        (
            "Secrets, never copied from the state file (set these variables before `plan`):",
            conversion.secrets,
        ),
        (
            "Recorded values not valid here, left out (`plan` compares the cloud's):",
            conversion.left_out,
        ),
        ("Derived:", conversion.notes),
        ("Stored by Terraform with no field here yet (not carried over):", conversion.no_field),
    )
    for title, notes in sections:
        if notes:
            lines += ["", title, *_grouped(notes)]
    where = out or "DIR"
    lines += ["", f"Wrote {', '.join(sorted(files))}" + (f" to {out}." if out else ".")]
    if not has_target:
        lines.append(
            f"Terraform's state does not record the target: add {where}/target.yaml with "
            "`target: {region: REGION}` (or give --region / --endpoint)."
        )
    if conversion.placeholders():
        lines.append(f"Set before planning: {', '.join(conversion.placeholders())}.")
    lines += [
        "Next: check the files, then",
        f"  reconciler validate {where}",
        f"  reconciler plan {where}      # each object: `<= ... will be imported`, nothing sent",
        f"  reconciler apply {where}     # adopts them by id: no request changes anything",
        "Then hand them over: in the Terraform working directory, after that apply, run",
        *(f"  {command}" for command in conversion.state_rm_commands()),
    ]
    return lines


def _grouped(notes: tuple[Note, ...]) -> list[str]:
    lines: list[str] = []
    last = None
    for note in notes:
        if note.address != last:
            lines.append(f"  {note.address}:")
            last = note.address
        lines.append(f"    {note.text}")
    return lines
