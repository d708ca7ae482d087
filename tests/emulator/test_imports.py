"""The emulator imports only the signer and the error table from the rest of the package."""

from __future__ import annotations

import ast
from pathlib import Path

EMULATOR = Path(__file__).resolve().parents[2] / "reconciler" / "emulator"
ALLOWED = {"reconciler.client.signer", "reconciler.error_codes"}


def package_imports(path: Path) -> set[str]:
    """The ``reconciler.*`` modules a file reaches: ``from reconciler.client import signer``
    is ``reconciler.client.signer``; ``from reconciler.error_codes import get`` is the module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "reconciler")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "reconciler":
                continue
            if node.module in ALLOWED:
                found.add(node.module)
            else:
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_there_are_modules_to_check() -> None:
    assert len(list(EMULATOR.rglob("*.py"))) > 10


def test_emulator_imports_only_the_signer_and_the_error_table() -> None:
    offenders = {
        str(path.relative_to(EMULATOR)): sorted(package_imports(path) - ALLOWED)
        for path in sorted(EMULATOR.rglob("*.py"))
        if package_imports(path) - ALLOWED
    }
    assert offenders == {}


def test_the_checker_sees_forbidden_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import reconciler.errors\nfrom reconciler import model, error_codes\n"
        "from reconciler.client import signer, v1\nfrom reconciler.error_codes import get\n"
        "from . import routes\nimport json\n"
    )
    assert package_imports(sample) - ALLOWED == {
        "reconciler.errors",
        "reconciler.model",
        "reconciler.client.v1",
    }
