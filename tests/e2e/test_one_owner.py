"""One owner per object: a namespace without ${var.env}, applied in dev, is not adopted or
imported by prod, and a plan that would delete an object another environment's state also
records is refused, naming that state. (The PostgreSQL half, workspaces of one database, is in
tests/state/test_cli_postgres.py.)"""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.kinds import names as kind_names
from reconciler.state.local import LocalStateStore

from .conftest import PASSWORD, Workspace

SHARED = """variables:
  env: {type: string}
namespaces:
  - name: shared
  - name: app-${var.env}
"""


def setup(ws: Workspace) -> Path:
    ws.write(SHARED)
    (ws.root / "environments").mkdir()
    for env in ("dev", "prod"):
        (ws.root / "environments" / f"{env}.yaml").write_text(f"variables:\n  env: {env}\n")
    creds = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, creds) as client:
        client.create_user("shopadmin", PASSWORD)  # one registry user per account, made outside
    applied = ws.cli("apply", str(ws.root), "--env", "dev", "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    return ws.root / ".reconciler" / "envs"


def test_prod_neither_adopts_nor_imports_what_dev_manages(ws: Workspace) -> None:
    setup(ws)
    dev = "environment dev (.reconciler/envs/dev/state.json)"
    before = ws.emulator.mutating_requests()

    plan = ws.cli("plan", str(ws.root), "--env", "prod", "--json")
    assert plan.code == 3, plan.err
    (conflict,) = json.loads(plan.out)["conflicts"]
    assert conflict["address"] == "namespace.shared"
    assert f"{dev} manages it (as namespace.shared)" in conflict["message"]
    assert (
        conflict["suggested_command"] is None
        and "import" not in conflict["message"].split("do not import")[1]
    )

    imported = ws.cli("import", "namespace.shared", "shared", str(ws.root), "--env", "prod")
    assert imported.code == 3, imported.out + imported.err
    assert dev in imported.err
    assert not (ws.root / ".reconciler" / "envs" / "prod" / "state.json").exists()

    adopted = ws.cli("apply", str(ws.root), "--env", "prod", "--adopt", "--auto-approve")
    assert adopted.code == 3, adopted.out + adopted.err
    assert f"namespace.shared: another state manages it: {dev} manages shared" in adopted.err
    reasons = json.loads(ws.cli("plan", str(ws.root), "--env", "prod", "--adopt", "--json").out)
    assert [(r["reason"], r["address"]) for r in reasons["refusals"]] == [
        ("owned-elsewhere", "namespace.shared")
    ]
    assert ws.emulator.mutating_requests() == before


def test_a_plan_that_would_delete_an_object_another_state_records_is_refused(
    ws: Workspace,
) -> None:
    envs = setup(ws)
    # two owners, as an earlier version let `import` make them: prod records dev's namespace
    assert (
        ws.cli(
            "apply",
            str(ws.root),
            "--env",
            "prod",
            "--target",
            "namespace.app-prod",
            "--auto-approve",
        ).code
        == 0
    )
    prod = LocalStateStore(envs / "prod" / "state.json", kinds=kind_names())
    state = prod.read()
    shared = LocalStateStore(envs / "dev" / "state.json", kinds=kind_names()).read().resources
    state.resources[next(a for a in shared if a.name == "shared")] = next(
        e for a, e in shared.items() if a.name == "shared"
    )
    prod.write(state)

    ws.write(SHARED.replace("  - name: shared\n", ""))
    plan = ws.cli("plan", str(ws.root), "--env", "dev", "--detailed-exitcode")
    assert plan.code == 3, plan.out + plan.err
    assert "environment prod (.reconciler/envs/prod/state.json) manages shared" in plan.out
    applied = ws.cli("apply", str(ws.root), "--env", "dev", "--auto-approve")
    assert applied.code == 3, applied.out + applied.err
    live = {n["namespace"] for n in ws.emulator.state()["namespaces"]}
    assert "shared" in live, "dev's ordinary plan deleted the namespace prod manages"
