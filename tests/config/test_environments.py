"""Environments (``environments/NAME.yaml`` under the configuration root), the root itself, and
the examples/environments tree. Mistakes are in the corpus (``corpus/environment-*``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.config import (
    Environment,
    config_root,
    find_files,
    list_environments,
    load_config,
)
from reconciler.errors import ConfigError
from reconciler.model import Address, Target

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "environments"
Write = Callable[[dict[str, str | bytes]], Path]

BASE = """variables:
  env: {type: string}
  endpoint: {type: string, default: local}
namespaces:
  - name: team-${var.env}
"""


@pytest.fixture
def root(write_files: Write, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = write_files(
        {
            "base.yaml": BASE,
            "environments/dev.yaml": "variables: {env: dev}\ntarget: {endpoint: local}\n",
            "environments/prod.yml": "variables:\n  env: prod\n"
            "target:\n  endpoint: ${var.endpoint}\n"
            "state: postgresql://reconciler@db/reconciler\n",
            "environments/qa.yaml": "variables: {env: qa}\ntarget: {region: bj}\n"
            "state: states/${var.env}.json\n",
            "environments/notes.txt": "not an environment\n",
            "environments/.hidden.yaml": "variables: {}\n",
        }
    )
    monkeypatch.chdir(folder)
    return folder


def test_list_environments(root: Path) -> None:
    assert list_environments(".") == ["dev", "prod", "qa"]
    assert list_environments(str(root)) == ["dev", "prod", "qa"]
    assert list_environments(str(root / "environments")) == []


def test_an_environment_gives_values_target_and_state(root: Path) -> None:
    dev = load_config(["."], env="dev", environ={})
    assert dev.environment == Environment(
        "dev", "environments/dev.yaml", None, Target(endpoint="local")
    )
    assert dev.target == Target(endpoint="local")
    assert Address("namespace", "team-dev") in dev.desired.resources
    assert dev.config_root == "."

    prod = load_config(["."], env="prod", environ={}, var_args=["endpoint=http://127.0.0.1:1"])
    assert prod.environment is not None
    assert prod.environment.state == "postgresql://reconciler@db/reconciler"
    assert prod.target == Target(endpoint="http://127.0.0.1:1")

    qa = load_config(["."], env="qa", environ={})
    assert qa.environment is not None
    assert qa.environment.state == os.path.join("states", "qa.json")
    assert qa.target == Target(region="bj")


def test_a_state_path_is_relative_to_the_configuration_root(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(root.parent)
    qa = load_config([root.name], env="qa", environ={})
    assert qa.config_root == root.name
    assert qa.environment is not None
    assert qa.environment.state == os.path.join(root.name, "states", "qa.json")


def test_environment_files_are_never_read_as_configuration(root: Path) -> None:
    files, problems = find_files(["."])
    assert (files, problems) == (["base.yaml"], [])
    # ... unless named one by one, like any file
    assert find_files(["environments/dev.yaml"])[0] == ["environments/dev.yaml"]
    # an environments/ folder deeper down is configuration like any other folder
    (root / "teams" / "environments").mkdir(parents=True)
    (root / "teams" / "environments" / "a.yaml").write_text("namespaces: []\n")
    assert find_files(["."])[0] == ["base.yaml", "teams/environments/a.yaml"]


def test_without_env_the_environment_files_are_ignored(root: Path) -> None:
    with pytest.raises(ConfigError) as failed:
        load_config(["."], environ={}, var_args=["env=x"])
    assert failed.value.diagnostics == [
        'base.yaml:1:1: error: no target declared: add "target:" with "region" or '
        '"endpoint" to one file'
    ]


def test_an_environment_defined_twice(root: Path) -> None:
    (root / "environments" / "dev.yml").write_text("variables: {env: dev}\n")
    with pytest.raises(ConfigError) as failed:
        load_config(["."], env="dev", environ={})
    assert failed.value.diagnostics == [
        'environments/dev.yaml: error: environment "dev" is defined twice: also in '
        "environments/dev.yml"
    ]


def test_an_empty_environment_file_sets_nothing(root: Path) -> None:
    (root / "environments" / "empty.yaml").write_text("")
    (root / "target.yaml").write_text("target: {endpoint: local}\n")
    result = load_config(["."], env="empty", environ={}, var_args=["env=e"])
    assert result.environment == Environment("empty", "environments/empty.yaml")


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["."], "."),
        ([], "."),
        (["a/b", "a/c/x.yaml"], "a"),
        (["a/c/x.yaml", "a/b"], "a"),
        (["a/b/c.yaml"], os.path.join("a", "b")),
        (["a/b", "a/b/c.yaml"], os.path.join("a", "b")),
        (["a/b", "../outside"], ".."),
    ],
)
def test_the_configuration_root_does_not_depend_on_the_order_of_paths(
    write_files: Write, monkeypatch: pytest.MonkeyPatch, paths: list[str], expected: str
) -> None:
    folder = write_files({"work/a/b/c.yaml": "", "work/a/c/x.yaml": "", "outside/y.yaml": ""})
    monkeypatch.chdir(folder / "work")
    assert config_root(paths) == expected
    absolute = [str(folder / "work" / path) for path in paths] or [str(folder / "work")]
    assert config_root(absolute) == os.path.normpath(str(folder / "work" / expected))


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_the_example_environments_are_valid(name: str) -> None:
    result = load_config([str(EXAMPLE)], env=name, environ={})
    assert result.warnings == ()
    assert result.environment is not None and result.environment.state is None
    names = {address.name for address in result.desired.resources}
    assert names == {
        f"payments-{name}",
        f"search-{name}",
        f"payments-{name}/api",
        f"payments-{name}/ledger",
        f"search-{name}/indexer",
        f"shop-{name}",
    }


def test_the_example_environments_differ_in_workers_target_and_protection() -> None:
    loaded = {
        name: load_config([str(EXAMPLE)], env=name, environ={})
        for name in list_environments(str(EXAMPLE))
    }
    assert list(loaded) == ["dev", "prod", "staging"]
    workers = {}
    for name, result in loaded.items():
        cluster = result.desired.resources[Address("cluster", f"shop-{name}")]
        workers[name] = (cluster.attrs["workers"]["count"], cluster.lifecycle.protect)
    assert workers == {"dev": (1, False), "staging": (2, False), "prod": (3, True)}
    assert {name: r.target.url() for name, r in loaded.items()} == {
        "dev": "local",
        "staging": "local",
        "prod": "https://cce.bj.baidubce.com",
    }


def test_a_test_points_any_example_environment_at_an_emulator() -> None:
    url = "http://127.0.0.1:8765"
    for name in ("dev", "prod"):
        by_var = load_config([str(EXAMPLE)], env=name, var_args=[f"endpoint={url}"], environ={})
        assert by_var.target == Target(endpoint=url)
    # the environment variable is below the environment file, as in Terraform
    by_environ = load_config([str(EXAMPLE)], env="dev", environ={"RECONCILER_VAR_endpoint": url})
    assert by_environ.target == Target(endpoint=url)
    prod = load_config([str(EXAMPLE)], env="prod", environ={"RECONCILER_VAR_endpoint": url})
    assert prod.target.url() == "https://cce.bj.baidubce.com"


def test_the_example_needs_an_environment() -> None:
    with pytest.raises(ConfigError) as failed:
        load_config([str(EXAMPLE)], environ={})
    assert [line.split(": error: ")[1].split(":")[0] for line in failed.value.diagnostics] == [
        'variable "env" has no value',
        'variable "container_net" has no value',
    ]
