"""The CLI imports a command's module only when that command runs, and says the same help."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from reconciler.cli import COMMANDS
from reconciler.commands.state import group as state_group

LAZY = [*COMMANDS.items(), *((f"state {n}", e) for n, e in state_group.lazy.items())]


@pytest.mark.parametrize(("name", "entry"), LAZY, ids=[n for n, _ in LAZY])
def test_listed_help_is_the_commands_own(name: str, entry: tuple[str, str, str]) -> None:
    module, attr, listed = entry
    command = getattr(importlib.import_module(module), attr)
    assert command.get_short_help_str(limit=500) == listed


def _modules_loaded_by(*args: str) -> set[str]:
    code = (
        "import sys\n"
        "from reconciler.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_version_and_help_import_no_engine(args: tuple[str, ...]) -> None:
    loaded = _modules_loaded_by(*args)
    heavy = {
        "reconciler.apply",
        "reconciler.client.api",
        "reconciler.emulator",
        "reconciler.state.postgres",
        "psycopg",
        "requests",
        "jsonschema",
        "deepdiff",
    }
    assert loaded & heavy == set()


def test_validate_imports_neither_the_client_nor_the_executor(tmp_path: object) -> None:
    loaded = _modules_loaded_by("validate", "--help")
    assert {"reconciler.apply", "reconciler.client.api", "requests", "psycopg"} & loaded == set()
