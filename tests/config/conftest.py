"""Helpers for the configuration tests: run the real CLI in-process from a chosen directory."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import main


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


RunCli = Callable[..., Result]


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> RunCli:
    """``run_cli(args, cwd=...)``: ``reconciler.cli.main`` as the console script runs it."""

    def run(args: list[str], cwd: str | os.PathLike[str] | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(args)
        out, err = capsys.readouterr()
        code = exited.value.code
        return Result(code if isinstance(code, int) else 0, out, err)

    return run


@pytest.fixture
def write_files(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """``write_files({"a.yaml": "..."})`` creates the files under ``tmp_path`` and returns it."""

    def write(files: dict[str, str | bytes]) -> Path:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return tmp_path

    return write
