"""Fuzzing the config loader through the real CLI: never a traceback, exit 1 with
file:line:column diagnostics, and no request to the cloud for an invalid config."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import BASE, Workspace

DIAGNOSTIC = re.compile(r"^\S+?(:\d+:\d+)?: error: .+$")
RUNTIME = re.compile(r"^error: (?!internal error).+$")


def check(ws: Workspace, text: bytes) -> None:
    ws.emulator.reset()
    path = ws.root / "main.yaml"
    path.write_bytes(text)
    result = ws.cli("plan", str(ws.root))
    assert "Traceback" not in result.out + result.err
    assert "internal error" not in result.err
    if result.code == 1 and not result.out:
        lines = [line for line in result.err.splitlines() if line]
        if all(RUNTIME.match(line) for line in lines):
            return  # a valid config that failed at run time (e.g. a mutated endpoint host)
        assert lines and all(DIAGNOSTIC.match(line) for line in lines), result.err
        assert ws.emulator.requests_log() == [], "an invalid config sent a request"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300))
def test_random_bytes(ws: Workspace, data: bytes) -> None:
    check(ws, data)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_mutated_valid_configs(ws: Workspace, data: st.DataObject) -> None:
    text = f"target:\n  endpoint: {ws.emulator.url}\n{BASE}"
    lines = text.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["drop", "dup", "indent", "char", "swap"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "indent":
            lines[i] = " " + lines[i]
        elif op == "char" and lines[i].strip():
            j = data.draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = (
                lines[i][:j]
                + data.draw(st.sampled_from([":", "-", "{", "'", "\t", "x", "9"]))
                + lines[i][j + 1 :]
            )
        elif op == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        if not lines:
            lines = ["\n"]
    check(ws, "".join(lines).encode())
