"""`reconciler show` and `reconciler schema` through the CLI: a saved plan printed three ways,
and the schemas written for an editor that resolve among themselves from the folder written."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import yaml
from markdown_it import MarkdownIt
from referencing.jsonschema import DRAFT202012

from reconciler.cli import main
from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient

from .conftest import BASE, PASSWORD, ROOT, Result, Workspace

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def run(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


def saved_plan(ws: Workspace) -> tuple[Path, dict[str, Any]]:
    """`plan --json --out`: the saved plan and the JSON that plan printed for it."""
    ws.write(BASE)
    out = ws.root / "plan.bin"
    result = ws.cli("plan", str(ws.root), "--json", "--out", str(out))
    assert result.code == 0, result.out + result.err
    return out, json.loads(result.out)


def test_show_prints_the_saved_plan_as_plan_did(ws: Workspace) -> None:
    ws.write(BASE)
    out = ws.root / "plan.bin"
    plan = ws.cli("plan", str(ws.root), "--out", str(out), "--no-color")
    assert plan.code == 0, plan.err
    shown = ws.cli("show", str(out), "--no-color")
    assert shown.code == 0, shown.err
    assert "Plan: 7 to create" in shown.out
    # the same lines; a saved plan keeps attributes with sorted keys, so their order may differ
    printed = plan.out.splitlines()
    assert sorted(shown.out.splitlines()) == sorted(printed[: len(shown.out.splitlines())])
    assert PASSWORD not in shown.out


def test_show_json_equals_plan_json(ws: Workspace) -> None:
    out, printed = saved_plan(ws)
    shown = ws.cli("show", str(out), "--json")
    assert shown.code == 0, shown.err
    assert json.loads(shown.out) == printed


def test_show_markdown_renders_the_saved_plan(ws: Workspace) -> None:
    out, _ = saved_plan(ws)
    shown = ws.cli("show", str(out), "--markdown")
    assert shown.code == 0, shown.err
    tokens = MarkdownIt("commonmark").parse(shown.out)
    assert tokens[0].type == "paragraph_open"
    assert tokens[1].content.startswith("**Plan:** 7 to create, 0 to update")
    assert ws.emulator.url in tokens[1].content  # the context line: the target
    summaries = [
        s
        for t in tokens
        if t.type == "html_block"
        for s in re.findall(r"<summary>(.*?)</summary>", t.content)
    ]
    assert "+ repository.team-a/api will be created" in summaries
    assert len(summaries) == 7
    assert "+ password = (sensitive)" in shown.out
    assert PASSWORD not in shown.out and "CCR_PASSWORD" not in shown.out


def test_show_markdown_folds_to_the_limit_given(ws: Workspace) -> None:
    out, _ = saved_plan(ws)
    shown = ws.cli("show", str(out), "--markdown", "--limit", "1500")
    assert shown.code == 0, shown.err
    assert len(shown.out) <= 1500
    assert f"run `reconciler show {out}` for the full plan" in shown.out


def test_show_refuses_what_is_not_a_saved_plan(tmp_path: Path) -> None:
    bogus = tmp_path / "plan.bin"
    bogus.write_text("{}")
    result = run("show", str(bogus))
    assert result.code == 1 and "not a saved plan" in result.err
    both = run("show", str(bogus), "--json", "--markdown")
    assert both.code == 1 and "cannot be used together" in both.err


def _validator(folder: Path, schema_name: str) -> jsonschema.protocols.Validator:
    """A validator that, like an editor, resolves every $ref relative to the file in ``folder``;
    any reference outside the folder fails."""

    def retrieve(uri: str) -> referencing.Resource[Any]:
        path = Path(uri.removeprefix("file://"))
        if not uri.startswith("file://") or path.parent != folder.resolve():
            raise referencing.exceptions.NoSuchResource(uri)
        return DRAFT202012.create_resource(json.loads(path.read_text()))

    registry: referencing.Registry[Any] = referencing.Registry(retrieve=retrieve)  # type: ignore[call-arg]
    root = {"$ref": (folder / schema_name).resolve().as_uri()}
    return jsonschema.Draft202012Validator(root, registry=registry)


def test_schema_writes_a_self_consistent_set_that_validates_the_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("schema")
    assert result.code == 0, result.err
    folder = tmp_path / "schemas"
    shipped = sorted(p.name for p in (ROOT / "reconciler" / "schemas").glob("*.schema.json"))
    assert sorted(p.name for p in folder.iterdir()) == shipped
    for name in shipped:
        jsonschema.Draft202012Validator.check_schema(json.loads((folder / name).read_text()))
    assert "# yaml-language-server: $schema=./schemas/config.schema.json" in result.out
    assert "# yaml-language-server: $schema=../schemas/environment.schema.json" in result.out

    examples = sorted((ROOT / "examples").rglob("*.yaml"))
    assert any(p.parent.name == "quickstart" for p in examples)
    for path in examples:
        text = path.read_text()
        schema_name = Path(MODELINE.findall(text)[0]).name
        errors = list(_validator(folder, schema_name).iter_errors(yaml.safe_load(text)))
        assert errors == [], f"{path}: {[e.message for e in errors]}"
    broken = {"target": {"region": 7}, "namespaces": [{"nmae": "x"}]}
    assert list(_validator(folder, "config.schema.json").iter_errors(broken))


def test_schema_out_writes_where_asked_and_prints_its_modeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("schema", "--out", "infra/.schemas")
    assert result.code == 0, result.err
    assert (tmp_path / "infra" / ".schemas" / "config.schema.json").is_file()
    assert "$schema=./infra/.schemas/config.schema.json" in result.out


def test_pre_commit_hook_runs_validate_on_the_whole_configuration() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "reconciler-validate"
    assert hook["entry"] == "reconciler validate" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "team-a.yaml") and re.search(hook["files"], "x.yml")
    assert not re.search(hook["files"], "README.md")


def test_a_schema_set_with_a_dangling_reference_is_refused() -> None:
    from reconciler.commands.schema import check_self_contained, shipped_schemas
    from reconciler.errors import ReconcilerError

    schemas = shipped_schemas()
    check_self_contained(schemas)
    del schemas["target.schema.json"]
    with pytest.raises(ReconcilerError, match="config.schema.json: \\$ref 'target.schema.json'"):
        check_self_contained(schemas)
    renamed = {**shipped_schemas(), "user.schema.json": b'{"$id": "users.schema.json"}'}
    with pytest.raises(ReconcilerError, match="not its file name"):
        check_self_contained(renamed)


def test_show_markdown_counts_adoptions_as_text_does(ws: Workspace) -> None:
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, creds) as client:
        client.create_user("ccetest", PASSWORD)
    ws.write(BASE)
    out = ws.root / "plan.bin"
    plan = ws.cli("plan", str(ws.root), "--adopt", "--out", str(out), "--no-color")
    assert plan.code == 0, plan.out + plan.err
    assert "Plan: 6 to create, 0 to update, 0 to replace, 0 to delete" in plan.out
    assert "1 to import, 0 unchanged." in plan.out
    shown = ws.cli("show", str(out), "--markdown")
    assert shown.code == 0, shown.err
    first = shown.out.splitlines()[0]
    assert first == (
        "**Plan:** 6 to create, 0 to update, 0 to replace, 0 to delete, 0 to forget, "
        "1 to import, 0 unchanged."
    )
