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
        "reconciler.client.v1",
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
    assert {"reconciler.apply", "reconciler.client.v1", "requests", "psycopg"} & loaded == set()


@pytest.mark.parametrize(
    ("argv", "expected", "debug"),
    [
        (["plan", "--debug", "x"], ["--debug", "plan", "x"], True),
        (["--no-color", "plan"], ["--no-color", "plan"], False),
        (["apply", "--no-color", "--", "--debug"], ["--no-color", "apply", "--", "--debug"], False),
        (["validate"], ["validate"], False),
    ],
)
def test_global_flags_are_accepted_after_the_command(
    argv: list[str], expected: list[str], debug: bool
) -> None:
    from reconciler.cli import global_flags_first

    assert global_flags_first(argv) == (expected, debug)


def test_reconciler_log_debug_turns_debug_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.cli import global_flags_first

    monkeypatch.setenv("RECONCILER_LOG", "debug")
    assert global_flags_first(["plan"]) == (["--debug", "plan"], True)


def test_debug_after_the_command_shows_debug_logs(tmp_path: object) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "--debug", "/nonexistent-dir"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1
    assert "no such option" not in out.stderr


@pytest.mark.parametrize("value", ["nan", "-1", "0", "inf"])
def test_a_rate_that_is_not_a_positive_number_is_a_usage_error(value: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "--rate", value, "/nonexistent-dir"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1
    assert "Invalid value for '--rate'" in out.stderr and "internal error" not in out.stderr
