"""Every invalid configuration under corpus/ gives exactly its expected messages and exit 1.

Each case is a folder: one or more YAML files, ``expected.txt`` (the exact stderr lines, paths
relative to the folder) and optionally ``args.txt`` (the validate arguments; default ``.``).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(path.name for path in CORPUS.iterdir() if path.is_dir())


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_invalid_config_reports_exact_diagnostics(
    case: str, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = CORPUS / case
    args_file = folder / "args.txt"
    args = shlex.split(args_file.read_text()) if args_file.exists() else ["."]
    monkeypatch.delenv("CCR_CORPUS_UNSET_VARIABLE", raising=False)

    result = run_cli(["validate", *args], cwd=folder)

    assert result.code == 1
    assert result.out == ""
    assert result.err_lines == (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert "Traceback" not in result.err
