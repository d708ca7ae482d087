"""End-to-end helpers: write a config pointing at the session emulator and run the real CLI."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.emulator.testing import EmulatorHandle

PASSWORD = "Passw0rd-e2e1"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str) -> Result:
    """The real CLI in-process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


@dataclass
class Workspace:
    root: Path
    emulator: EmulatorHandle

    def write(self, body: str, name: str = "main.yaml") -> Path:
        path = self.root / name
        path.write_text(
            f"target:\n  endpoint: {self.emulator.url}\n{body}" if name == "main.yaml" else body
        )
        return path

    def cli(self, *args: str) -> Result:
        return run_cli(*args)

    def subprocess_env(self) -> dict[str, str]:
        """The environment for running `python -m reconciler` in a child process."""
        return {
            **os.environ,
            "BCE_ACCESS_KEY_ID": self.emulator.access_key_id,
            "BCE_SECRET_ACCESS_KEY": self.emulator.secret_access_key,
            "CCR_PASSWORD": PASSWORD,
            "PYTHONPATH": str(ROOT),
        }

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """`python -m reconciler ARGS` in a child process, output captured as text."""
        argv = [sys.executable, "-m", "reconciler", *args]
        return subprocess.Popen(
            argv,
            env=self.subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def state_file(self) -> Path:
        return self.root / ".reconciler" / "state.json"


@pytest.fixture
def ws(tmp_path: Path, emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("BCE_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("BCE_SECRET_ACCESS_KEY", emulator.secret_access_key)
    monkeypatch.setenv("CCR_PASSWORD", PASSWORD)
    return Workspace(tmp_path, emulator)


RunCli = Callable[..., Result]

BASE = """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: team-a
  - name: team-b
    public: true
repositories:
  - namespace: team-a
    name: api
    tags: [latest, v1]
    description: payment API
  - namespace: team-a
    name: worker
    tags: [latest]
  - namespace: team-b
    name: web
    tags: [latest]
clusters:
  - name: prod
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 172.16.0.0/16
    workers: {count: 2, instanceType: "10", cpu: 4, memory: 8, imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}
"""
