"""The configuration pipeline: files -> YAML with positions -> variables -> JSON Schema -> checks
-> specs.

For: :func:`load_config`, which runs every stage, collects every problem as
``PATH:LINE:COLUMN: error: message`` and raises :class:`ConfigError` with all of them sorted
(warnings included, since they often explain an error), or returns the desired state with the
warnings for the caller to print; :func:`load_desired_state`, the same without the extras.
Not for: the stages themselves, each in its own module of this package.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from reconciler.config.checks import (
    secret_errors,
    secret_locations,
    semantic_errors,
    sure_target,
)
from reconciler.config.environments import (
    Environment,
    environment_errors,
    environment_of,
    read_environment,
)
from reconciler.config.expansion import Expansion
from reconciler.config.files import config_root, find_files, read_all, secrets_base
from reconciler.config.foreign import not_configuration, variable_file
from reconciler.config.items import declared_kinds, declared_names
from reconciler.config.specs import declared_target, desired_state
from reconciler.config.validation import Checked
from reconciler.config.variables import Sources, resolve
from reconciler.config.yamlload import Diagnostic, Document
from reconciler.errors import ConfigError
from reconciler.gcpause import paused_gc
from reconciler.model import DesiredState, Target

# a configuration's target, surely valid, the kinds it declares entries of and the names it
# declares of a kind, unchecked (load_config)
TargetKnown = Callable[[Target, set[str], Callable[[str], list[str]]], None]

# what an environment file may hold besides its variable values; both may use ${var.NAME}
ENVIRONMENT_EXPANDED = ("target", "state")


@dataclass(frozen=True)
class LoadResult:
    """A valid configuration and what was around it.

    ``desired`` is what it declares and ``target`` where that lives. ``config_root`` is the
    deepest folder holding every PATH: where ``environments/`` is looked up and the state
    belongs by default. ``files`` are the YAML files read, ``secrets_base`` the folder relative
    secret files are read from (the first PATH's). ``environment`` is the ``--env`` file's
    name, state and target. ``warnings`` are formatted like errors (``PATH:LINE:COLUMN:
    warning: message``), sorted, for the caller to print to stderr; they never fail a command.
    ``variables`` holds the value of every declared variable.
    """

    desired: DesiredState
    config_root: str
    target: Target = field(default_factory=Target)
    files: tuple[str, ...] = ()
    secrets_base: str = "."
    environment: Environment | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def load_desired_state(
    paths: Sequence[str],
    *,
    check_secrets: bool = False,
    env: str | None = None,
    var_files: Sequence[str] = (),
    var_args: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> DesiredState:
    """:func:`load_config` without the warnings and the environment."""
    return load_config(
        paths,
        check_secrets=check_secrets,
        env=env,
        var_files=var_files,
        var_args=var_args,
        environ=environ,
    ).desired


def _configuration_only(
    documents: list[Document],
    files: list[str],
    foreign: Callable[[Document], Diagnostic | None],
    diagnostics: list[Diagnostic],
) -> tuple[list[Document], list[str]]:
    """The documents (and files) that are configuration; a warning for each that ``foreign``
    says is not (``reconciler.config.foreign``)."""
    kept: list[Document] = []
    skipped: set[str] = set()
    for document in documents:
        warning = foreign(document)
        if warning is None:
            kept.append(document)
        else:
            diagnostics.append(warning)
            skipped.add(document.path)
    return kept, [file for file in files if file not in skipped]


@paused_gc()
def load_config(
    paths: Sequence[str],
    *,
    check_secrets: bool = False,
    env: str | None = None,
    var_files: Sequence[str] = (),
    var_args: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    on_target: TargetKnown | None = None,
) -> LoadResult:
    """Read every YAML file under ``paths`` into one desired state, or raise :class:`ConfigError`.

    A path is a file (read whatever its name) or a directory (``*.yaml`` / ``*.yml`` below it,
    recursively, sorted; hidden entries, the root's ``environments/`` and the ``var_files``
    skipped). ``env``
    names ``environments/NAME.yaml`` under the configuration root; ``var_files`` and
    ``var_args`` (``NAME=VALUE``) are ``--var-file`` and ``--var`` in command-line order;
    ``environ`` (default ``os.environ``) is read for ``RECONCILER_VAR_<NAME>`` only. Secret
    references are resolved only when ``check_secrets`` is true.

    ``on_target`` is called once every file is read and parsed, the variables are resolved,
    and the target is surely valid (``checks.sure_target``), with that target, the kinds
    the files declare entries of and a function giving the names they declare of a kind
    (unchecked: ``items.declared_names``), before the rest is checked (a plan starts reading
    the cloud then); it is not called for a configuration refused before that point.
    """
    paths = list(paths) or ["."]
    root = config_root(paths)
    files, early = find_files(paths, exclude=var_files)
    documents = read_all(files, early)
    load_failed = len(documents) < len(files)
    environment = None
    if env is not None:
        environment, problems = read_environment(root, env)
        early.extend(problems)
    sources = Sources(
        environment,
        var_files,
        var_args,
        os.environ if environ is None else environ,
        environment_unread=env is not None and environment is None,
    )
    # what its content shows is not configuration declares no variables; a variable file is
    # told by the variables the others declare
    documents, files = _configuration_only(documents, files, not_configuration, early)
    variables, problems = resolve(documents, sources, load_failed=load_failed)
    early.extend(problems)
    declared = variables.declarations
    documents, files = _configuration_only(
        documents, files, lambda document: variable_file(document, declared), early
    )

    expansion = Expansion(variables, report_undeclared=variables.complete)
    documents = [expansion.document(document) for document in documents]
    if environment is not None:
        environment = expansion.document(environment, only=ENVIRONMENT_EXPANDED)
    early.extend(expansion.problems)

    if on_target is not None and not any(d.severity == "error" for d in early):
        target = sure_target([*documents, *([environment] if environment else [])])
        if target is not None:
            on_target(target, declared_kinds(documents), partial(declared_names, documents))

    checked = Checked(documents)
    late = [d for document in documents for d in checked.schema_errors(document)]
    if environment is not None:
        late.extend(environment_errors(environment))
    target_unknown = load_failed or (env is not None and environment is None)
    late.extend(semantic_errors(checked, load_failed=target_unknown, environment=environment))
    secrets_dir = secrets_base(paths[0])
    if check_secrets:
        clean = [item for item in checked.items if checked.clean(item)]
        late.extend(secret_errors(clean, secrets_dir))

    diagnostics = sorted([*early, *expansion.explain(late)])
    if any(d.severity == "error" for d in diagnostics):
        raise ConfigError([str(d) for d in diagnostics])
    declaring: list[Document] = [*documents, *([environment] if environment else [])]
    chosen = environment_of(env, environment, root) if env and environment else None
    return LoadResult(
        desired=replace(
            desired_state(documents, checked.items),
            secret_locations=secret_locations(checked.items),
        ),
        config_root=root,
        target=declared_target(declaring),
        files=tuple(files),
        secrets_base=secrets_dir,
        environment=chosen,
        variables={name: value.value for name, value in variables.values.items()},
        warnings=tuple(str(d) for d in diagnostics),
    )
