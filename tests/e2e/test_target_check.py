"""Every command that reads the cloud for a state keeps that state's target: examples/environments
applied to the emulator with --var endpoint=URL, then each command run without the --var (so the
configuration says `endpoint: local`) refuses, naming both targets, and starts no embedded
emulator; `state` (which reads no cloud) lists the state as it is."""

from __future__ import annotations

import pytest

from .conftest import Workspace
from .test_environments import copy_example, run

REFUSING = [
    ("output", "-c", "{root}"),
    ("output", "cluster.shop-dev", "status", "-c", "{root}"),
    ("kubeconfig", "cluster.shop-dev", "-c", "{root}"),
    ("import", "namespace.search-dev", "search-dev", "{root}"),
    ("export", "{root}"),
    ("doctor", "{root}"),
    ("plan", "{root}"),
]


@pytest.mark.parametrize("command", REFUSING, ids=lambda c: " ".join(c[:2]))
def test_a_command_without_the_var_refuses_the_state_applied_elsewhere(
    ws: Workspace, command: tuple[str, ...]
) -> None:
    root = copy_example(ws)
    code, out, err = run(ws, "apply", root, "dev", "--auto-approve")
    assert code == 0, out + err
    before = ws.emulator.requests_log()

    result = ws.cli(*(part.format(root=root) for part in command), "--env", "dev")
    assert result.code == 1, result.out + result.err
    assert f"was applied to {ws.emulator.url}, but this run targets local" in result.err
    assert "envs/dev/state.json" in result.err
    assert not (root / ".reconciler" / "emulator.db").exists(), "an embedded emulator started"
    assert "not found" not in result.out + result.err
    assert ws.emulator.requests_log() == before, "nothing is read from the state's target either"


def test_with_the_var_the_commands_read_the_running_cluster(ws: Workspace) -> None:
    root = copy_example(ws)
    assert run(ws, "apply", root, "dev", "--auto-approve")[0] == 0
    endpoint = f"endpoint={ws.emulator.url}"
    status = ws.cli(
        "output",
        "cluster.shop-dev",
        "status",
        "--raw",
        "-c",
        str(root),
        "--env",
        "dev",
        "--var",
        endpoint,
    )
    assert (status.code, status.out) == (0, "RUNNING"), status.err
    listed = ws.cli("state", "list", "-c", str(root), "--env", "dev")
    assert listed.code == 0 and "cluster.shop-dev" in listed.out, listed.err
    assert not (root / ".reconciler" / "emulator.db").exists()


def test_import_records_the_target_it_read(ws: Workspace) -> None:
    ws.write("users:\n  - username: ccetest\n    password: {env: CCR_PASSWORD}\n")
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0
    ws.state_file().unlink()
    imported = ws.cli("import", "user.ccetest", "ccetest", str(ws.root))
    assert imported.code == 0, imported.err
    (ws.root / "main.yaml").write_text(
        "target:\n  endpoint: local\nusers:\n  - username: ccetest\n    password: {env: CCR_PASSWORD}\n"
    )
    output = ws.cli("plan", str(ws.root))
    assert output.code == 1 and f"was applied to {ws.emulator.url}" in output.err, output.err
