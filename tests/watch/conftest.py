"""Fixtures for the watch suite: a configuration of N environments on the session emulator,
the account's registry user, and watch processes whose JSON events are read as they come.

Every environment declares ``ns-ENV`` and ``ns-ENV/app`` (tags latest and v1) in one account,
so that the emulator's request log, its User-Agent column (``env=...; worker=...``) and its
state show which environment each request and object belongs to.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.emulator.testing import EmulatorHandle
from tests.e2e.conftest import Result as CliResult
from tests.e2e.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Passw0rd-watch1"

MAIN = """target:
  endpoint: ${var.endpoint}
variables:
  env: {type: string}
  endpoint: {type: string}
namespaces:
  - name: ns-${var.env}
repositories:
  - namespace: ns-${var.env}
    name: app
    tags: [latest, v1]
    description: app of ${var.env}
"""


@dataclass
class Result(CliResult):
    """A CLI run's result, with the JSON events ``watch`` printed."""

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.startswith("{")]


@dataclass
class Fleet:
    """A configuration root with environments e1..eN on the emulator."""

    root: Path
    emulator: EmulatorHandle
    names: list[str]
    spawned: list[WatchProcess] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BCE_ACCESS_KEY_ID": self.emulator.access_key_id,
            "BCE_SECRET_ACCESS_KEY": self.emulator.secret_access_key,
            "PYTHONPATH": str(ROOT),
        }

    def args(self, *extra: str) -> list[str]:
        return [str(self.root), "--var", f"endpoint={self.emulator.url}", *extra]

    def cli(self, *args: str) -> Result:
        ran = run_cli(*args)
        return Result(ran.code, ran.out, ran.err)

    def watch_once(self, *extra: str) -> Result:
        return self.cli("watch", *self.args("--once", *extra))

    def client(self) -> CceClient:
        creds = Credentials(self.emulator.access_key_id, self.emulator.secret_access_key)
        return CceClient.connect(self.emulator.url, creds)

    def spawn(self, *extra: str, env: dict[str, str] | None = None) -> WatchProcess:
        argv = [sys.executable, "-m", "reconciler", "watch", *self.args(*extra)]
        popen = subprocess.Popen(
            argv, env=env or self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        process = WatchProcess(popen)
        self.spawned.append(process)
        return process

    def tags(self, env: str) -> list[str]:
        images = self.emulator.state()["images"]
        found = [i for i in images if i["namespace"] == f"ns-{env}" and i["repository"] == "app"]
        return sorted(t["tag"] if isinstance(t, dict) else t for i in found for t in i["tags"])


@dataclass
class WatchProcess:
    """A ``reconciler watch`` child; its stdout events are collected as they are printed."""

    popen: subprocess.Popen[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            if line.startswith("{"):
                event = json.loads(line)
                event["seen"] = time.time()
                with self._cond:
                    self.events.append(event)
                    self._cond.notify_all()

    def _read_err(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            self.err.append(line)

    def wait_for(
        self, check: Callable[[dict[str, Any]], bool], timeout: float = 20.0, after: int = 0
    ) -> dict[str, Any]:
        """The first event from index ``after`` on that passes ``check``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events[after:]:
                    if check(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no such event within {timeout}s; events: {self.events[-10:]}; "
                        f"stderr: {''.join(self.err)[-2000:]}"
                    )
                self._cond.wait(min(left, 0.2))

    def of(self, name: str, **match: Any) -> list[dict[str, Any]]:
        with self._cond:
            return [
                e
                for e in self.events
                if e["event"] == name and all(e.get(k) == v for k, v in match.items())
            ]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        return self.popen.wait(timeout)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)


def make_fleet(root: Path, emulator: EmulatorHandle, count: int) -> Fleet:
    (root / "environments").mkdir(parents=True)
    (root / "main.yaml").write_text(MAIN)
    names = [f"e{i}" for i in range(1, count + 1)]
    for name in names:
        (root / "environments" / f"{name}.yaml").write_text(f"variables:\n  env: {name}\n")
    fleet = Fleet(root, emulator, names)
    with fleet.client() as client:
        client.create_user("ccetest", PASSWORD)
    return fleet


@pytest.fixture
def fleet_of(
    tmp_path: Path, emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[int], Fleet]]:
    monkeypatch.setenv("BCE_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("BCE_SECRET_ACCESS_KEY", emulator.secret_access_key)
    made: list[Fleet] = []

    def make(count: int) -> Fleet:
        made.append(make_fleet(tmp_path / "config", emulator, count))
        return made[-1]

    yield make
    for fleet in made:
        for process in fleet.spawned:
            process.kill()
