"""Tests and benchmarks own their environment: a developer's exported ``BCE_*`` keys or
``RECONCILER_*`` settings never reach a test, a CLI it spawns, or a measured child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench import run, server
from reconciler.emulator.options import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY

SHELL = {
    "BCE_ACCESS_KEY_ID": "AKID-from-the-shell",
    "BCE_SECRET_ACCESS_KEY": "SK-from-the-shell",
    "BCE_SESSION_TOKEN": "token-from-the-shell",
    "RECONCILER_STATE": "/somewhere/else.json",
    "RECONCILER_RETRY_BUDGET": "0",
}
PRINT_AMBIENT = (
    "import json, os; "
    "print(json.dumps(sorted(k for k in os.environ if k.startswith(('BCE_', 'RECONCILER_')))))"
)


def test_no_ambient_variable_reaches_a_test_or_its_children() -> None:
    ambient = [k for k in os.environ if k.startswith(("BCE_", "RECONCILER_"))]
    assert set(ambient) <= {"RECONCILER_LONG", "RECONCILER_RELIABILITY_REPORT", "RECONCILER_PG_BIN"}
    child = subprocess.run(
        [sys.executable, "-c", PRINT_AMBIENT], capture_output=True, text=True, check=True
    )
    assert set(json.loads(child.stdout)) == set(ambient)


def test_bench_children_get_the_emulator_keys_not_the_shells(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SHELL.items():
        monkeypatch.setenv(name, value)
    assert not [k for k in server.clean_environ() if k.startswith(("BCE_", "RECONCILER_"))]
    env = run.child_env()
    assert (env["BCE_ACCESS_KEY_ID"], env["BCE_SECRET_ACCESS_KEY"]) == (
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_SECRET_ACCESS_KEY,
    )
    assert not {"BCE_SESSION_TOKEN", "RECONCILER_STATE", "RECONCILER_RETRY_BUDGET"} & set(env)
