"""SIGKILL an apply of examples/ccr where a CCR Enterprise create is most exposed, then run it
again: one robot of its name, holding the secret in its file; one private link, waited for;
everything in state and an empty plan afterwards.

- after the robot's create was committed but its answer dropped (the emulator's ``drop``
  fault, with latency so the kill lands before the next request): CCR takes no client token,
  so the rerun must find the robot by name, not make a second; the secret was written to its
  file before the create was sent, so the file holds the robot's secret;
- while a private link is being made (``ccr_network_seconds``): the rerun waits for it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Workspace

from .test_v2_crash import apply, kill, pending_creates, wait_for

EXAMPLE = ROOT / "examples" / "ccr"
INSTANCE = "ccr-emulator"
ROBOTS = f"/v1/instances/{INSTANCE}/robots"
LINKS = f"/v1/instances/{INSTANCE}/privatelinks"
NETWORK_SECONDS = 600  # emulated seconds a private link takes to be made


@pytest.fixture
def example(ws: Workspace) -> Path:
    folder = ws.root / "ccr"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".reconciler", "secrets"))
    registry = folder / "registry.yaml"
    registry.write_text(
        registry.read_text().replace("endpoint: local", f"endpoint: {ws.emulator.url}")
    )
    return folder


def instance(ws: Workspace) -> dict[str, Any]:
    (found,) = [i for i in ws.emulator.state()["ccr"]["instances"] if i["id"] == INSTANCE]
    return dict(found)


def posts(ws: Workspace, path: str) -> list[dict[str, Any]]:
    return [r for r in ws.emulator.requests_log() if r["method"] == "POST" and r["path"] == path]


def assert_converged(ws: Workspace, folder: Path) -> None:
    state = (folder / ".reconciler" / "state.json").read_text()
    assert '"pending": []' in state
    plan = ws.cli("plan", str(folder), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    mark = ws.emulator.next_index()
    apply(ws, folder)
    assert ws.emulator.mutating_requests(since=mark) == []


def test_kill_after_a_dropped_robot_create_then_rerun_makes_one_robot(
    ws: Workspace, example: Path
) -> None:
    robots = example / "robots.yaml"
    held = robots.read_text()
    robots.unlink()
    apply(ws, example)  # the instance, its endpoint and the projects
    robots.write_text(held)
    ws.emulator.set_faults(latency_ms=400, fail_next=["drop"])  # the robot's create: dropped
    proc = ws.spawn("apply", str(example), "--auto-approve")
    wait_for(
        ws,
        proc,
        lambda log: any(r["path"] == ROBOTS and r.get("fault") == "drop" for r in log),
        "the robot's create",
    )
    kill(proc)
    ws.emulator.set_faults(latency_ms=0)
    assert pending_creates(example) == {f"ccr_robot.{INSTANCE}/ci": None}  # no id was learnt
    secret = example / "secrets" / "ci-robot.secret"
    assert secret.exists()  # written before the create was sent

    out = apply(ws, example)
    assert "was created by an interrupted run" in out
    (robot,) = instance(ws)["robots"]
    assert robot["name"] == "ccr$ci"
    assert [r["status"] for r in posts(ws, ROBOTS)] == [200]  # committed once, never resent
    assert hashlib.sha256(secret.read_text().strip().encode()).hexdigest() == robot["secretSha256"]
    assert_converged(ws, example)


def test_kill_while_a_private_link_is_made_then_rerun_waits_for_it(
    ws: Workspace, example: Path
) -> None:
    registry = example / "registry.yaml"  # without the public endpoint, which waits as well
    text = registry.read_text()
    registry.write_text(text[: text.index("ccr_public_access:")])
    link = f"ccr_private_links:\n  - {{instance: {INSTANCE}, vpcID: vpc-a1, subnetID: sbn-a1}}\n"
    (example / "links.yaml").write_text(link)
    ws.emulator.set_faults(ccr_network_seconds=NETWORK_SECONDS)
    proc = ws.spawn("apply", str(example), "--auto-approve")
    wait_for(ws, proc, lambda log: link_polls(log, after=0) >= 1, "the private link's wait")
    kill(proc)
    assert [x["status"] for x in instance(ws)["privateLinks"]] == ["creating"]

    # the rerun finds the link still being made: it waits for it (the emulator's clock moves
    # on once it polls), then goes on with what depends on the instance
    mark = ws.emulator.next_index()
    rerun = ws.spawn("apply", str(example), "--auto-approve")
    wait_for(ws, rerun, lambda log: link_polls(log, after=mark) >= 2, "the rerun's wait")
    ws.emulator.advance(NETWORK_SECONDS)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, out + err
    assert "still coming up (status creating): apply waits until it is ready" in out
    cloud = instance(ws)
    assert [(x["vpcID"], x["status"]) for x in cloud["privateLinks"]] == [("vpc-a1", "created")]
    assert len(posts(ws, LINKS)) == 1
    assert [r["name"] for r in cloud["robots"]] == ["ccr$ci"]
    assert_converged(ws, example)


def link_polls(log: list[dict[str, Any]], after: int) -> int:
    """GETs of the private links after a link's create: the first is the rerun's refresh, the
    next its wait (a killed run polls right after its create)."""
    created = [r["index"] for r in log if r["method"] == "POST" and r["path"] == LINKS]
    if not created:
        return 0
    start = max(after, created[0])
    return sum(1 for r in log if r["method"] == "GET" and r["path"] == LINKS and r["index"] > start)
