"""Which files make up a configuration, and reading them.

For: turning the PATH arguments into the list of YAML files to read (a file whatever its name, a
directory searched recursively for ``*.yaml`` / ``*.yml``, sorted, hidden entries skipped, and
the ``environments/`` folder of the configuration root too: it holds environment files),
reading each into a :class:`Document`, the configuration root (the deepest directory holding
every PATH, whatever their order) and the directory relative secret files are resolved against.
Not for: what the files mean (``schema``, ``checks``, ``specs``) or YAML safety (``yamlload``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from reconciler.config.yamlload import Diagnostic, Document, LoadError, read_document

YAML_SUFFIXES = (".yaml", ".yml")
ENVIRONMENTS_DIR = "environments"


def config_root(paths: Sequence[str]) -> str:
    """The deepest directory that holds every PATH: a directory PATH counts as itself, any other
    as its parent. Relative (to the working directory) when every PATH is relative."""
    paths = list(paths) or ["."]
    folders = [
        os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
        for path in paths
    ]
    common = os.path.commonpath(folders)
    if any(os.path.isabs(path) for path in paths):
        return common
    return os.path.relpath(common)


def find_files(
    paths: Sequence[str], *, exclude: Sequence[str] = ()
) -> tuple[list[str], list[Diagnostic]]:
    """The files to read, each once, and a diagnostic for each path that yields none.

    ``exclude`` are files that are not configuration even when under a PATH (``--var-file``).
    """
    files: list[str] = []
    problems: list[Diagnostic] = []
    seen = {os.path.realpath(file) for file in exclude}
    skip = os.path.realpath(os.path.join(config_root(paths), ENVIRONMENTS_DIR))
    for path in paths:
        found, problem = _files_of(path, skip)
        if problem:
            problems.append(Diagnostic(path, 0, 0, problem))
        for file in found:
            real = os.path.realpath(file)
            if real not in seen:
                seen.add(real)
                files.append(file)
    return files, problems


def _files_of(path: str, skip: str) -> tuple[list[str], str | None]:
    if os.path.isdir(path):
        found = _yaml_files_under(path, skip)
        return found, None if found else "no YAML files (*.yaml, *.yml) in this directory"
    if os.path.isfile(path):
        return [path], None
    if os.path.exists(path):
        return [], "not a regular file or directory"
    return [], "no such file or directory"


def _yaml_files_under(directory: str, skip: str) -> list[str]:
    found: list[tuple[tuple[str, ...], str]] = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and not (d == ENVIRONMENTS_DIR and os.path.realpath(os.path.join(root, d)) == skip)
        )
        for name in names:
            if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                full = os.path.normpath(os.path.join(root, name))
                found.append((tuple(os.path.relpath(full, directory).split(os.sep)), full))
    return [full for _, full in sorted(found)]


def read_all(files: list[str], diagnostics: list[Diagnostic]) -> list[Document]:
    """Every file that loads; the problems of the others are added to ``diagnostics``."""
    documents = []
    for file in files:
        try:
            documents.append(read_document(file))
        except LoadError as exc:
            diagnostics.extend(exc.diagnostics)
    return documents


def secrets_base(first: str) -> str:
    """The directory relative secret files are read from: the first PATH's."""
    if os.path.isdir(first):
        return os.path.normpath(first)
    return os.path.dirname(os.path.normpath(first)) or "."
