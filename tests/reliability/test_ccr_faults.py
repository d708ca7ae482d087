"""CCR Enterprise under 20 % injected faults (500, 503, 429, connection reset, commit-then-
drop): apply of examples/ccr, plus a private link and a replication endpoint, converges within
3 runs to the fault-free result, one object per name, every object in state, and the robot
holding the secret its file holds. 10 seeds by default; RECONCILER_LONG=1 sweeps 100."""

from __future__ import annotations

import hashlib
import json
import shutil
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Workspace

from .scenario import LONG_SWEEP
from .test_faults import apply_until_clean, record

EXAMPLE = ROOT / "examples" / "ccr"
INSTANCE = "ccr-emulator"
SEEDS = range(100) if LONG_SWEEP else range(10)
EXTRA = f"""ccr_private_links:
  - {{instance: {INSTANCE}, vpcID: vpc-a1, subnetID: sbn-a1}}
ccr_replication_endpoints:
  - instance: {INSTANCE}
    name: hub
    type: docker-hub
    url: https://hub.docker.com
    username: shopbot
    password: {{env: HUB_TOKEN}}
"""
MANAGED = 8  # instance, public endpoint, 3 projects, robot, link, endpoint


def setup(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/ccr and the extras, straight in the workspace root (apply_until_clean's path)."""
    for name in ("registry.yaml", "robots.yaml"):
        shutil.copy(EXAMPLE / name, ws.root / name)
    registry = ws.root / "registry.yaml"
    registry.write_text(
        registry.read_text().replace("endpoint: local", f"endpoint: {ws.emulator.url}")
    )
    (ws.root / "extra.yaml").write_text(EXTRA)
    monkeypatch.setenv("HUB_TOKEN", "hub-token-1")


def observed(ws: Workspace) -> dict[str, Any]:
    (instance,) = [i for i in ws.emulator.state()["ccr"]["instances"] if i["id"] == INSTANCE]
    return {
        "name": instance["name"],
        "projects": sorted(p["projectName"] for p in instance["projects"]),
        "robots": [r["name"] for r in instance["robots"]],
        "public": instance["publicNetwork"]["status"],
        "allow": sorted(e["ipAddr"] for e in instance["publicNetwork"]["whitelist"]),
        "links": [(x["vpcID"], x["status"]) for x in instance["privateLinks"]],
        "registries": [r["name"] for r in instance["registries"]],
        "secret": instance["robots"][0]["secretSha256"] if instance["robots"] else None,
    }


EXPECTED = {
    "name": "shop-registry",
    "projects": ["base-images", "shop", "shop-public"],
    "robots": ["ccr$ci"],
    "public": "opened",
    "allow": ["198.51.100.7", "203.0.113.0/24"],
    "links": [("vpc-a1", "created")],
    "registries": ["hub"],
}


@pytest.mark.parametrize("seed", SEEDS)
def test_ccr_converges_under_faults(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    setup(ws, monkeypatch)
    ws.emulator.set_faults(fault_rate=0.2, seed=seed)
    codes = apply_until_clean(ws)
    faults = [r["fault"] for r in ws.emulator.requests_log() if r.get("fault")]
    ws.emulator.set_faults(fault_rate=0.0)
    record({"suite": "ccr-faults", "seed": seed, "runs": len(codes), "faults": len(faults)})
    assert codes[-1] == 0, f"seed {seed}: exit codes {codes}"
    seen = observed(ws)
    secret = (ws.root / "secrets" / "ci-robot.secret").read_text().strip()
    assert seen.pop("secret") == hashlib.sha256(secret.encode()).hexdigest(), f"seed {seed}"
    assert seen == EXPECTED, f"seed {seed}"
    state = json.loads(ws.state_file().read_text())
    assert len(state["resources"]) == MANAGED and state["pending"] == []
    mark = ws.emulator.next_index()
    final = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert final.code == 0, final.out
    assert ws.emulator.mutating_requests(since=mark) == []


@pytest.mark.parametrize("fault", ["drop", "reset", "InternalError"])
def test_every_ccr_create_converges_under_a_lost_answer(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """The configuration grows one kind at a time, and the fault hits the first change each
    apply sends: a project's create, the robot's, the private link's, the endpoint's (its
    ping is not a change)."""
    setup(ws, monkeypatch)
    registry = ws.root / "registry.yaml"
    full = {
        p.name: p.read_text() for p in (registry, ws.root / "robots.yaml", ws.root / "extra.yaml")
    }
    text = full["registry.yaml"]
    start, end = text.index("ccr_projects:"), text.index("ccr_public_access:")
    registry.write_text(text[:start] + text[end:])  # the instance and its endpoint first
    (ws.root / "robots.yaml").unlink()
    (ws.root / "extra.yaml").unlink()
    assert apply_until_clean(ws)[-1] == 0
    links, endpoints = full["extra.yaml"].split("ccr_replication_endpoints:")
    steps = [
        (registry, full["registry.yaml"]),
        (ws.root / "robots.yaml", full["robots.yaml"]),
        (ws.root / "extra.yaml", links),
        (ws.root / "extra.yaml", links + "ccr_replication_endpoints:" + endpoints),
    ]
    for path, body in steps:
        path.write_text(body)
        ws.emulator.set_faults(fail_next=[fault])
        result = ws.cli("apply", str(ws.root), "--auto-approve", "--parallelism", "1")
        codes = [result.code] + (apply_until_clean(ws) if result.code else [])
        assert codes[-1] == 0, f"{fault}, {path.name}: exit codes {codes}"
        assert ws.emulator.faults()["fail_next"] == [], "the forced fault was used"
    seen = observed(ws)
    secret = (ws.root / "secrets" / "ci-robot.secret").read_text().strip()
    assert seen.pop("secret") == hashlib.sha256(secret.encode()).hexdigest()
    assert seen == EXPECTED
    committed = [
        r["path"].rsplit("/", 1)[1]
        for r in ws.emulator.requests_log()
        if r["method"] == "POST" and r["status"] == 200 and r["path"].startswith("/v1/instances")
    ]
    assert committed.count("robots") == 1 and committed.count("registries") == 1
    assert committed.count("privatelinks") == 1 and committed.count("projects") == 3
