"""Every invalid configuration under corpus/ gives exactly its expected messages and exit 1.

Each case is a folder: one or more YAML files, ``expected.txt`` (the exact stderr lines, paths
relative to the folder), optionally ``args.txt`` (the validate arguments; default ``.``) and
``environ.txt`` (``NAME=VALUE`` lines set in the environment; every other ``RECONCILER_VAR_``
variable is cleared).

Arguments the ``validate`` command does not take yet (``--var``, ``--var-file``, ``--env``, which
the command line gains with issue #13) are given to ``load_config`` directly, and its
``ConfigError`` lines are compared as the command line prints them.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import pytest

from reconciler.commands import validate
from reconciler.config import load_config
from reconciler.errors import ConfigError

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(path.name for path in CORPUS.iterdir() if path.is_dir())
VARIABLE_OPTIONS = {"--var": "var_args", "--var-file": "var_files", "--env": "env"}


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert sum(1 for case in CASES if case.startswith(("variable-", "environment-"))) >= 15


@pytest.mark.parametrize("case", CASES)
def test_invalid_config_reports_exact_diagnostics(
    case: str, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = CORPUS / case
    args_file = folder / "args.txt"
    args = shlex.split(args_file.read_text()) if args_file.exists() else ["."]
    monkeypatch.delenv("CCR_CORPUS_UNSET_VARIABLE", raising=False)
    set_environ(folder / "environ.txt", monkeypatch)

    if set(args) & set(VARIABLE_OPTIONS) and not cli_takes_variables():
        monkeypatch.chdir(folder)
        code, out, err_lines = validate_directly(args)
    else:
        result = run_cli(["validate", *args], cwd=folder)
        code, out, err_lines = result.code, result.out, result.err_lines
        assert "Traceback" not in result.err

    assert code == 1
    assert out == ""
    assert err_lines == (folder / "expected.txt").read_text(encoding="utf-8").splitlines()


def set_environ(file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("RECONCILER_VAR_"):
            monkeypatch.delenv(name)
    if file.exists():
        for line in file.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)


def cli_takes_variables() -> bool:
    return any("--var" in getattr(param, "opts", ()) for param in validate.command.params)


def validate_directly(args: list[str]) -> tuple[int, str, list[str]]:
    paths: list[str] = []
    options: dict[str, Any] = {"var_args": [], "var_files": [], "env": None}
    check_secrets = False
    words = iter(args)
    for word in words:
        if word == "--check-secrets":
            check_secrets = True
        elif word in VARIABLE_OPTIONS:
            key = VARIABLE_OPTIONS[word]
            value = next(words)
            if isinstance(options[key], list):
                options[key].append(value)
            else:
                options[key] = value
        else:
            paths.append(word)
    try:
        load_config(paths or ["."], check_secrets=check_secrets, **options)
    except ConfigError as exc:
        return 1, "", exc.diagnostics
    return 0, "", []
