"""A whole ``reconciler plan`` beside Terraform core's own plan, as users run them.

For: section 0 of ``make bench``. The reconciler plans N resources in sync (``bench.workload``'s
world, its emulator in a child process with the run's latency), including start-up, the HTTP
refresh and printing; Terraform 1.11 plans N ``terraform_data`` resources (built into
Terraform: no provider, no plugin, no network), each holding one string, that it applied once
beforehand: the cheapest plan Terraform makes of as many resources, so the ratio is not
flattered. Both are whole
processes started from here, one after the other in turn (ours, Terraform's, ours, ...), so a
machine whose speed drifts slows both alike; the figures are the medians of the runs, and the
ratio is the median of each pair's ratio.

Byte-code caching is on for our runs (``PYTHONDONTWRITEBYTECODE`` is removed from their
environment; an unmeasured run first writes the ``.pyc`` files), as users' installs have it.
Terraform runs with its own data folder and an empty CLI configuration, with the update check
off (``CHECKPOINT_DISABLE``). Without a ``terraform`` binary on PATH the section is skipped and
says so. Not for: pass/fail (a missed bound is printed by ``bench.run``).
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import server, workload
from bench.workload import Shape, Workspace

TERRAFORM = "terraform"
TIMEOUT_S = 600


@dataclass(frozen=True)
class Timed:
    wall_s: float
    cpu_s: float  # user + system of the child (and what it waited for)


def timed(command: Sequence[str], env: dict[str, str], cwd: Path, codes: set[int]) -> Timed:
    """Run ``command`` to its end; its wall time and CPU time. Raise when it exits otherwise
    than one of ``codes``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        list(command),
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in codes:
        raise RuntimeError(
            f"{' '.join(command)} exited {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(wall, cpu)


def terraform_env(folder: Path) -> dict[str, str]:
    """Terraform's environment: nothing from the user's configuration or the network."""
    env = {k: v for k, v in server.clean_environ().items() if not k.startswith("TF_")}
    rc = folder / "terraformrc"
    rc.write_text("", encoding="utf-8")
    env.update(
        TF_CLI_CONFIG_FILE=str(rc),
        TF_DATA_DIR=str(folder / ".terraform"),
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
    )
    return env


def terraform_world(folder: Path, count: int) -> None:
    """``count`` ``terraform_data`` resources, applied (so the measured plan has no changes)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text(
        f'resource "terraform_data" "item" {{\n  count = {count}\n  input = "item-${{count.index}}"\n}}\n',
        encoding="utf-8",
    )
    apply = [TERRAFORM, "apply", "-auto-approve", "-input=false", "-no-color"]
    timed(apply, terraform_env(folder), folder, {0})


def reconciler_env(child_env: dict[str, str]) -> dict[str, str]:
    env = dict(child_env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users' installs have their .pyc files
    return env


def run(
    root: Path,
    count: int,
    latency_ms: float,
    repeats: int,
    child_env: Callable[[], dict[str, str]],
    repo: Path,
) -> dict[str, Any]:
    """Both plans ``repeats`` times in turn; the figures of each and their ratio."""
    terraform = shutil.which(TERRAFORM)
    if terraform is None:
        return {"n": count, "skipped": "no terraform binary on PATH"}
    version = subprocess.run(
        [terraform, "version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    shape = Shape.of(count)
    ws = Workspace(root / f"versus-terraform-{count}")
    cluster_ids = workload.seed_emulator(ws.db, shape)
    tf_folder = root / f"terraform-{count}"
    terraform_world(tf_folder, count)
    tf_env = terraform_env(tf_folder)
    tf_plan = [terraform, "plan", "-input=false", "-no-color", "-detailed-exitcode"]
    ours_env = reconciler_env(child_env())
    with server.running(ws.db, latency_ms) as emulator:
        workload.build_config_and_state(ws, shape, emulator.url, cluster_ids)
        ours_plan = [sys.executable, "-m", "reconciler", "plan", str(ws.config), "--no-color"]
        ours_plan += ["--state", str(ws.state), "--detailed-exitcode"]
        timed(ours_plan, ours_env, repo, {0})  # writes the .pyc files; not counted
        timed(tf_plan, tf_env, tf_folder, {0})
        load_before = os.getloadavg()[0]
        ours: list[Timed] = []
        theirs: list[Timed] = []
        for _ in range(repeats):
            ours.append(timed(ours_plan, ours_env, repo, {0}))
            theirs.append(timed(tf_plan, tf_env, tf_folder, {0}))
        load_after = os.getloadavg()[0]
    return {
        "n": count,
        "terraform_version": version[0] if version else "",
        "load_average": [load_before, load_after],
        "ours": _summary(ours),
        "terraform": _summary(theirs),
        "ratio_wall": statistics.median(
            a.wall_s / b.wall_s for a, b in zip(ours, theirs, strict=True)
        ),
        "ratio_cpu": statistics.median(
            a.cpu_s / b.cpu_s for a, b in zip(ours, theirs, strict=True)
        ),
    }


def _summary(runs: list[Timed]) -> dict[str, Any]:
    return {
        "wall_s": statistics.median(r.wall_s for r in runs),
        "cpu_s": statistics.median(r.cpu_s for r in runs),
        "runs": [{"wall_s": r.wall_s, "cpu_s": r.cpu_s} for r in runs],
    }
