"""Waiting for the state lock (--lock-timeout), what a plan says while another run holds it, and
a saved plan applied from elsewhere."""

from __future__ import annotations

import threading
import time

from reconciler.kinds import names as kind_names
from reconciler.state.local import LocalStateStore

from .conftest import BASE, Workspace


def test_apply_waits_for_a_lock_that_is_released_in_time(ws: Workspace) -> None:
    ws.write(BASE)
    store = LocalStateStore(ws.state_file(), kinds=kind_names())
    held = threading.Event()

    def hold() -> None:
        with store.lock("someone else"):
            held.set()
            time.sleep(1.5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    result = ws.cli("apply", str(ws.root), "--auto-approve", "--lock-timeout", "30s")
    holder.join()
    assert result.code == 0, result.out + result.err
    assert "Waiting for the state lock" in result.out and "someone else" in result.out


def test_apply_gives_up_after_the_lock_timeout(ws: Workspace) -> None:
    ws.write(BASE)
    store = LocalStateStore(ws.state_file(), kinds=kind_names())
    with store.lock("someone else") as info:
        started = time.monotonic()
        result = ws.cli("apply", str(ws.root), "--auto-approve", "--lock-timeout", "1s")
        waited = time.monotonic() - started
    assert result.code == 4 and info.id in result.err
    assert waited >= 1.0
    assert ws.emulator.mutating_requests() == []


def test_plan_names_the_run_holding_the_lock_and_writes_nothing(ws: Workspace) -> None:
    ws.write(BASE)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    before = ws.state_file().read_bytes()
    store = LocalStateStore(ws.state_file(), kinds=kind_names())
    with store.lock("a nightly apply") as info:
        result = ws.cli("plan", str(ws.root))
    assert result.code == 0, result.err
    assert (
        result.out.startswith("Note: another run is applying now")
        or "Note: another run" in result.out
    )
    assert info.id in result.out and "a nightly apply" in result.out
    assert "Recovered" not in result.out
    assert ws.state_file().read_bytes() == before


def test_a_bad_lock_timeout_is_a_usage_error(ws: Workspace) -> None:
    ws.write(BASE)
    for value in ("soon", "-5s", "2d", "nan"):
        result = ws.cli("plan", str(ws.root), "--lock-timeout", value)
        assert result.code == 1, value
        assert "duration" in result.err or "between" in result.err, result.err
        assert "internal error" not in result.err


def test_a_saved_plan_applies_from_another_directory_and_checkout(ws: Workspace) -> None:
    import os
    import shutil
    from pathlib import Path

    checkout = ws.root / "checkout"
    (checkout / ".git").mkdir(parents=True)
    (checkout / "infra").mkdir()
    (checkout / "infra" / "main.yaml").write_text(f"target:\n  endpoint: {ws.emulator.url}\n{BASE}")
    plans = ws.root / "plans"
    plans.mkdir()
    here = os.getcwd()
    try:
        os.chdir(checkout / "infra")
        made = ws.cli("plan", ".", "--out", str(plans / "pp.bin"))
        assert made.code == 0, made.err
        # another checkout of the same commit: applied from its root, it uses its own files
        other = ws.root / "elsewhere" / "clone"
        shutil.copytree(checkout, other)
        os.chdir(other)
        result = ws.cli("apply", "--plan", str(plans / "pp.bin"), "--auto-approve")
    finally:
        os.chdir(here)
    assert result.code == 0, result.out + result.err
    assert "Apply complete: 7 created" in result.out
    assert (Path(other) / "infra" / ".reconciler" / "state.json").is_file()
    assert not (checkout / "infra" / ".reconciler" / "state.json").exists()
