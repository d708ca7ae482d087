"""Where a run lives is resolved once (``context.resolve``): the state location by its rules,
the root, the files, the target, the environment and the secrets base."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config import load_config
from reconciler.context import RunContext, resolve, without_config
from reconciler.errors import UsageError
from reconciler.model import NO_CHOICE, ConfigChoice, Target
from reconciler.options import NO_STATE_CHOICE, StateChoice

NO_ENV: dict[str, str] = {}


def infra(tmp_path: Path, environment: str = "") -> Path:
    """``infra/main.yaml`` and, if given, ``infra/environments/dev.yaml``."""
    folder = tmp_path / "infra"
    (folder / "environments").mkdir(parents=True)
    (folder / "main.yaml").write_text("target: {endpoint: local}\nnamespaces: [{name: a}]\n")
    if environment:
        (folder / "environments" / "dev.yaml").write_text(environment)
    return folder


def context_of(
    paths: list[str], choice: ConfigChoice = NO_CHOICE, state: StateChoice = NO_STATE_CHOICE
) -> RunContext:
    loaded = load_config(paths, env=choice.env)
    return resolve(loaded, choice, state, NO_ENV)


def test_a_run_lives_under_its_configuration_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    infra(tmp_path)
    monkeypatch.chdir(tmp_path)
    context = context_of(["infra"])
    assert context.config_root == "infra"
    assert context.files == ("infra/main.yaml",)
    assert context.target == Target(endpoint="local")
    assert context.environment is None
    assert context.state_location == "infra/.reconciler/state.json"
    assert context.state_dir == Path("infra/.reconciler")
    assert context.secrets_base == "infra"


def test_an_environment_file_state_is_relative_to_the_root_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    infra(tmp_path, "state: custom/state.json\n")
    monkeypatch.chdir(tmp_path)
    context = context_of(["infra"], ConfigChoice("dev"))
    assert context.environment == "dev"
    assert context.state_location == "infra/custom/state.json"


def test_the_state_location_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    infra(tmp_path, "variables: {}\n")
    monkeypatch.chdir(tmp_path)
    dev = ConfigChoice("dev")
    assert context_of(["infra"], dev).state_location == "infra/.reconciler/envs/dev/state.json"
    workspace = StateChoice(workspace="blue")
    assert (
        context_of(["infra"], state=workspace).state_location
        == "infra/.reconciler/workspaces/blue/state.json"
    )
    given = StateChoice("elsewhere.json")
    assert context_of(["infra"], dev, given).state_location == "elsewhere.json"
    with pytest.raises(UsageError, match="--workspace blue with --env dev"):
        context_of(["infra"], dev, workspace)


def test_on_postgresql_the_workspace_is_the_environment_unless_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql://reconciler@db/reconciler"
    infra(tmp_path, f"state: {url}\n")
    monkeypatch.chdir(tmp_path)
    dev = ConfigChoice("dev")
    assert (context_of(["infra"], dev).state_location, context_of(["infra"], dev).workspace) == (
        url,
        "dev",
    )
    assert context_of(["infra"], dev, StateChoice(workspace="blue")).workspace == "blue"


def test_reconciler_state_is_read_once_when_no_state_is_given() -> None:
    environ = {"RECONCILER_STATE": "from-env.json"}
    assert without_config(StateChoice(), environ).state_location == "from-env.json"
    assert without_config(StateChoice("given.json"), environ).state_location == "given.json"
    assert without_config(StateChoice(), NO_ENV).state_location == ".reconciler/state.json"
