"""The layering of ARCHITECTURE.md, checked on the import statements of the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"
PURE = [
    "model",
    "diff",
    "plan",
    "recovery",
    "graph",
    "render",
    "kinds/base",
    "kinds/user",
    "kinds/namespace",
    "kinds/repository",
    "kinds/cluster",
]
FORBIDDEN_FOR_PURE = (
    "reconciler.client",
    "reconciler.emulator",
    "reconciler.cli",
    "reconciler.commands",
    "reconciler.session",
    "reconciler.apply",
    "reconciler.refresh",
    "requests",
    "werkzeug",
    "psycopg",
    "click",
)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_do_not_import_io_layers(module: str) -> None:
    bad = sorted(
        i for i in imports_of(PACKAGE / f"{module}.py") if i.startswith(FORBIDDEN_FOR_PURE)
    )
    assert bad == [], f"reconciler/{module}.py imports {bad}"


def test_only_client_speaks_http() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("client/", "emulator/")):
            continue
        if any(i == "requests" or i.startswith("requests.") for i in imports_of(path)):
            offenders.append(rel)
    assert offenders == []


def test_data_modules_import_nothing_from_the_engine() -> None:
    for name in ("error_codes.py", "client/signer.py"):
        internal = [i for i in imports_of(PACKAGE / name) if i.startswith("reconciler")]
        assert internal == [], f"{name} imports {internal}"
