"""`make bench` kept working: the benchmark at N = 100 with a small latency, end to end.

A benchmark, not a timed test: it checks that the table is printed, the JSON is written, the
worlds were in sync and the request counts are what the design says (list pages for a plan,
one GET per resource for the Terraform-style refresh, one POST per create, and for a saved
plan's apply only the lists of the kind it changes) - never a time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from bench.workload import Shape

REPO = Path(__file__).resolve().parents[2]
CREATES = 40
UPDATES = 30


def test_the_benchmark_runs_at_n_100(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "bench.run", "--sizes", "100", "--latency-ms", "2"]
    command += ["--repeats", "1", "--creates", str(CREATES), "--rate", "400", "--out", str(out)]
    command += ["--versus-terraform", "20", "--versus-repeats", "1", "--changes", str(UPDATES)]

    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr[-3000:]
    headings = ("plan, everything in sync", "plan phases", "apply:", "apply --plan FILE", "bounds")
    for heading in (*headings, "repository updates among N managed"):
        assert heading in done.stdout
    results = json.loads(out.read_text())
    versus = results["versus_terraform"]
    assert "whole processes: reconciler plan over 20 resources" in done.stdout
    if shutil.which("terraform") is None:
        assert versus == {"n": 20, "skipped": "no terraform binary on PATH"}
    else:
        assert len(versus["ours"]["runs"]) == len(versus["terraform"]["runs"]) == 1
        assert versus["ratio_wall"] > 0 and "Terraform v" in versus["terraform_version"]
    (row,) = results["plan"]
    shape = Shape.of(100)
    assert row["list_pages"] == 5
    assert row["plan"]["emulator_requests"] == row["plan"]["requests"] == 5
    assert row["plan"]["emulator_mutating"] == 0
    managed = 1 + shape.namespaces + shape.repositories + 2  # a cluster: get + node list
    assert row["terraform"]["emulator_requests"] == row["terraform"]["requests"] == managed
    unlimited, limited = results["apply"]
    assert unlimited["rate"] is None and limited["rate"] == 400
    for apply in (unlimited, limited):
        assert apply["apply"]["emulator_mutating"] == CREATES
        assert apply["apply"]["summary_line"].startswith(f"Apply complete: {CREATES} created")
    saved = row["saved_plan"]["apply"]
    # the user, the namespace page and the image page (no cluster read, no plan), one POST
    assert saved["emulator_requests"] == 4
    assert saved["emulator_mutating"] == 1
    assert "plan" not in saved["phases"] and "read plan" in saved["phases"]
    assert "save" in saved["saved"]["phases"]
    updates = row["changes"]
    assert updates["changes"] == UPDATES
    assert updates["apply"]["emulator_mutating"] == UPDATES
    assert {"load", "state", "refresh", "plan", "execute", "write"} <= set(
        updates["apply"]["phases"]
    )
    assert {check["bound"].split(":")[0] for check in results["bounds"]} >= {
        "plan N=100",
        f"apply {CREATES} creates",
        "apply --rate 400",
    }
