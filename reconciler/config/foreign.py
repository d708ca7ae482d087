"""YAML files under a configuration folder that are not configuration, recognised and skipped.

For: telling, from its content, a file that sits among the configuration files but is something
else, so that it is skipped with a warning saying what it is and where it belongs, instead of
failing on keys the schema does not know:

- a **variable file** (Terraform's ``dev.yaml`` / ``prod.yaml`` beside ``main.yaml``): a
  mapping whose keys are all declared variables and none a configuration section; it belongs in
  ``--var-file`` or ``environments/NAME.yaml``;
- a **kubeconfig** (``apiVersion`` and ``kind: Config``), as ``reconciler kubeconfig --out``
  writes; it holds a credential;
- a **saved plan** (``plan --out`` writes JSON, which is YAML too);
- an **environment file** of another configuration (``environments/NAME.yaml`` below the
  configuration root: values for its variables, not declarations);
- any other **Kubernetes manifest** (``apiVersion`` and ``kind``, no configuration section),
  such as a Deployment that runs ``reconciler watch``.

A file given to ``--var-file`` is never read as configuration at all (``files.find_files``), and
``.reconcilerignore`` excludes any other (``files``).
Not for: checking configuration files (``schema``, ``checks``).
"""

from __future__ import annotations

import os
from collections.abc import Collection

from reconciler.config.files import ENVIRONMENTS_DIR, IGNORE_FILE
from reconciler.config.yamlload import Diagnostic, Document
from reconciler.kinds import sections

CONFIG_KEYS = frozenset({"target", "variables"})  # and every kind's section (the registry's)
SAVED_PLAN_FORMAT = "cce-reconciler-plan/"


def not_configuration(document: Document) -> Diagnostic | None:
    """A warning saying what ``document`` is, when its content alone shows it is not
    configuration (a kubeconfig, another configuration's environment file, a Kubernetes
    manifest, a saved plan); else None. Read before the variables are collected."""
    data = document.data
    if not isinstance(data, dict) or not data:
        return None
    if data.get("kind") == "Config" and "apiVersion" in data:  # it has `users:` too
        return _skipped(
            document,
            "a kubeconfig (it holds a credential: keep it elsewhere, such as the default "
            ".reconciler/kubeconfig/)",
        )
    if _environment_file(document.path, data):
        folder = os.path.dirname(os.path.dirname(document.path)) or "."
        return _skipped(
            document,
            f"an environment file (its variables have values, not declarations): give "
            f"{folder} as PATH with --env {_stem(document)}",
        )
    if (CONFIG_KEYS | sections().keys()) & set(data):
        return None
    if isinstance(data.get("apiVersion"), str) and isinstance(data.get("kind"), str):
        return _skipped(document, f"a Kubernetes manifest (kind: {data['kind']})")
    if str(data.get("format", "")).startswith(SAVED_PLAN_FORMAT):
        return _skipped(document, "a saved plan (`reconciler show` and `apply --plan` read it)")
    return None


def variable_file(document: Document, variables: Collection[str]) -> Diagnostic | None:
    """A warning when ``document`` holds only values of the declared ``variables``."""
    data = document.data
    if not variables or not isinstance(data, dict) or not data or not set(data) <= set(variables):
        return None
    if (CONFIG_KEYS | sections().keys()) & set(data):
        return None  # a variable named like a section: the file is configuration
    stem = _stem(document)
    return _skipped(
        document,
        f"a variable file (its keys are variables: {', '.join(sorted(data))}); give it with "
        f"--var-file {document.path}, or move it to {ENVIRONMENTS_DIR}/{stem}.yaml and use "
        f"--env {stem}",
        looks=True,
    )


def _stem(document: Document) -> str:
    return os.path.splitext(os.path.basename(document.path))[0]


def _environment_file(path: str, data: dict[str, object]) -> bool:
    """``environments/NAME.yaml`` of another configuration (the root's own is never read as
    configuration): values for variables, and at most a target and a state."""
    values = data.get("variables")
    return (
        os.path.basename(os.path.dirname(path)) == ENVIRONMENTS_DIR
        and isinstance(values, dict)
        and bool(values)
        and not any(isinstance(value, dict) for value in values.values())
        and set(data) <= {"variables", "target", "state"}
    )


def _skipped(document: Document, what: str, looks: bool = False) -> Diagnostic:
    verb = "looks like" if looks else "is"
    return Diagnostic(
        document.path,
        1,
        1,
        f"not read as configuration: this file {verb} {what}; add it to {IGNORE_FILE} to "
        "silence this",
        severity="warning",
    )
