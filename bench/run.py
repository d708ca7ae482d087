"""``make bench``: plan and apply at scale against the emulator, measured against their bounds.

``python -m bench.run [--sizes 100,1000,10000,100000] [--latency-ms 20] [--out bench/results.json]``

0. ``reconciler plan`` over 1,000 resources in sync as a whole process (start-up, byte-code
   cached, the HTTP refresh, printing) beside Terraform core planning 1,000 ``terraform_data``
   (``bench.versus_terraform``; ``--versus-terraform N``, 0 skips; skipped without a
   ``terraform`` binary), in turn, medians: bounds 0.2 s and 0.12 x Terraform's wall time.

Then, in one world per N (one user, N/100 namespaces, one cluster, three from N = 100,000,
the rest repositories), in this order:

1. ``plan`` with everything in sync: wall time, requests sent, CPU time per resource, peak
   RSS, and each phase (config load, state read, refresh, planning, output). Bounds: requests
   no more than the list pages; from N = 10,000 wall under 2 x the list pages x the latency,
   planning under 40 us of CPU per resource in sync and all the CPU under 100 us per
   resource; at N = 100,000 wall under 10 s and peak RSS under 1 GB.
2. The same refresh done the way Terraform does it, one GET per resource on 10 threads (up to
   ``--terraform-max`` resources, 10,000 by default: 100,000 GETs take minutes), and the ratio
   of the two wall times.
3. ``apply --plan FILE`` of a saved plan that changes one repository's description
   (``--no-saved-plan`` skips): wall time, CPU time, requests and each phase, including
   writing the saved plan (``plan --out``) and reading it back. It runs the saved plan as it
   is, so it re-reads only what its changes touch and plans nothing.
4. ``apply`` of ``--changes`` (1,000) repository updates among the N (``--changes 0`` skips):
   the wall time of the updates against updates x latency / parallelism (bound 1.2x), and
   each phase, the state's write included.

Each run changes other repositories than the last (a new description), so the world stays
in sync between runs and the phases at each N show how each grows with N. Last, in small
worlds of their own:

5. ``apply`` of 1,000 repository creates at parallelism 10 (user and namespaces already
   managed): wall time of the creates against creates x latency / parallelism (target: within
   1.3x); then again with ``--rate R``: the achieved rate must stay at or under R.

Every emulator is a child process (``reconciler emulator --latency-ms L``) on 127.0.0.1 with
its own core budget, so its CPU is never counted as the reconciler's; every measured run is a
fresh child process too (``bench.probe``). The worlds are seeded directly (``bench.workload``),
not applied through the API. Prints a table and writes the figures as JSON.
Not for: pass/fail in CI (a missed bound is printed, not raised; ``--strict`` exits 1).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report, server, versus_terraform, workload
from bench.workload import Shape, Workspace
from reconciler.client.v1 import MAX_PAGE_SIZE
from reconciler.emulator.options import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY

REPO = Path(__file__).resolve().parent.parent
BOUNDS_AT = 10_000  # the plan's wall and CPU bounds are judged from this N up
NETWORK_FACTOR = 2.0  # a plan's wall time: at most 2 x list pages x latency
CPU_PER_RESOURCE_BOUND_US = 100.0  # all of a plan's CPU, per resource
PLANNING_PER_RESOURCE_BOUND_US = 40.0  # the planning phase's CPU, per resource in sync
LARGE = 100_000  # from here: the plan's absolute bounds
LARGE_PLAN_WALL_BOUND_S = 10.0
LARGE_PLAN_RSS_BOUND_MB = 1024
CHANGES_TARGET = 1.2  # x the ideal updates x latency / parallelism
APPLY_TARGET = 1.3  # x the ideal creates x latency / parallelism
APPLY_NAMESPACES = 5
WHOLE_PLAN_BOUND_S = 0.2  # a whole plan process over VERSUS resources in sync
VERSUS_RATIO_BOUND = 0.12  # x Terraform core's plan of as many terraform_data
VERSUS_REPEATS = 5
PROBE_TIMEOUT_S = 1800


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
    saved_plan: bool = True  # section 3 at every N
    changes: int = 1000  # section 4's updates at every N (at most the repositories); 0 skips
    terraform_max: int = 10_000  # section 2 up to this N
    versus: int = 0  # N of the whole-process plan beside Terraform's; 0 skips it
    versus_repeats: int = VERSUS_REPEATS


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


def measured(
    emulator: server.Emulator, mode: str, ws: Workspace, *extra: str, keep_times: bool = False
) -> dict[str, Any]:
    """A ``bench.probe`` run with what the emulator saw of it."""
    first, cpu = emulator.next_index(), emulator.cpu_seconds()
    return _with_emulator_side(probe(mode, ws, *extra), emulator, first, cpu, keep_times)


def median_run(
    runs: list[dict[str, Any]], wall: Callable[[dict[str, Any]], float] = lambda run: run["wall_s"]
) -> dict[str, Any]:
    """The run with the median wall time (the lower one of an even count)."""
    ordered = sorted(runs, key=wall)
    return ordered[(len(ordered) - 1) // 2]


def _figures(run: dict[str, Any]) -> dict[str, float]:
    return {"wall_s": run["wall_s"], "cpu_s": run["cpu_s"]}


# -- one world per N: sections 1 to 4 ----------------------------------------------------------


def pages(count: int) -> int:
    return max(1, math.ceil(count / MAX_PAGE_SIZE))


def list_pages(shape: Shape) -> int:
    """The requests a list-based refresh needs: the user, every list page, the node lists."""
    node_lists = shape.clusters * pages(workload.CLUSTER_WORKERS)
    return (
        1 + pages(shape.namespaces) + pages(shape.repositories) + pages(shape.clusters) + node_lists
    )


def bench_size(root: Path, size: int, options: Options) -> dict[str, Any]:
    """Sections 1 to 4 at ``size``, in one world kept in sync from run to run."""
    shape = Shape.of(size)
    ws = Workspace(root / f"world-{size}")
    cluster_ids = workload.seed_emulator(ws.db, shape)
    row: dict[str, Any] = {"n": size, "shape": vars(shape), "list_pages": list_pages(shape)}
    with server.running(ws.db, options.latency_ms) as emulator:
        workload.build_config_and_state(ws, shape, emulator.url, cluster_ids)
        runs = [measured_plan(emulator, ws) for _ in range(options.repeats)]
        row["plan"] = median_run(runs)
        row["plan_runs"] = [_figures(r) for r in runs]
        terraform = options.terraform and size <= options.terraform_max
        row["terraform"] = measured_terraform(emulator, ws, options) if terraform else None
        revisions = itertools.count(1)
        if options.saved_plan:
            runs = [
                measured_saved_plan(emulator, ws, shape, f"rev {next(revisions)}")
                for _ in range(options.repeats)
            ]
            row["saved_plan"] = {"apply": median_run(runs), "apply_runs": map_figures(runs)}
        changes = min(options.changes, shape.repositories)
        if changes:
            runs = [
                measured_changes(emulator, ws, shape, changes, f"rev {next(revisions)}", options)
                for _ in range(options.repeats)
            ]
            best = median_run(runs, lambda run: run["phases"]["execute"]["wall_s"])
            best.pop("request_times", None)
            ideal = changes * options.latency_ms / 1000 / options.parallelism
            row["changes"] = {
                "changes": changes,
                "parallelism": options.parallelism,
                "ideal_s": ideal,
                "apply": best,
                "apply_runs": map_figures(runs),
            }
    return row


def map_figures(runs: list[dict[str, Any]]) -> list[dict[str, float]]:
    return [_figures(run) for run in runs]


def measured_plan(emulator: server.Emulator, ws: Workspace) -> dict[str, Any]:
    result = measured(emulator, "plan", ws)
    if result["exit_code"] != 0:
        raise RuntimeError(f"the plan is not empty: {result['last_line']}")
    return result


def measured_terraform(
    emulator: server.Emulator, ws: Workspace, options: Options
) -> dict[str, Any]:
    extra = ["--endpoint", emulator.url, "--parallelism", str(options.parallelism)]
    return measured(emulator, "terraform", ws, *extra)


def measured_saved_plan(
    emulator: server.Emulator, ws: Workspace, shape: Shape, revision: str
) -> dict[str, Any]:
    """Change one repository, save the plan (``plan --out``, its own figures kept as
    ``saved``) and apply it with ``apply --plan`` (the figures)."""
    (changed,) = workload.change_repositories(ws.config, shape, 1, revision)
    plan_file = ws.root / "one-change.plan"
    saved = measured(emulator, "plan", ws, "--out", str(plan_file))
    if saved["exit_code"] != 2:
        raise RuntimeError(f"plan --out did not find the change to {changed}: {saved['last_line']}")
    result = measured(emulator, "apply-plan", ws, "--plan", str(plan_file))
    if result["exit_code"] != 0 or result["emulator_mutating"] != 1:
        raise RuntimeError(f"apply --plan did not update {changed}: {result['summary_line']}")
    result["changed"] = changed
    result["saved"] = {k: saved[k] for k in ("wall_s", "cpu_s", "phases", "peak_rss_kb")}
    result["plan_file_bytes"] = plan_file.stat().st_size
    result["state_file_bytes"] = ws.state.stat().st_size
    return result


def measured_changes(
    emulator: server.Emulator,
    ws: Workspace,
    shape: Shape,
    count: int,
    revision: str,
    options: Options,
) -> dict[str, Any]:
    """``apply`` of ``count`` repository updates (a new description each)."""
    workload.change_repositories(ws.config, shape, count, revision)
    extra = ["--parallelism", str(options.parallelism)]
    result = measured(emulator, "apply", ws, *extra, keep_times=True)
    if result["exit_code"] != 0 or result["emulator_mutating"] != count:
        raise RuntimeError(f"apply did not update {count}: {result['summary_line']}")
    return result


# -- 5: apply of creates in small worlds -----------------------------------------------------


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
        result = measured(emulator, "apply", ws, *extra, keep_times=True)
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


# -- bounds, output --------------------------------------------------------------------------


def bounds(results: dict[str, Any], options: Options) -> list[dict[str, Any]]:
    """Each bound with the figure it is judged on."""
    checks: list[dict[str, Any]] = []
    versus = results.get("versus_terraform")
    if versus and "skipped" not in versus:
        name = f"whole plan process N={versus['n']:,}"
        checks.append(_check(f"{name}: wall (s)", versus["ours"]["wall_s"], WHOLE_PLAN_BOUND_S))
        checks.append(
            _check(f"{name}: x Terraform core's wall", versus["ratio_wall"], VERSUS_RATIO_BOUND)
        )
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
        network = NETWORK_FACTOR * row["list_pages"] * results["latency_ms"] / 1000
        checks.append(_check(f"{name}: wall (s), 2 x pages x latency", plan["wall_s"], network))
        planning = plan["phases"]["plan"]["cpu_s"] / row["n"] * 1e6
        checks.append(
            _check(
                f"{name}: planning CPU per resource (us)", planning, PLANNING_PER_RESOURCE_BOUND_US
            )
        )
        cpu_us = plan["cpu_s"] / row["n"] * 1e6
        checks.append(
            _check(f"{name}: all CPU per resource (us)", cpu_us, CPU_PER_RESOURCE_BOUND_US)
        )
        if row["n"] >= LARGE:
            checks.append(_check(f"{name}: wall (s)", plan["wall_s"], LARGE_PLAN_WALL_BOUND_S))
            rss = plan["peak_rss_kb"] / 1024
            checks.append(_check(f"{name}: peak RSS (MB)", rss, LARGE_PLAN_RSS_BOUND_MB))
        changes = row.get("changes")
        if changes and changes["changes"] >= options.changes:
            wall = changes["apply"]["phases"]["execute"]["wall_s"]
            name = f"apply {changes['changes']:,} updates among N={row['n']:,}: wall (s), {CHANGES_TARGET}x ideal"
            checks.append(_check(name, wall, CHANGES_TARGET * changes["ideal_s"]))
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
        "load_average": list(os.getloadavg()),
    }


def run(options: Options) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": machine(),
        "latency_ms": options.latency_ms,
        "versus_terraform": None,
        "plan": [],
        "apply": [],
    }
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        root = Path(tmp)
        if options.versus:
            results["versus_terraform"] = versus_terraform.run(
                root,
                options.versus,
                options.latency_ms,
                options.versus_repeats,
                child_env,
                REPO,
            )
        for size in options.sizes:
            results["plan"].append(bench_size(root, size, options))
            shutil.rmtree(root / f"world-{size}", ignore_errors=True)
        if options.creates:
            results["apply"].append(bench_apply(root, options, None))
            if options.rate:
                results["apply"].append(bench_apply(root, options, options.rate))
    results["machine"]["load_average_after"] = list(os.getloadavg())
    results["bounds"] = bounds(results, options)
    return results


def parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default="100,1000,10000,100000",
        help="declared resources per world, a comma-separated list",
    )
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per request")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results.json", help="the figures, as JSON"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each kind per N (median kept)"
    )
    parser.add_argument("--creates", type=int, default=1000, help="0 skips the creates' apply")
    parser.add_argument("--rate", type=float, default=200.0, help="0 skips the --rate run")
    parser.add_argument("--parallelism", type=int, default=10)
    parser.add_argument(
        "--no-terraform",
        action="store_true",
        help="skip section 2, the refresh done Terraform's way (one GET per resource); "
        "--versus-terraform 0 skips section 0",
    )
    parser.add_argument(
        "--terraform-max", type=int, default=10_000, help="the one-GET refresh up to this N"
    )
    parser.add_argument(
        "--no-saved-plan", action="store_true", help="skip the one-change apply --plan"
    )
    parser.add_argument(
        "--changes", type=int, default=1000, help="repository updates applied per N (0 skips)"
    )
    parser.add_argument(
        "--versus-terraform",
        type=int,
        default=1000,
        help="resources of the whole-process plan beside Terraform core's (0 skips)",
    )
    parser.add_argument(
        "--versus-repeats", type=int, default=VERSUS_REPEATS, help="pairs of whole-process plans"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a bound is missed")
    args = parser.parse_args(argv)
    sizes = tuple(int(size) for size in args.sizes.split(",") if size.strip())
    return Options(
        sizes=sizes,
        latency_ms=args.latency_ms,
        out=args.out,
        repeats=max(1, args.repeats),
        creates=args.creates,
        rate=args.rate,
        parallelism=args.parallelism,
        terraform=not args.no_terraform,
        strict=args.strict,
        saved_plan=not args.no_saved_plan,
        changes=max(0, args.changes),
        terraform_max=args.terraform_max,
        versus=max(0, args.versus_terraform),
        versus_repeats=max(1, args.versus_repeats),
    )


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
