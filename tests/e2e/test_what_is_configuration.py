"""What is configuration: Terraform's layout (variable files beside main.yaml) works, a file the
tool wrote or a Kubernetes manifest is recognised and skipped, and .reconcilerignore (gitignore
syntax) excludes others."""

from __future__ import annotations

import json

from .conftest import Workspace

MAIN = """variables:
  env: {type: string}
  workers: {type: integer, default: 1}
users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: app-${var.env}
"""
PLAIN = """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: app-x
"""


def test_variable_files_beside_main_yaml(ws: Workspace) -> None:
    ws.write(MAIN)
    ws.write("env: dev\n", "dev.yaml")
    ws.write("env: prod\nworkers: 3\n", "prod.yaml")
    prod = ws.root / "prod.yaml"

    plan = ws.cli("plan", str(ws.root), "--var-file", str(ws.root / "dev.yaml"), "--json")
    assert plan.code == 0, plan.err  # not `prod.yaml:1:1: unknown key "env"`
    created = {c["address"] for c in json.loads(plan.out)["changes"] if c["action"] == "create"}
    assert created == {"user.ccetest", "namespace.app-dev"}
    assert plan.err == (
        f"{prod}:1:1: warning: not read as configuration: this file looks like a variable file "
        f"(its keys are variables: env, workers); give it with --var-file {prod}, or move it to "
        "environments/prod.yaml and use --env prod; add it to .reconcilerignore to silence this\n"
    )

    listed = ws.cli("validate", str(ws.root), "--var-file", str(prod))
    assert listed.code == 0 and "dev.yaml:1:1: warning" in listed.err, listed.err
    assert "prod.yaml" not in listed.err, "a --var-file is never read as configuration"


def test_a_saved_plan_in_the_configuration_folder_is_skipped(ws: Workspace) -> None:
    ws.write(PLAIN)
    saved = ws.root / "plan.yaml"
    assert ws.cli("plan", str(ws.root), "--out", str(saved)).code == 0
    again = ws.cli("plan", str(ws.root), "--out", str(saved))
    assert again.code == 0, again.err
    assert "this file is a saved plan" in again.err


def test_a_kubernetes_manifest_in_the_configuration_folder_is_skipped(ws: Workspace) -> None:
    ws.write(PLAIN)
    manifest = ws.root / "deploy" / "watch.yml"
    manifest.parent.mkdir()
    manifest.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: watch}\n")
    result = ws.cli("validate", str(ws.root))
    assert result.code == 0, result.err
    assert result.err == (
        f"{manifest}:1:1: warning: not read as configuration: this file is a Kubernetes "
        "manifest (kind: Deployment); add it to .reconcilerignore to silence this\n"
    )
    assert result.out == "valid: 1 user, 1 namespace (1 file)\n"


def test_another_configurations_environment_file_is_skipped(ws: Workspace) -> None:
    ws.write(PLAIN)
    other = ws.root / "team" / "environments" / "dev.yaml"
    other.parent.mkdir(parents=True)
    other.write_text("variables:\n  env: dev\n  workers: 3\n")
    result = ws.cli("validate", str(ws.root))
    assert result.code == 0, result.err  # not 'variable "env" must be a mapping'
    assert result.err == (
        f"{other}:1:1: warning: not read as configuration: this file is an environment file "
        f"(its variables have values, not declarations): give {ws.root / 'team'} as PATH with "
        "--env dev; add it to .reconcilerignore to silence this\n"
    )


def test_reconcilerignore_excludes_with_gitignore_syntax(ws: Workspace) -> None:
    ws.write(PLAIN)
    (ws.root / "drafts").mkdir()
    ws.write("namespaces: [broken\n", "drafts/wip.yaml")
    ws.write("namespaces: [broken\n", "team.draft.yaml")
    ws.write("namespaces:\n  - name: kept\n", "keep.draft.yaml")
    (ws.root / ".reconcilerignore").write_text(
        "# work in progress\n/drafts/\n*.draft.yaml\n!keep.draft.yaml\n"
    )

    valid = ws.cli("validate", str(ws.root))
    assert (valid.code, valid.out, valid.err) == (0, "valid: 1 user, 2 namespaces (2 files)\n", "")
    named = ws.cli("validate", str(ws.root), str(ws.root / "team.draft.yaml"))
    assert named.code == 1 and "team.draft.yaml:2:1: error" in named.err, (
        "a file given by name is read"
    )
