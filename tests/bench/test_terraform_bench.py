"""`make bench-terraform` kept working: the import-terraform benchmark on a small state, which
prints its figures; never a timed assertion."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_terraform_benchmark_runs_on_a_small_state() -> None:
    command = [sys.executable, "-m", "bench.terraform_import", "--clusters", "3", "--groups", "2"]
    command += ["--repeats", "1"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    # 3 x (a cluster, 2 groups and a tainted one, a data source); the tainted and data not converted
    assert lines[0].endswith("15 instances, 9 converted")
    assert [line.split()[0] for line in lines[1:5]] == ["read", "convert", "yaml", "total"]
    assert "instances/s" in lines[5]
