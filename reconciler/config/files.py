"""Which files make up a configuration, and reading them.

For: turning the PATH arguments into the list of YAML files to read (a file whatever its name, a
directory searched recursively for ``*.yaml`` / ``*.yml``, sorted, hidden entries skipped, and
the ``environments/`` folder of the configuration root too: it holds environment files; so are
the paths the root's ``.reconcilerignore`` matches, in gitignore syntax, through ``pathspec``),
reading each into a :class:`Document`, the configuration root (the deepest directory holding
every PATH, whatever their order) and the directory relative secret files are resolved against.
Not for: what the files mean (``schema``, ``checks``, ``specs``) or YAML safety (``yamlload``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.config.yamlload import Diagnostic, Document, LoadError, read_document

YAML_SUFFIXES = (".yaml", ".yml")
ENVIRONMENTS_DIR = "environments"
IGNORE_FILE = ".reconcilerignore"  # gitignore syntax, at the configuration root

if TYPE_CHECKING:
    import pathspec


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
    A directory's files and folders that the root's ``.reconcilerignore`` matches are skipped;
    a file given by name is read whatever it says.
    """
    files: list[str] = []
    problems: list[Diagnostic] = []
    seen = {os.path.realpath(file) for file in exclude}
    root = config_root(paths)
    skip = os.path.realpath(os.path.join(root, ENVIRONMENTS_DIR))
    ignored, unreadable = read_ignore_file(root)
    if unreadable:
        problems.append(unreadable)
    for path in paths:
        found, problem = _files_of(path, skip, ignored)
        if problem:
            problems.append(Diagnostic(path, 0, 0, problem))
        for file in found:
            real = os.path.realpath(file)
            if real not in seen:
                seen.add(real)
                files.append(file)
    return files, problems


def read_ignore_file(root: str) -> tuple[Ignored, Diagnostic | None]:
    """The ``.reconcilerignore`` of the configuration root (gitignore syntax), if it has one."""
    path = os.path.join(root, IGNORE_FILE)
    try:
        with open(path, encoding="utf-8") as stream:
            lines = stream.read().splitlines()
    except FileNotFoundError:
        return Ignored(root, None), None
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        return Ignored(root, None), Diagnostic(path, 0, 0, f"cannot read: {why}")
    import pathspec  # only when there is a file to read: start-up stays fast

    try:
        return Ignored(root, pathspec.GitIgnoreSpec.from_lines(lines)), None
    except ValueError as exc:  # GitWildMatchPatternError is a ValueError
        return Ignored(root, None), Diagnostic(path, 0, 0, f"not a valid pattern list: {exc}")


@dataclass(frozen=True)
class Ignored:
    """What the root's ``.reconcilerignore`` excludes from directory walks."""

    root: str
    spec: pathspec.GitIgnoreSpec | None

    def __call__(self, path: str, is_dir: bool = False) -> bool:
        if self.spec is None:
            return False
        relative = os.path.relpath(path, self.root).replace(os.sep, "/")
        if relative.startswith("../"):
            return False
        return self.spec.match_file(relative + "/" if is_dir else relative)


def _files_of(path: str, skip: str, ignored: Ignored) -> tuple[list[str], str | None]:
    if os.path.isdir(path):
        found = _yaml_files_under(path, skip, ignored)
        if not found and ignored.spec is not None:
            return (
                found,
                f"no YAML files (*.yaml, *.yml) in this directory that {IGNORE_FILE} keeps",
            )
        return found, None if found else "no YAML files (*.yaml, *.yml) in this directory"
    if os.path.isfile(path):
        return [path], None
    if os.path.exists(path):
        return [], "not a regular file or directory"
    return [], "no such file or directory"


def _yaml_files_under(directory: str, skip: str, ignored: Ignored) -> list[str]:
    found: list[tuple[tuple[str, ...], str]] = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and not (d == ENVIRONMENTS_DIR and os.path.realpath(os.path.join(root, d)) == skip)
            and not ignored(os.path.join(root, d), is_dir=True)
        )
        for name in names:
            if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                full = os.path.normpath(os.path.join(root, name))
                if ignored(full):
                    continue
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
