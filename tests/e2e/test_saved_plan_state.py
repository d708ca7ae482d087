"""A saved plan keeps its state: `apply --plan` writes to the state the plan was made against,
refuses a --state / RECONCILER_STATE naming another, and the plan's hint works when copied.
(The PostgreSQL half is in tests/state/test_cli_postgres.py.)"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from reconciler.kinds import names as kind_names
from reconciler.state.local import LocalStateStore

from .conftest import Workspace

CONFIG = """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: team-a
"""


def _hint(out: str) -> list[str]:
    """The command the plan printed after "Apply it exactly with:", as argv."""
    line = next(line for line in out.splitlines() if "Apply it exactly with:" in line)
    return shlex.split(line.split("Apply it exactly with:", 1)[1])


def test_a_saved_plan_applies_to_the_state_it_was_made_against(
    ws: Workspace, tmp_path: Path
) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    ws.root = cfg
    ws.write(CONFIG)
    state = tmp_path / "elsewhere" / "s.json"
    plan_file = tmp_path / "p.bin"
    made = ws.cli("plan", str(cfg), "--state", str(state), "--out", str(plan_file))
    assert made.code == 0, made.err
    assert json.loads(plan_file.read_text())["state"] == {"file": "../elsewhere/s.json"}

    applied = ws.cli("apply", "--plan", str(plan_file))
    assert applied.code == 0, applied.out + applied.err
    assert state.exists(), "the first write goes to the state the plan was made against"
    assert not (cfg / ".reconciler" / "state.json").exists()
    assert set(map(str, LocalStateStore(state, kinds=kind_names()).read().resources)) == {
        "user.ccetest",
        "namespace.team-a",
    }

    # a state that is no longer empty: the next saved plan applies to it, not to a fresh file
    ws.write(CONFIG + "  - name: team-b\n")
    again = ws.cli("plan", str(cfg), "--state", str(state), "--out", str(plan_file))
    assert again.code == 0, again.err
    second = ws.cli("apply", "--plan", str(plan_file))
    assert second.code == 0, second.out + second.err
    assert "namespace.team-b" in map(
        str, LocalStateStore(state, kinds=kind_names()).read().resources
    )
    assert not (cfg / ".reconciler" / "state.json").exists()


def test_apply_refuses_a_state_other_than_the_plans_naming_both(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write(CONFIG)
    recorded = tmp_path / "s.json"
    other = tmp_path / "other.json"
    plan_file = tmp_path / "p.bin"
    assert ws.cli("plan", str(ws.root), "--state", str(recorded), "--out", str(plan_file)).code == 0

    flag = ws.cli("apply", "--plan", str(plan_file), "--state", str(other))
    assert flag.code == 1
    assert str(recorded) in flag.err and str(other) in flag.err, flag.err
    monkeypatch.setenv("RECONCILER_STATE", str(other))
    env = ws.cli("apply", "--plan", str(plan_file))
    assert env.code == 1 and str(recorded) in env.err and str(other) in env.err, env.err
    assert not recorded.exists() and not other.exists()
    assert ws.emulator.mutating_requests() == []

    monkeypatch.setenv("RECONCILER_STATE", str(recorded))  # the same state, named again: fine
    same = ws.cli("apply", "--plan", str(plan_file))
    assert same.code == 0, same.err
    assert recorded.exists()


def test_the_apply_hint_works_when_copied(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "my infra"
    cfg.mkdir()
    ws.root = cfg
    ws.write(CONFIG)
    monkeypatch.chdir(tmp_path)
    made = ws.cli("plan", "my infra", "--state", "states/dev.json", "--out", "plan file.bin")
    assert made.code == 0, made.err
    argv = _hint(made.out)
    assert argv[:3] == ["reconciler", "apply", "--plan"], argv
    applied = ws.cli(*argv[1:])
    assert applied.code == 0, applied.out + applied.err
    assert (tmp_path / "states" / "dev.json").exists()
    assert not (cfg / ".reconciler" / "state.json").exists()


def test_an_environments_saved_plan_keeps_its_state_from_another_checkout(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is recorded relative to the configuration root: a copy of the checkout
    elsewhere applies to its own copy of the state."""
    first = tmp_path / "a" / "infra"
    (first / "environments").mkdir(parents=True)
    ws.root = first
    ws.write(CONFIG)
    (first / "environments" / "dev.yaml").write_text("state: states/dev.json\n")
    plan_file = tmp_path / "p.bin"
    assert ws.cli("plan", str(first), "--env", "dev", "--out", str(plan_file)).code == 0
    assert json.loads(plan_file.read_text())["state"] == {"file": "states/dev.json"}
    second = tmp_path / "b" / "infra"
    second.parent.mkdir()
    first.rename(second)
    monkeypatch.chdir(second)
    applied = ws.cli("apply", "--plan", str(plan_file))
    assert applied.code == 0, applied.out + applied.err
    assert (second / "states" / "dev.json").exists()
