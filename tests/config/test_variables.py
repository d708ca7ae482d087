"""Input variables: declarations, where values come from and in which order, and ``${var.NAME}``.

The diagnostics of mistakes are in the corpus (``corpus/variable-*``); these tests pin what a
valid configuration becomes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config import config_digest, load_config, load_desired_state
from reconciler.config.expansion import Expansion
from reconciler.config.fastpath import fast_check
from reconciler.config.schema import validator
from reconciler.config.variables import Declaration, Value, Variables, parse_text
from reconciler.config.yamlload import Document
from reconciler.errors import ConfigError
from reconciler.kinds import build_spec
from reconciler.model import Address, Location

Write = Callable[[dict[str, str | bytes]], Path]

DECLARATIONS = """variables:
  env: {type: string, default: dev}
  workers: {type: integer, default: 1}
  public: {type: boolean, default: false}
  tags: {type: list, default: [latest]}
  options: {type: map, default: {dnsMode: coreDNS}}
  ratio: {type: number, default: 0.5}
target:
  endpoint: local
"""
USES = """namespaces:
  - name: team-${var.env}
    public: ${var.public}
repositories:
  - namespace: team-${var.env}
    name: api
    tags: ${var.tags}
    description: "${var.env} x${var.workers} ${var.public} ${var.ratio} $${var.env} $$ $"
clusters:
  - name: shop-${var.env}
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 172.16.0.0/16
    advancedOptions: ${var.options}
    workers:
      count: ${var.workers}
      instanceType: "10"
      cpu: 4
      memory: 8
      imageId: m-1
      subnetUuid: sbn-1
      securityGroupId: g-1
"""


@pytest.fixture
def config(write_files: Write, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_files({"base/variables.yaml": DECLARATIONS, "base/uses.yaml": USES})
    monkeypatch.chdir(root)
    return root


def load(**kwargs: Any) -> Any:
    kwargs.setdefault("environ", {})
    return load_config(["base"], **kwargs)


def errors(**kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as failed:
        load(**kwargs)
    return failed.value.diagnostics


def test_a_whole_reference_keeps_the_type_and_text_gets_the_value_written_in(
    config: Path,
) -> None:
    result = load()
    resources = result.desired.resources
    assert resources[Address("namespace", "team-dev")] == build_spec(
        "namespace", {"name": "team-dev", "public": False}
    )
    repository = resources[Address("repository", "team-dev/api")].attrs
    assert repository["tags"] == ["latest"]
    assert repository["description"] == "dev x1 false 0.5 ${var.env} $$ $"
    cluster = resources[Address("cluster", "shop-dev")].attrs
    assert cluster["workers"]["count"] == 1
    assert dict(cluster["advancedOptions"]) == {"dnsMode": "coreDNS"}
    assert result.variables == {
        "env": "dev",
        "workers": 1,
        "public": False,
        "tags": ["latest"],
        "options": {"dnsMode": "coreDNS"},
        "ratio": 0.5,
    }
    assert result.warnings == ()


def test_command_line_text_is_parsed_as_the_declared_type(config: Path) -> None:
    result = load(
        var_args=[
            "workers=3",
            "public=TRUE",
            "tags=[latest, v1]",
            'options={"kubeProxyMode": "ipvs"}',
            "ratio=2",
            "env=3",
        ]
    )
    assert result.variables == {
        "env": "3",
        "workers": 3,
        "public": True,
        "tags": ["latest", "v1"],
        "options": {"kubeProxyMode": "ipvs"},
        "ratio": 2,
    }
    assert Address("cluster", "shop-3") in result.desired.resources


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("string", " [a] ", " [a] "),
        ("integer", "-12", -12),
        ("integer", " 7 ", 7),
        ("number", "1.5e3", 1500.0),
        ("number", "-4", -4),
        ("boolean", "false", False),
        ("list", "[]", []),
        ("list", '["a", 1]', ["a", 1]),
        ("map", "{a: {b: 1}}", {"a": {"b": 1}}),
        ("list", "[2024-01-01]", ["2024-01-01"]),  # no dates: strings stay strings
    ],
)
def test_text_values(kind: str, text: str, value: Any) -> None:
    assert parse_text(kind, text) == (value, None)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("integer", "1.0"),
        ("integer", "0x10"),
        ("number", "nan"),
        ("boolean", "yes"),
        ("list", "{a: 1}"),
        ("map", "[a"),
        ("list", "!!python/name:os.system"),
    ],
)
def test_text_that_is_not_of_the_type(kind: str, text: str) -> None:
    value, problem = parse_text(kind, text)
    assert value is None and problem and problem.startswith("must be")


def test_precedence_default_environ_environment_file_var_files_then_var(
    write_files: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["a", "b", "c", "d", "e"]
    root = write_files(
        {
            "c.yaml": "variables:\n"
            + "".join(f"  {n}: {{type: string, default: default}}\n" for n in names)
            + "target:\n  endpoint: local\n",
            "environments/x.yaml": "variables: {b: envfile, c: envfile, d: envfile, e: envfile}\n",
            "one.yaml": "c: one\nd: one\ne: one\n",
            "two.yaml": "d: two\ne: two\n",
        }
    )
    monkeypatch.chdir(root)
    environ = {f"RECONCILER_VAR_{n}": "environ" for n in names[1:]}
    result = load_config(
        ["c.yaml"],
        env="x",
        var_files=["one.yaml", "two.yaml"],
        var_args=["e=first", "e=last"],
        environ=environ,
    )
    assert result.variables == {
        "a": "default",
        "b": "envfile",
        "c": "one",
        "d": "two",
        "e": "last",
    }
    assert load_config(["c.yaml"], environ=environ).variables["b"] == "environ"


def test_the_environment_is_read_only_for_declared_variables(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_VAR_workers", "4")
    monkeypatch.setenv("RECONCILER_VAR_undeclared", "anything")
    assert load_config(["base"]).variables["workers"] == 4
    assert load(environ={"RECONCILER_VAR_workers": "5"}).variables["workers"] == 5
    assert load().variables["workers"] == 1  # environ={} : os.environ is not read


def test_unused_var_file_keys_are_warnings_returned_to_the_caller(config: Path) -> None:
    (config / "dev.yaml").write_text("env: prod\nwrokers: 3\n")
    result = load(var_files=["dev.yaml"])
    assert result.variables["env"] == "prod"
    assert result.warnings == (
        'dev.yaml:2:1: warning: variable "wrokers" is not declared, so this value is ignored; '
        'did you mean "workers"?',
    )


def test_warnings_come_with_the_errors_they_may_explain(config: Path) -> None:
    (config / "base" / "more.yaml").write_text("variables:\n  team: {type: string}\n")
    (config / "dev.yaml").write_text("taem: payments\n")
    assert errors(var_files=["dev.yaml"]) == [
        'base/more.yaml:2:3: error: variable "team" has no value: give it a default, or set it '
        "with --var team=VALUE, a --var-file, an environment file or RECONCILER_VAR_team",
        'dev.yaml:1:1: warning: variable "taem" is not declared, so this value is ignored; '
        'did you mean "team"?',
    ]


def test_an_empty_var_file_sets_nothing(config: Path) -> None:
    (config / "empty.yaml").write_text("# nothing yet\n")
    assert load(var_files=["empty.yaml"]).variables["env"] == "dev"


def test_a_var_file_under_a_path_is_not_read_as_configuration(config: Path) -> None:
    (config / "base" / "values.yaml").write_text("env: qa\n")
    result = load(var_files=["base/values.yaml"])
    assert "base/values.yaml" not in result.files
    assert Address("namespace", "team-qa") in result.desired.resources


def test_values_are_inserted_as_they_are_never_expanded_again(
    config: Path, write_files: Write
) -> None:
    root = write_files(
        {
            "verbatim/c.yaml": "variables:\n  note: {type: string}\n"
            "target:\n  endpoint: local\n"
            "namespaces:\n  - name: team-a\n"
            "repositories:\n  - {namespace: team-a, name: api, tags: [latest],"
            " description: '${var.note}'}\n"
        }
    )
    state = load_desired_state(
        [str(root / "verbatim")], var_args=["note=cost ${x} $${y}"], environ={}
    )
    repository = state.resources[Address("repository", "team-a/api")]
    assert repository.attrs["description"] == "cost ${x} $${y}"
    assert errors(var_args=["env=x${var.workers}"]) == [
        '--var: error: variable "env" value refers to "${var.workers}": a variable\'s value '
        "is a plain value and cannot refer to variables"
    ]


def test_keys_and_declarations_are_never_expanded(write_files: Write) -> None:
    root = write_files(
        {
            "c.yaml": "variables:\n"
            "  env: {type: string, default: dev, description: 'suffix, as in ${var.env}'}\n"
            "target:\n  endpoint: local\n"
            "namespaces:\n  - name: team-a\n"
            "repositories:\n  - {namespace: team-a, name: api, tags: [latest],"
            " description: '${var.env}'}\n"
        }
    )
    state = load_desired_state([str(root)], environ={})
    repository = state.resources[Address("repository", "team-a/api")]
    assert repository.attrs["description"] == "dev"


def test_a_problem_with_a_substituted_value_points_at_the_use(config: Path) -> None:
    assert errors(var_args=["workers=-2"]) == [
        'base/uses.yaml:16:14: error: cluster "shop-dev" workers.count must be at least 0, '
        'got -2 (variable "workers" from --var)'
    ]
    (config / "dev.yaml").write_text("env: 9\n")
    assert errors(var_args=["env=9"], var_files=["dev.yaml"]) == [
        'dev.yaml:1:6: error: variable "env" value must be a string, got a number 9; put it '
        "in quotes",
    ]


def test_several_variables_in_one_value_are_all_named(config: Path) -> None:
    (config / "base" / "uses.yaml").write_text(
        "namespaces:\n  - name: ${var.env}-${var.workers}-${var.env}\n"
    )
    assert errors(var_args=["env=9"]) == [
        'base/uses.yaml:2:11: error: namespace name "9-1-9" is invalid: 1-65 letters, digits, '
        '"-", "_" or "." starting with a letter (no "/") (variable "env" from --var, '
        'variable "workers" from its default at base/variables.yaml:3:37)'
    ]


def test_the_digest_follows_the_values(config: Path) -> None:
    def digest(**kwargs: Any) -> str:
        loaded = load(**kwargs)
        return config_digest(loaded.desired, loaded.target)

    assert digest() != digest(var_args=["workers=2"])
    assert digest() == digest(var_args=["workers=1"])


def test_a_configuration_without_variables_is_unchanged_by_variable_sources(
    write_files: Write,
) -> None:
    root = write_files({"c.yaml": "target:\n  endpoint: local\nnamespaces: [{name: a}]\n"})
    environ = {"RECONCILER_VAR_x": "1"}
    assert load_desired_state([str(root)], environ=environ) == load_desired_state([str(root)])


def test_a_variable_can_name_a_secret_reference_but_not_be_the_secret(
    write_files: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CCR_PASSWORD_DEV", "S3cret-dev")
    root = write_files(
        {
            "c.yaml": "variables:\n  env: {type: string, default: DEV}\n"
            "target:\n  endpoint: local\n"
            "users:\n  - username: ccetest\n    password: {env: 'CCR_PASSWORD_${var.env}'}\n"
        }
    )
    state = load_desired_state([str(root)], check_secrets=True, environ={})
    user = state.resources[Address("user", "ccetest")]
    assert user.secrets["password"].env == "CCR_PASSWORD_DEV"
    with pytest.raises(ConfigError) as failed:
        load_desired_state([str(root)], check_secrets=True, environ={}, var_args=["env=PROD"])
    assert failed.value.diagnostics == [
        f"{root}/c.yaml:7:15: error: user.ccetest: password: environment variable "
        "CCR_PASSWORD_PROD is not set"
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["string", "integer", "number", "boolean", "list", "map", None]),
    st.text(alphabet=st.sampled_from(list("ab1.-e[]{}:,'\"&*!|>#\t\n$")), max_size=30),
)
def test_any_text_is_a_value_or_a_reason(kind: str | None, text: str) -> None:
    value, problem = parse_text(kind, text)
    assert (problem is None) or (value is None and problem.startswith("must be"))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("$${}var.xy-")), max_size=24))
def test_any_text_with_references_expands_or_is_reported(text: str) -> None:
    variables = Variables()
    declared = Location("c.yaml", 1, 1)
    variables.declarations["x"] = Declaration("x", "string", declared)
    variables.values["x"] = Value("X", "--var")
    document = Document(
        "c.yaml", {"namespaces": [{"name": text}]}, {}, {}, (("namespaces", 0, "name"),)
    )
    expansion = Expansion(variables)
    expanded = expansion.document(document)
    result = expanded.data["namespaces"][0]["name"]
    assert isinstance(result, str)
    if expansion.problems or expansion.unusable:
        assert result == text
    else:
        assert "${var.x}" not in text.replace("$${", "") or "X" in result


def test_the_fast_check_stays_sound_for_variables_blocks() -> None:
    check = fast_check()
    assert check is not None
    for block in [
        {"x": {"type": "string"}},
        {"x": {"type": "strin"}},
        {"9x": {"type": "string"}},
        {"x": {"type": "list", "default": [1], "description": "d"}},
        {"x": {"type": "list", "extra": 1}},
        {"x": None},
        None,
        [],
    ]:
        data = {"variables": block}
        if check(data):
            assert not list(validator().iter_errors(data)), block
    assert check({"variables": {"x": {"type": "integer", "default": 3}}})
    assert not check({"variables": {"x-y": {"type": "integer"}}})
