"""One configuration, several environments, one account: examples/environments applied as dev
and as prod to the same emulator, each with its own state, neither touching the other."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient

from .conftest import PASSWORD, ROOT, Workspace

EXAMPLE = ROOT / "examples" / "environments"


def copy_example(ws: Workspace) -> Path:
    root = ws.root / "environments-example"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".reconciler"))
    # the example declares no registry user (one per account): the account already has one
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, creds) as client:
        client.create_user("shopadmin", PASSWORD)
    return root


def run(ws: Workspace, command: str, root: Path, env: str, *extra: str) -> tuple[int, str, str]:
    result = ws.cli(
        command, str(root), "--env", env, "--var", f"endpoint={ws.emulator.url}", *extra
    )
    return result.code, result.out, result.err


def test_dev_and_prod_from_one_definition_never_touch_each_other(ws: Workspace) -> None:
    root = copy_example(ws)
    for env in ("dev", "prod"):
        code, out, err = run(ws, "apply", root, env, "--auto-approve")
        assert code == 0, out + err
        assert out.splitlines()[0].startswith(f"Using environment {env}, target {ws.emulator.url}")
        assert (root / ".reconciler" / "envs" / env / "state.json").is_file()

    for env in ("dev", "prod"):
        code, out, err = run(ws, "plan", root, env, "--detailed-exitcode")
        assert code == 0, out + err
        assert "No changes." in out

    live = {c["clusterName"] for c in ws.emulator.state()["clusters"] if c["status"] == "RUNNING"}
    assert {"shop-dev", "shop-prod"} <= live

    prod = root / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("workers: 3", "workers: 4"))
    code, out, err = run(ws, "plan", root, "prod", "--json")
    assert code == 0, err
    doc = json.loads(out)
    actionable = [c for c in doc["changes"] if c["action"] != "noop"]
    assert [(c["address"], c["action"]) for c in actionable] == [("cluster.shop-prod", "update")]
    assert doc["context"]["environment"] == "prod"
    assert doc["context"]["state"].endswith("envs/prod/state.json")

    code, out, err = run(ws, "plan", root, "dev", "--detailed-exitcode")
    assert code == 0, out + err
    assert "will be deleted" not in out


def test_validate_every_environment_at_once(ws: Workspace) -> None:
    root = copy_example(ws)
    result = ws.cli("validate", str(root), "--all-envs")
    assert result.code == 0, result.err
    assert [line.split(":")[0] for line in result.out.splitlines()] == ["dev", "prod", "staging"]

    (root / "environments" / "staging.yaml").write_text("variables:\n  workers: many\n")
    result = ws.cli("validate", str(root), "--all-envs")
    assert result.code == 1
    assert "environment staging: invalid" in result.err
    assert "dev: valid" in result.out and "prod: valid" in result.out


def test_validate_without_an_environment_says_which_it_did_not_check(ws: Workspace) -> None:
    root = copy_example(ws)
    note = "note: environments/ (dev, prod, staging) not checked: give --env NAME, or --all-envs"
    result = ws.cli("validate", str(root))  # its variables have their values in environments/
    assert result.code == 1
    assert note in result.err and 'variable "env" has no value' in result.err
    assert note not in ws.cli("validate", str(root), "--env", "dev").err
    assert note not in ws.cli("validate", str(root), "--all-envs").err


def test_workspace_on_a_file_state_selects_its_own_file(ws: Workspace) -> None:
    ws.write("namespaces: []\n")
    assert ws.cli("plan", str(ws.root), "--workspace", "blue").code == 0
    result = ws.cli("apply", str(ws.root), "--workspace", "blue", "--auto-approve")
    assert result.code == 0, result.err
    assert "state " + str(ws.root / ".reconciler" / "workspaces" / "blue") in result.out


def test_a_missing_environment_file_is_a_config_error(ws: Workspace) -> None:
    root = copy_example(ws)
    result = ws.cli("plan", str(root), "--env", "qa")
    assert result.code == 1
    assert "environments/qa.yaml" in result.err and "internal error" not in result.err


def test_an_environment_state_path_is_under_the_root_when_run_from_above_it(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = ws.root / "infra"
    (folder / "environments").mkdir(parents=True)
    (folder / "main.yaml").write_text(
        f"target:\n  endpoint: {ws.emulator.url}\nnamespaces: [{{name: team-a}}]\n"
        "users:\n  - username: ccetest\n    password: {env: CCR_PASSWORD}\n"
    )
    (folder / "environments" / "dev.yaml").write_text("state: states/dev.json\n")
    monkeypatch.chdir(ws.root)

    applied = ws.cli("apply", "infra", "--env", "dev", "--auto-approve")

    assert applied.code == 0, applied.out + applied.err
    assert (folder / "states" / "dev.json").is_file()
    assert not (folder / "infra").exists()
    listed = ws.cli("state", "list", "-c", "infra", "--env", "dev")
    assert "namespace.team-a" in listed.out
