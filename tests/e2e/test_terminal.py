"""Approval on a real terminal (a pseudo-TTY): apply asks for 'yes', destroy for the target's
name, and anything else cancels without a single mutation."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from .conftest import BASE, Workspace

ROOT = Path(__file__).resolve().parents[2]


def run_on_tty(
    ws: Workspace, args: list[str], answer: str, timeout: float = 60.0
) -> tuple[int, str]:
    env = {**ws.subprocess_env(), "TERM": "dumb"}
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    output, answered, deadline = b"", False, time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.1)
        if ready:
            try:
                output += os.read(controller, 4096)
            except OSError:
                break
        if not answered and b"will be accepted" in output:
            os.write(controller, answer.encode() + b"\r")
            answered = True
    proc.wait(timeout=30)
    try:
        while select.select([controller], [], [], 0.1)[0]:
            output += os.read(controller, 4096)
    except OSError:
        pass
    os.close(controller)
    return proc.returncode, output.decode(errors="replace")


def test_apply_asks_and_yes_applies(ws: Workspace) -> None:
    ws.write(BASE)
    code, out = run_on_tty(ws, ["apply", str(ws.root)], "yes")
    assert "Do you want to perform these actions?" in out
    assert code == 0, out
    assert "Apply complete: 7 created" in out


def test_apply_anything_but_yes_cancels(ws: Workspace) -> None:
    ws.write(BASE)
    code, out = run_on_tty(ws, ["apply", str(ws.root)], "no")
    assert code == 1 and "apply cancelled" in out
    assert ws.emulator.mutating_requests() == []


def test_destroy_needs_the_target_name_typed(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    mark = ws.emulator.next_index()
    code, out = run_on_tty(ws, ["destroy", str(ws.root)], "yes")
    assert code == 1 and ws.emulator.mutating_requests(since=mark) == []
    code, out = run_on_tty(ws, ["destroy", str(ws.root)], ws.emulator.url)
    assert code == 0, out
    assert ws.emulator.state()["namespaces"] == []


def test_colour_only_on_a_terminal_and_never_with_no_color(ws: Workspace) -> None:
    ws.write(BASE)
    _, coloured = run_on_tty(ws, ["plan", str(ws.root)], "")
    assert "\x1b[32m  + user.ccetest will be created" in coloured
    _, plain = run_on_tty(ws, ["plan", str(ws.root), "--no-color"], "")
    assert "\x1b[" not in plain and "+ user.ccetest will be created" in plain
    assert "\x1b[" not in ws.cli("plan", str(ws.root)).out, "not a terminal: no colour"
