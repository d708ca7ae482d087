"""`reconciler validate` through the real command line: summary, exit codes, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
Write = Callable[[dict[str, str | bytes]], Path]
TARGET = "target:\n  endpoint: local\n"


def test_quickstart_is_valid(run_cli: Any) -> None:
    result = run_cli(["validate", "examples/quickstart"], cwd=REPO)
    assert (result.code, result.out, result.err) == (
        0,
        "valid: 1 user, 2 namespaces, 4 repositories, 1 cluster (1 file)\n",
        "",
    )


def test_platform_is_valid(run_cli: Any) -> None:
    result = run_cli(["validate", "examples/platform"], cwd=REPO)
    assert (result.code, result.out, result.err) == (
        0,
        "valid: 1 user, 3 namespaces, 6 repositories, 2 clusters (5 files)\n",
        "",
    )


def test_several_files_are_merged(run_cli: Any) -> None:
    files = ["examples/platform/target.yaml", "examples/platform/team-search.yaml"]
    result = run_cli(["validate", *files], cwd=REPO)
    assert result.out == "valid: 2 namespaces, 3 repositories (2 files)\n"


def test_default_path_is_the_current_directory(run_cli: Any) -> None:
    result = run_cli(["validate"], cwd=REPO / "examples" / "quickstart")
    assert (result.code, result.out) == (
        0,
        "valid: 1 user, 2 namespaces, 4 repositories, 1 cluster (1 file)\n",
    )


def test_check_secrets_passes_when_every_secret_resolves(
    run_cli: Any, write_files: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CCR_CLI_TEST_PASSWORD", "S3cret-pass")
    root = write_files(
        {
            "c.yaml": TARGET
            + "users: [{username: ccetest, password: {env: CCR_CLI_TEST_PASSWORD}}]\n"
        }
    )
    assert run_cli(["validate", "--check-secrets"], cwd=root).code == 0
    monkeypatch.delenv("CCR_CLI_TEST_PASSWORD")
    assert run_cli(["validate"], cwd=root).code == 0
    result = run_cli(["validate", "--check-secrets"], cwd=root)
    assert (result.code, result.err_lines) == (
        1,
        [
            "c.yaml:3:39: error: user.ccetest: password: environment variable CCR_CLI_TEST_PASSWORD is not set"
        ],
    )


def test_check_secrets_applies_the_rules_plan_applies_to_known_values(
    run_cli: Any, write_files: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CCR_CLI_TEST_PASSWORD", "abc")  # plan refuses it: Cce.PasswordFormatError
    monkeypatch.setenv("NODE_CLI_TEST_PASSWORD", "nospecial1")
    root = write_files(
        {
            "c.yaml": TARGET
            + "users: [{username: ccetest, password: {env: CCR_CLI_TEST_PASSWORD}}]\n"
            + "instance_groups:\n"
            + "  - {cluster: shop, name: g, replicas: 1, machineSpec: bcc.g5.c2m8, cpu: 2,"
            + " memory: 8, imageID: m-1, vpcSubnetID: sbn-1, securityGroupID: g-1,"
            + " adminPassword: {env: NODE_CLI_TEST_PASSWORD}}\n"
            + "k8s_clusters:\n"
            + "  - {name: shop, k8sVersion: '1.28.8', vpcID: vpc-1, lbServiceVPCSubnetID: sbn-1,"
            + " networkMode: kubenet, podCIDR: 172.28.0.0/16}\n"
        }
    )
    assert run_cli(["validate"], cwd=root).code == 0, "without --check-secrets no value is read"
    result = run_cli(["validate", "--check-secrets"], cwd=root)
    assert (result.code, result.err_lines) == (
        1,
        [
            'c.yaml:3:39: error: user "ccetest" password breaks Cce.PasswordFormatError\'s rule: '
            "8-20 ASCII characters with at least one upper-case letter, one lower-case letter "
            "and one digit",
            'c.yaml:5:159: error: instance_group "shop/g" adminPassword breaks the v2 API\'s rule: '
            "8-32 characters with letters, digits and one of !@#$%^*() (cce.warning.InvalidParam)",
        ],
    )
    monkeypatch.setenv("CCR_CLI_TEST_PASSWORD", "Abcdefg1")
    monkeypatch.setenv("NODE_CLI_TEST_PASSWORD", "Abcdefg1!")
    assert run_cli(["validate", "--check-secrets"], cwd=root).code == 0


def test_errors_go_to_stderr_with_exit_1(run_cli: Any, write_files: Write) -> None:
    root = write_files({"c.yaml": TARGET + "namespaces:\n  - name: 9abc\n"})
    result = run_cli(["validate", "c.yaml"], cwd=root)
    assert (result.code, result.out) == (1, "")
    assert result.err_lines == [
        'c.yaml:4:11: error: namespace name "9abc" is invalid: 1-65 letters, digits, "-", "_" or "." starting with a letter (no "/")'
    ]


def test_an_unknown_option_is_a_usage_error_with_exit_1(run_cli: Any) -> None:
    result = run_cli(["validate", "--nope"], cwd=REPO)
    assert result.code == 1 and "No such option" in result.err


def run_module(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CCR_PASSWORD"}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_python_dash_m_validates_the_examples() -> None:
    done = run_module(["validate", "examples/quickstart"], REPO)
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "valid: 1 user, 2 namespaces, 4 repositories, 1 cluster (1 file)\n",
        "",
    )


def test_python_dash_m_reports_hostile_input_without_a_traceback(tmp_path: Path) -> None:
    levels = [f"b{i}: &a{i + 1} [{', '.join([f'*a{i}'] * 10)}]\n" for i in range(9)]
    (tmp_path / "bomb.yaml").write_text("a: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(levels))
    (tmp_path / "binary.yaml").write_bytes(b"\x00\x01\x02")
    done = run_module(["validate", "."], tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "binary.yaml:1:1: error: file contains binary data (a NUL byte); expected YAML text",
        "bomb.yaml:1:12: error: aliases expand to more than 10000 nodes (an alias bomb?); refusing to expand them",
    ]
