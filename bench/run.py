"""``make bench``: plan and apply at scale against the emulator, measured against their bounds.

``python -m bench.run [--sizes 100,1000,10000] [--latency-ms 20] [--out bench/results.json]``

1. ``plan`` with everything in sync for each N (one user, N/100 namespaces, one cluster, the
   rest repositories): wall time, requests sent, CPU time per resource, peak RSS. Bounds:
   requests no more than the list pages; wall under 2 s at N = 10,000; CPU under 100 us per
   resource (at the largest N; fixed costs dominate small ones).
2. The same refresh done the way Terraform does it, one GET per resource on 10 threads, and
   the ratio of the two wall times.
3. ``apply`` of 1,000 repository creates at parallelism 10 (user and namespaces already
   managed): wall time of the creates against creates x latency / parallelism (target: within
   1.3x); then again with ``--rate R``: the achieved rate must stay at or under R.
4. ``apply --plan FILE`` of a saved plan that changes one repository's description, over the
   largest N managed resources (``--saved-plan N``): wall time, CPU time, requests. It runs
   the saved plan as it is, so it re-reads only the kinds its changes touch and plans nothing.

Every emulator is a child process (``reconciler emulator --latency-ms L``) on 127.0.0.1 with
its own core budget, so its CPU is never counted as the reconciler's; every measured run is a
fresh child process too (``bench.probe``). The worlds are seeded directly (``bench.workload``),
not applied through the API. Prints a table and writes the figures as JSON.
Not for: pass/fail in CI (a missed bound is printed, not raised; ``--strict`` exits 1).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report, server, workload
from bench.workload import Shape, Workspace
from reconciler.client.v1 import MAX_PAGE_SIZE
from reconciler.emulator.options import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY

REPO = Path(__file__).resolve().parent.parent
PLAN_WALL_BOUND_S = 2.0
BOUNDS_AT = 10_000  # the plan's wall and CPU bounds are judged from this N up
CPU_PER_RESOURCE_BOUND_US = 100.0
APPLY_TARGET = 1.3  # x the ideal creates x latency / parallelism
APPLY_NAMESPACES = 5
PROBE_TIMEOUT_S = 900


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...]
    latency_ms: float
    out: Path
    repeats: int
    creates: int
    rate: float
    parallelism: int
    terraform: bool
    strict: bool = False
    saved_plan: int = 0  # N of the saved-plan apply; 0 skips it


# -- child processes -------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """A measured run's environment: no BCE_* / RECONCILER_* from the shell, the emulator's keys."""
    env = server.clean_environ()
    env.update(
        BCE_ACCESS_KEY_ID=DEFAULT_ACCESS_KEY_ID,
        BCE_SECRET_ACCESS_KEY=DEFAULT_SECRET_ACCESS_KEY,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    env[workload.PASSWORD_ENV] = workload.PASSWORD
    return env


def probe(mode: str, ws: Workspace, *extra: str) -> dict[str, Any]:
    """One ``bench.probe`` run in a fresh process; its JSON answer."""
    command = [sys.executable, "-m", "bench.probe", mode, "--config", str(ws.config)]
    command += ["--state", str(ws.state), *extra]
    done = run_child(command, f"bench.probe {mode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_child(command: list[str], what: str) -> subprocess.CompletedProcess[str]:
    """``command`` in a child process with :func:`child_env`; raise with its stderr if it fails."""
    done = subprocess.run(
        command,
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-3000:]}")
    return done


# -- 1 and 2: plan and the Terraform-style refresh -------------------------------------------


def pages(count: int) -> int:
    return max(1, math.ceil(count / MAX_PAGE_SIZE))


def list_pages(shape: Shape) -> int:
    """The requests a list-based refresh needs: the user, every list page, the node lists."""
    node_lists = shape.clusters * pages(workload.CLUSTER_WORKERS)
    return (
        1 + pages(shape.namespaces) + pages(shape.repositories) + pages(shape.clusters) + node_lists
    )


def bench_plan(root: Path, size: int, options: Options) -> dict[str, Any]:
    shape = Shape.of(size)
    ws = Workspace(root / f"plan-{size}")
    cluster_ids = workload.seed_emulator(ws.db, shape)
    with server.running(ws.db, options.latency_ms) as emulator:
        workload.build_config_and_state(ws, shape, emulator.url, cluster_ids)
        runs = [measured_plan(emulator, ws) for _ in range(options.repeats)]
        terraform = measured_terraform(emulator, ws, options) if options.terraform else None
    plan = median_run(runs)
    return {
        "n": size,
        "shape": vars(shape),
        "list_pages": list_pages(shape),
        "plan": plan,
        "plan_runs": [{"wall_s": r["wall_s"], "cpu_s": r["cpu_s"]} for r in runs],
        "terraform": terraform,
    }


def median_run(
    runs: list[dict[str, Any]], wall: Callable[[dict[str, Any]], float] = lambda run: run["wall_s"]
) -> dict[str, Any]:
    """The run with the median wall time (the lower one of an even count)."""
    ordered = sorted(runs, key=wall)
    return ordered[(len(ordered) - 1) // 2]


def measured_plan(emulator: server.Emulator, ws: Workspace) -> dict[str, Any]:
    first, cpu = emulator.next_index(), emulator.cpu_seconds()
    result = probe("plan", ws)
    if result["exit_code"] != 0:
        raise RuntimeError(f"the plan is not empty: {result['last_line']}")
    return _with_emulator_side(result, emulator, first, cpu)


def measured_terraform(
    emulator: server.Emulator, ws: Workspace, options: Options
) -> dict[str, Any]:
    first, cpu = emulator.next_index(), emulator.cpu_seconds()
    result = probe(
        "terraform", ws, "--endpoint", emulator.url, "--parallelism", str(options.parallelism)
    )
    return _with_emulator_side(result, emulator, first, cpu)


def _with_emulator_side(
    result: dict[str, Any],
    emulator: server.Emulator,
    first: int,
    cpu: float | None,
    keep_times: bool = False,
) -> dict[str, Any]:
    """Add what the emulator saw: its request log since ``first`` and its CPU time."""
    log = emulator.requests_since(first)
    after = emulator.cpu_seconds()
    result["emulator_requests"] = len(log)
    result["emulator_mutating"] = sum(1 for entry in log if entry["mutating"])
    result["emulator_cpu_s"] = None if cpu is None or after is None else after - cpu
    if keep_times:
        result["request_times"] = sorted(entry["time"] for entry in log if entry["mutating"])
    return result


# -- 3: apply --------------------------------------------------------------------------------


def bench_apply(root: Path, options: Options, rate: float | None) -> dict[str, Any]:
    """Apply the creates in fresh worlds (``repeats`` times without a rate, once with one)."""
    label = "unlimited" if rate is None else f"rate-{rate:g}"
    count = options.repeats if rate is None else 1
    runs = [measured_apply(root / f"apply-{label}-{i}", options, rate) for i in range(count)]
    result = median_run(runs, lambda run: run["phases"]["execute"]["wall_s"])
    times = result.pop("request_times")
    execute = result["phases"]["execute"]["wall_s"]
    return {
        "creates": options.creates,
        "parallelism": options.parallelism,
        "rate": rate,
        "ideal_s": options.creates * options.latency_ms / 1000 / options.parallelism,
        "achieved_rate": options.creates / execute,
        "peak_1s_requests": peak_window(times, 1.0),
        "apply": result,
        "apply_runs": [_apply_figures(run) for run in runs],
    }


def measured_apply(folder: Path, options: Options, rate: float | None) -> dict[str, Any]:
    """One apply of ``options.creates`` repositories (user and namespaces already managed)."""
    shape = Shape(
        size=options.creates + 1 + APPLY_NAMESPACES,
        namespaces=APPLY_NAMESPACES,
        clusters=0,
        repositories=options.creates,
    )
    ws = Workspace(folder)
    cluster_ids = workload.seed_emulator(ws.db, shape, repositories=False)
    extra = ["--parallelism", str(options.parallelism)]
    extra += ["--rate", f"{rate:g}"] if rate else []
    with server.running(ws.db, options.latency_ms) as emulator:
        workload.build_config_and_state(
            ws, shape, emulator.url, cluster_ids, skip_kinds=frozenset({"repository"})
        )
        first, cpu = emulator.next_index(), emulator.cpu_seconds()
        result = _with_emulator_side(probe("apply", ws, *extra), emulator, first, cpu, True)
    if result["exit_code"] != 0 or result["emulator_mutating"] != options.creates:
        raise RuntimeError(f"apply did not create {options.creates}: {result['summary_line']}")
    return result


def _apply_figures(run: dict[str, Any]) -> dict[str, float]:
    execute = run["phases"]["execute"]
    return {"wall_s": execute["wall_s"], "cpu_s": execute["cpu_s"]}


def peak_window(times: Sequence[float], width: float) -> int:
    """The most requests logged within any window of ``width`` seconds."""
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] > width:
            start += 1
        best = max(best, end - start + 1)
    return best


# -- 4: apply --plan of a one-change saved plan ----------------------------------------------


def bench_saved_plan(root: Path, size: int, options: Options) -> dict[str, Any]:
    """``apply --plan`` of one change over ``size`` managed resources (median of the repeats;
    each run in a fresh world, since an apply makes the plan it ran stale)."""
    runs = [
        measured_saved_plan(root / f"saved-plan-{size}-{i}", size, options)
        for i in range(options.repeats)
    ]
    result = median_run(runs)
    return {
        "n": size,
        "apply": result,
        "apply_runs": [{"wall_s": r["wall_s"], "cpu_s": r["cpu_s"]} for r in runs],
    }


def measured_saved_plan(folder: Path, size: int, options: Options) -> dict[str, Any]:
    shape = Shape.of(size)
    ws = Workspace(folder)
    cluster_ids = workload.seed_emulator(ws.db, shape)
    plan_file = folder / "one-change.plan"
    with server.running(ws.db, options.latency_ms) as emulator:
        workload.build_config_and_state(ws, shape, emulator.url, cluster_ids)
        changed = workload.change_one_repository(ws.config, shape)
        save_plan(ws, plan_file)
        first, cpu = emulator.next_index(), emulator.cpu_seconds()
        result = probe("apply-plan", ws, "--plan", str(plan_file))
        result = _with_emulator_side(result, emulator, first, cpu)
    if result["exit_code"] != 0 or result["emulator_mutating"] != 1:
        raise RuntimeError(f"apply --plan did not update {changed}: {result['summary_line']}")
    result["changed"] = changed
    return result


def save_plan(ws: Workspace, plan_file: Path) -> None:
    """``reconciler plan --out`` in a child process (not measured)."""
    command = [sys.executable, "-m", "reconciler", "plan", str(ws.config), "--no-color"]
    command += ["--state", str(ws.state), "--out", str(plan_file)]
    run_child(command, "plan --out")


# -- bounds, output --------------------------------------------------------------------------


def bounds(results: dict[str, Any], options: Options) -> list[dict[str, Any]]:
    """Each bound of issue 8 with the figure it is judged on."""
    checks: list[dict[str, Any]] = []
    for row in results["plan"]:
        checks.append(
            _check(
                f"plan N={row['n']:,}: requests <= list pages",
                row["plan"]["emulator_requests"],
                row["list_pages"],
            )
        )
    for row in results["plan"]:
        if row["n"] < BOUNDS_AT:
            continue  # fixed costs (schemas, connections) dominate a small plan
        plan = row["plan"]
        name = f"plan N={row['n']:,}"
        cpu_us = plan["cpu_s"] / row["n"] * 1e6
        checks.append(_check(f"{name}: CPU per resource (us)", cpu_us, CPU_PER_RESOURCE_BOUND_US))
        checks.append(_check(f"{name}: wall time (s)", plan["wall_s"], PLAN_WALL_BOUND_S))
    for row in results["apply"]:
        wall = row["apply"]["phases"]["execute"]["wall_s"]
        if row["rate"] is None:
            name = f"apply {row['creates']:,} creates: wall (s), {APPLY_TARGET}x ideal"
            checks.append(_check(name, wall, APPLY_TARGET * row["ideal_s"]))
        else:
            name = f"apply --rate {row['rate']:g}: achieved requests/s"
            checks.append(_check(name, row["achieved_rate"], row["rate"]))
    return checks


def _check(name: str, value: float, bound: float) -> dict[str, Any]:
    return {"bound": name, "value": value, "limit": bound, "ok": value <= bound}


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
    }


def run(options: Options) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": machine(),
        "latency_ms": options.latency_ms,
        "plan": [],
        "apply": [],
        "saved_plan": [],
    }
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        root = Path(tmp)
        for size in options.sizes:
            results["plan"].append(bench_plan(root, size, options))
        if options.creates:
            results["apply"].append(bench_apply(root, options, None))
            if options.rate:
                results["apply"].append(bench_apply(root, options, options.rate))
        if options.saved_plan:
            results["saved_plan"].append(bench_saved_plan(root, options.saved_plan, options))
    results["bounds"] = bounds(results, options)
    return results


def parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--sizes", default="100,1000,10000", help="declared resources per plan")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per request")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.json")
    parser.add_argument("--repeats", type=int, default=3, help="plans per N (median kept)")
    parser.add_argument("--creates", type=int, default=1000, help="0 skips the apply benchmark")
    parser.add_argument("--rate", type=float, default=200.0, help="0 skips the --rate run")
    parser.add_argument("--parallelism", type=int, default=10)
    parser.add_argument("--no-terraform", action="store_true", help="skip the one-GET refresh")
    parser.add_argument(
        "--saved-plan",
        type=int,
        default=None,
        help="managed resources for the one-change apply --plan (default: the largest size; 0 skips)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a bound is missed")
    args = parser.parse_args(argv)
    sizes = tuple(int(size) for size in args.sizes.split(",") if size.strip())
    options = Options(
        sizes=sizes,
        latency_ms=args.latency_ms,
        out=args.out,
        repeats=max(1, args.repeats),
        creates=args.creates,
        rate=args.rate,
        parallelism=args.parallelism,
        terraform=not args.no_terraform,
        strict=args.strict,
        saved_plan=max(sizes, default=0) if args.saved_plan is None else args.saved_plan,
    )
    return options


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    results = run(options)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(report.table(results))
    print(f"\nwrote {options.out}")
    missed = [check for check in results["bounds"] if not check["ok"]]
    return 1 if missed and options.strict else 0


if __name__ == "__main__":
    sys.exit(main())
