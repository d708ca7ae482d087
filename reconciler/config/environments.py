"""Environments: one configuration, several deployments (dev, staging, prod ...).

For: finding ``environments/NAME.yaml`` (or ``.yml``) under the configuration root, reading it
(its ``variables:`` values, and optionally its ``target`` and ``state``), listing the
environments of a root, and :class:`Environment`, what the command line needs to pick the
state of one. The file is checked against ``environment.schema.json``; it declares no
resources and is never read as a configuration file.
Not for: choosing the state store (the command line: by default the file state
``.reconciler/envs/NAME/state.json`` under the root, or the PostgreSQL workspace NAME).
"""

from __future__ import annotations

import os
import re

from reconciler.config.files import ENVIRONMENTS_DIR, YAML_SUFFIXES
from reconciler.config.messages import schema_diagnostics, show
from reconciler.config.schema import ENVIRONMENT_SCHEMA, validator
from reconciler.config.yamlload import Diagnostic, Document, JsonPath, LoadError, read_document
from reconciler.model import Target
from reconciler.records import frozen_record

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@frozen_record
class Environment:
    """The environment a configuration was loaded for.

    ``state`` is what its file says, a ``postgresql://`` URL or a path made relative to the
    configuration root, or None for the default; ``target`` is its file's target, if it
    declares one (it is then the desired state's target too).
    """

    name: str
    file: str
    state: str | None = None
    target: Target | None = None


def list_environments(root: str) -> list[str]:
    """The names of the environments under ``root`` (``environments/*.yaml``), sorted."""
    folder = os.path.join(root, ENVIRONMENTS_DIR)
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    names = {
        stem
        for stem, suffix in (os.path.splitext(entry) for entry in entries)
        if suffix in YAML_SUFFIXES
        and NAME.match(stem)
        and os.path.isfile(os.path.join(folder, stem + suffix))
    }
    return sorted(names)


def read_environment(root: str, name: str) -> tuple[Document | None, list[Diagnostic]]:
    """The environment file of ``name`` under ``root``, or why there is none.

    Only the file's shape is checked here; its values are checked against the declarations
    (``variables``) and its target with the configuration's (``checks``).
    """
    if not NAME.match(name):
        message = (
            f"environment name {show(name)} is invalid: letters, digits, "
            '"-" and "_", starting with a letter or digit'
        )
        return None, [Diagnostic("--env", 0, 0, message)]
    found = [
        path
        for path in (_path(root, name, suffix) for suffix in YAML_SUFFIXES)
        if os.path.isfile(path)
    ]
    if not found:
        return None, [_not_found(root, name)]
    if len(found) > 1:
        message = f'environment "{name}" is defined twice: also in {found[1]}'
        return None, [Diagnostic(found[0], 0, 0, message)]
    try:
        document = read_document(found[0], empty=None)
    except LoadError as exc:
        return None, exc.diagnostics
    return document, []


def environment_errors(document: Document) -> list[Diagnostic]:
    """The environment file against ``environment.schema.json``."""
    found: list[Diagnostic] = []
    seen: set[tuple[JsonPath, str]] = set()
    for error in validator(ENVIRONMENT_SCHEMA).iter_errors(document.data):
        jpath = tuple(error.absolute_path)
        if (jpath, str(error.validator)) not in seen:
            seen.add((jpath, str(error.validator)))
            found.extend(schema_diagnostics(document, jpath, error))
    return found


def environment_of(name: str, document: Document, root: str) -> Environment:
    """The :class:`Environment` of a checked environment file."""
    state = document.data.get("state")
    if isinstance(state, str) and not state.startswith(POSTGRES_SCHEMES):
        state = os.path.normpath(os.path.join(root, state))
    target = document.data.get("target")
    return Environment(
        name=name,
        file=document.path,
        state=state,
        target=Target(
            region=target.get("region"),
            endpoint=target.get("endpoint"),
            ccr_endpoint=target.get("ccrEndpoint"),
            location=document.value_at(("target",)),
        )
        if isinstance(target, dict)
        else None,
    )


def _path(root: str, name: str, suffix: str) -> str:
    return os.path.normpath(os.path.join(root, ENVIRONMENTS_DIR, name + suffix))


def _not_found(root: str, name: str) -> Diagnostic:
    known = list_environments(root)
    path = _path(root, name, YAML_SUFFIXES[0])
    if not known:
        message = (
            f'environment "{name}" not found: no environments/*.yaml '
            f"in the configuration root {show(root)}"
        )
        return Diagnostic(path, 0, 0, message)
    message = f'environment "{name}" not found (environments: {", ".join(known)})'
    import difflib  # only to word an error

    close = difflib.get_close_matches(name, known, n=1)
    if close:
        message += f'; did you mean "{close[0]}"?'
    return Diagnostic(path, 0, 0, message)
