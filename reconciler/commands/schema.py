"""`reconciler schema [--out DIR]`: write the configuration's JSON Schemas where an editor can
find them.

For: a user's own configuration repository. yaml-language-server (VS Code's YAML extension,
Neovim, Helix, ...) reads the schema named by a modeline on the first line of a YAML file; this
command writes the schemas to DIR (default ``schemas``) and prints the modeline to use: those
written by hand as shipped in the package, byte for byte, and those generated from the kinds'
field tables (``config.schema.json`` and one per kind, a kind registered with
``reconciler.kinds.register`` included). The schemas name each other by relative
``$id``/``$ref`` (``config.schema.json`` refers to ``target.schema.json``), so the written
folder is checked to be complete: every reference resolves to a file beside it. The
repository's own ``schemas/`` folder is this command's output (``reconciler schema --out
schemas``; a test fails when it is not).
Not for: validating a configuration (``reconciler validate``) or the schemas as the
reconciler applies them (``reconciler.config.schema``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from reconciler.config.schema import generated_documents, schema_text, written_documents
from reconciler.errors import ReconcilerError
from reconciler.safefiles import replace_file

CONFIG_SCHEMA = "config.schema.json"
ENVIRONMENT_SCHEMA = "environment.schema.json"
DEFAULT_DIR = "schemas"


def shipped_schemas() -> dict[str, bytes]:
    """Every schema of a configuration, by file name, as the bytes this command writes."""
    generated = {name: schema_text(doc) for name, doc in generated_documents().items()}
    return {**written_documents(), **generated}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def check_self_contained(schemas: dict[str, bytes]) -> None:
    """Each schema's ``$id`` is its file name and each ``$ref`` names a file of the set."""
    problems = []
    for name, raw in sorted(schemas.items()):
        doc = json.loads(raw)
        if doc.get("$id") not in (None, name):
            problems.append(f"{name}: $id is {doc['$id']!r}, not its file name")
        for ref in _refs(doc):
            target = ref.partition("#")[0]
            if target and target not in schemas:
                problems.append(f"{name}: $ref {ref!r} names no schema of the set")
    if problems:
        raise ReconcilerError("the shipped schemas are not self-contained: " + "; ".join(problems))


def write_schemas(out: Path) -> list[Path]:
    schemas = shipped_schemas()
    check_self_contained(schemas)
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, raw in sorted(schemas.items()):
            path = out / name
            replace_file(path, raw)  # never through a link
            written.append(path)
    except OSError as exc:
        raise ReconcilerError(f"{out}: cannot write the schemas: {exc.strerror}") from None
    return written


def modeline(schema: Path, yaml_dir: Path) -> str:
    """The modeline for a YAML file in ``yaml_dir`` (its path is relative to the YAML file)."""
    relative = Path(os.path.relpath(schema.resolve(), yaml_dir.resolve())).as_posix()
    if not relative.startswith("../"):
        relative = "./" + relative
    return f"# yaml-language-server: $schema={relative}"


@click.command(name="schema")
@click.option(
    "--out",
    "out",
    metavar="DIR",
    type=click.Path(file_okay=False),
    default=DEFAULT_DIR,
    show_default=True,
    help="Folder to write the schemas to (created if missing; its schema files are replaced).",
)
def command(out: str) -> None:
    """Write the configuration's JSON Schemas to a folder, for editor completion.

    Copies the schemas shipped with this version to DIR and prints the yaml-language-server
    modeline to put on the first line of each configuration file. Run it from the folder that
    holds your configuration, and again after upgrading the reconciler.
    """
    folder = Path(out)
    written = write_schemas(folder)
    click.echo(f"Wrote {len(written)} schemas to {folder}:")
    for path in written:
        click.echo(f"  {path}")
    here = Path.cwd()
    click.echo(
        "\nFirst line of a configuration file in this folder (adjust the path for subfolders):"
    )
    click.echo(f"  {modeline(folder / CONFIG_SCHEMA, here)}")
    click.echo("First line of an environment file (environments/NAME.yaml):")
    click.echo(f"  {modeline(folder / ENVIRONMENT_SCHEMA, here / 'environments')}")
