"""Under 20 % injected faults (500, 503, 429, connection reset, commit-then-drop), apply
converges within 3 runs to exactly the fault-free final state, one object per address, and the
state records every object. 20 seeds by default; RECONCILER_LONG=1 sweeps 300."""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.conftest import Workspace

from .scenario import (
    LONG_SWEEP,
    config_text,
    damage,
    expected_cloud,
    observed_cloud,
    resource_count,
)

SEEDS = range(300) if LONG_SWEEP else range(20)


def apply_until_clean(ws: Workspace, runs: int = 3) -> list[int]:
    codes = []
    for _ in range(runs):
        result = ws.cli("apply", str(ws.root), "--auto-approve", "--parallelism", "10")
        codes.append(result.code)
        assert "Traceback" not in result.out + result.err
        if result.code == 0:
            break
    return codes


@pytest.mark.parametrize("seed", SEEDS)
def test_converges_under_faults(ws: Workspace, seed: int) -> None:
    (ws.root / "main.yaml").write_text(config_text(ws.emulator.url))
    ws.emulator.set_faults(fault_rate=0.2, seed=seed)
    codes = apply_until_clean(ws)
    faults = [r["fault"] for r in ws.emulator.requests_log() if r.get("fault")]
    ws.emulator.set_faults(fault_rate=0.0)
    cloud = ws.emulator.state()
    observed = observed_cloud(cloud)
    expected = expected_cloud()
    state_doc = json.loads(ws.state_file().read_text())
    record(
        {
            "suite": "faults",
            "seed": seed,
            "runs": len(codes),
            "faults": len(faults),
            "converged": codes[-1] == 0,
            **damage(cloud, state_doc),
        }
    )
    assert codes[-1] == 0, f"seed {seed}: exit codes {codes}"
    assert observed["duplicate_clusters"] == []
    assert observed["cluster_statuses"] == ["RUNNING"] * len(expected["clusters"])
    for key in ("user", "namespaces", "images", "clusters"):
        assert observed[key] == expected[key], f"seed {seed}: {key} differs"
    state = json.loads(ws.state_file().read_text())
    assert len(state["resources"]) == resource_count()
    assert state["pending"] == []
    mark = ws.emulator.next_index()
    final = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert final.code == 0, final.out
    assert ws.emulator.mutating_requests(since=mark) == []


def record(row: dict[str, object]) -> None:
    """Append a figure for the README's reliability table when RECONCILER_RELIABILITY_REPORT is set."""
    path = os.environ.get("RECONCILER_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
