"""The JSON Schemas: well formed, documented for editors, shipped, and in step with the code."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import yaml
from referencing.jsonschema import DRAFT202012

from reconciler.config import PATTERN_HINTS, schema_documents

REPO = Path(__file__).resolve().parents[2]
KINDS = [
    "config",
    "target",
    "user",
    "namespace",
    "repository",
    "cluster",
    "k8s-cluster",
    "instance-group",
    "addon",
    "ccr-instance",
    "ccr-public-access",
    "ccr-private-link",
    "ccr-project",
    "ccr-repository",
    "ccr-robot",
    "ccr-replication-endpoint",
    "lifecycle",
    "import",
    "secret-ref",
    "variable",
    "variable-ref",
    "variable-string",
    "environment",
]
VALUE_KINDS = ["variable-ref", "variable-string"]  # strings: they have no keys


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    return schema_documents()


def properties(schema: dict[str, Any], where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for name, prop in schema.get("properties", {}).items():
        yield f"{where}{name}", prop
        yield from properties(prop, f"{where}{name}.")
        yield from properties(prop.get("items", {}), f"{where}{name}[].")


def objects(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if schema.get("type") == "object":
        yield schema
    for prop in schema.get("properties", {}).values():
        yield from objects(prop)


def patterns(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            yield schema["pattern"]
        yield from schema.get("patternProperties", {})
        for value in schema.values():
            yield from patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from patterns(value)


def test_one_schema_per_kind_ships_in_the_package(schemas: dict[str, dict[str, Any]]) -> None:
    assert sorted(schemas) == sorted(f"{kind}.schema.json" for kind in KINDS)


def test_the_top_level_schemas_folder_is_the_package_data() -> None:
    assert (REPO / "schemas").resolve() == (REPO / "reconciler" / "schemas").resolve()
    assert 'reconciler = ["schemas/*.json"' in (REPO / "pyproject.toml").read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_each_schema_is_valid_draft_2020_12_with_id_and_title(
    schemas: dict[str, dict[str, Any]], kind: str
) -> None:
    schema = schemas[f"{kind}.schema.json"]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{kind}.schema.json"
    assert schema["title"] and schema["description"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_has_a_title_and_a_description(
    schemas: dict[str, dict[str, Any]], kind: str
) -> None:
    undocumented = [
        name
        for name, prop in properties(schemas[f"{kind}.schema.json"])
        if not (prop.get("title") and prop.get("description"))
    ]
    assert undocumented == []


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind not in VALUE_KINDS])
def test_every_object_refuses_unknown_keys(schemas: dict[str, dict[str, Any]], kind: str) -> None:
    found = list(objects(schemas[f"{kind}.schema.json"]))
    assert found and all(obj.get("additionalProperties") is False for obj in found)


def test_every_pattern_has_a_human_hint_and_no_hint_is_stale(
    schemas: dict[str, dict[str, Any]],
) -> None:
    used = {pattern for schema in schemas.values() for pattern in patterns(schema)}
    assert used == set(PATTERN_HINTS)


def test_the_patterns_say_what_the_seed_says() -> None:
    name = re.compile(
        next(p for p, hint in PATTERN_HINTS.items() if hint.endswith("starting with a letter"))
    )
    tag = re.compile(
        next(p for p, hint in PATTERN_HINTS.items() if hint.endswith("letter or digit"))
    )
    user = re.compile(next(p for p, hint in PATTERN_HINTS.items() if hint.startswith("4-30")))
    assert name.fullmatch("a" * 65) and not name.fullmatch("a" * 66) and not name.fullmatch("9a")
    assert name.fullmatch("team-a_b/c.d") and not name.fullmatch("team a")
    assert (
        tag.fullmatch("9.1")
        and tag.fullmatch("v1.2")
        and not tag.fullmatch("-rc")
        and not tag.fullmatch("")
    )
    assert (
        user.fullmatch("ccetest")
        and not user.fullmatch("cce")
        and not user.fullmatch("CceTest")
        and not user.fullmatch("a" * 31)
    )


@pytest.mark.parametrize(
    "example",
    sorted((REPO / "examples").rglob("*.yaml")),
    ids=lambda p: p.relative_to(REPO).as_posix(),
)
def test_examples_validate_with_plain_jsonschema_and_carry_the_modeline(
    schemas: dict[str, dict[str, Any]], example: Path
) -> None:
    """What an editor sees: the shipped schemas as they are, variables not substituted."""
    in_environments = example.relative_to(REPO / "examples").parts[1:-1] == ("environments",)
    kind = "environment" if in_environments else "config"
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (schema["$id"], DRAFT202012.create_resource(schema)) for schema in schemas.values()
    )
    validator = jsonschema.Draft202012Validator(schemas[f"{kind}.schema.json"], registry=registry)
    text = example.read_text()
    validator.validate(yaml.safe_load(text))
    modeline = text.splitlines()[0]
    schema = (example.parent / modeline.split("=", 1)[1]).resolve()
    assert modeline.startswith("# yaml-language-server: $schema=../")
    assert schema == REPO / "reconciler" / "schemas" / f"{kind}.schema.json"
    assert schema.is_file()


def test_schema_files_are_formatted_json(schemas: dict[str, dict[str, Any]]) -> None:
    for name in schemas:
        text = (REPO / "reconciler" / "schemas" / name).read_text()
        assert json.loads(text) == schemas[name] and text.endswith("}\n")


def test_the_committed_schemas_are_what_reconciler_schema_writes(
    run_cli: Any, tmp_path: Path
) -> None:
    """``schemas/`` is generated from the kinds (``reconciler schema --out schemas``): a kind's
    field table changed without regenerating the files fails here."""
    out = tmp_path / "schemas"
    result = run_cli(["schema", "--out", str(out)])
    assert result.code == 0, result.err
    written = {p.name: p.read_bytes() for p in out.iterdir()}
    committed = {p.name: p.read_bytes() for p in (REPO / "reconciler" / "schemas").iterdir()}
    stale = sorted(
        n for n in written.keys() | committed.keys() if written.get(n) != committed.get(n)
    )
    assert stale == [], "regenerate with: reconciler schema --out schemas"


def test_the_generated_schemas_say_so() -> None:
    generated = [
        name
        for name in sorted((REPO / "reconciler" / "schemas").iterdir())
        if "$comment" in json.loads(name.read_text())
    ]
    assert [p.name for p in generated] == sorted(
        ["config.schema.json", *(f"{kind}.schema.json" for kind in KINDS[2:16])]
    )
