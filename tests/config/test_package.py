"""The shape of the config package: split by stage, the names it always exported, no client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import reconciler.config
from reconciler.config import endpoint_problem

PACKAGE = Path(reconciler.config.__file__).parent
STAGES = [
    "documents",
    "yamlload",
    "yamlfull",
    "files",
    "foreign",
    "environments",
    "variables",
    "expansion",
    "schema",
    "fastpath",
    "validation",
    "messages",
    "checks",
    "specs",
    "digest",
    "load",
]


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_one_module_per_stage() -> None:
    assert sorted(p.stem for p in PACKAGE.glob("*.py")) == sorted([*STAGES, "items", "__init__"])


@pytest.mark.parametrize("module", [*STAGES, "items", "__init__"])
def test_config_never_imports_the_client_or_the_commands(module: str) -> None:
    imported = imports_of(PACKAGE / f"{module}.py")
    bad = [
        name
        for name in imported
        if name.startswith(("reconciler.client", "reconciler.commands", "reconciler.cli"))
        or name in ("requests", "reconciler.session")
    ]
    assert bad == []


def test_the_names_imported_before_the_split_are_still_there() -> None:
    for name in [
        "load_desired_state",
        "config_digest",
        "find_files",
        "schema_documents",
        "resolve_secret",
        "PATTERN_HINTS",
        "_validator",
        "_fast_check",
    ]:
        assert hasattr(reconciler.config, name), name


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8765", None),
        ("https://cce.bj.baidubce.com/", None),
        ("http://127.0.0.1:99999", "endpoint 'http://127.0.0.1:99999' has an invalid port"),
        ("http://:80", "endpoint 'http://:80' is not an http:// or https:// URL with a host"),
        ("ftp://host", "endpoint 'ftp://host' is not an http:// or https:// URL with a host"),
        ("http://h/v1", "endpoint 'http://h/v1' must be scheme://host[:port] without a path"),
        ("http://u@h", "endpoint 'http://u@h' must be scheme://host[:port] without a path"),
        ("http://h?q=1", "endpoint 'http://h?q=1' must be scheme://host[:port] without a path"),
    ],
)
def test_endpoint_problem_words(url: str, problem: str | None) -> None:
    assert endpoint_problem(url) == problem
