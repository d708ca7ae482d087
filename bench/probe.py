"""One measured run, in a fresh process: ``python -m bench.probe {plan,terraform,apply} ...``.

For: timing a plan, a Terraform-style refresh or an apply through the reconciler's real code
paths, in a process that holds nothing else, and printing one JSON object: wall time, CPU time
of this process (all its threads), the requests its client sent, a per-phase split and the
peak RSS (``ru_maxrss``). The emulator runs in another process, so its CPU is not counted.

- ``plan``: ``reconciler plan PATH --state FILE [--out PLAN]`` run in this process
  (``cli.main``), the phases timed by wrapping the steps the command calls (config load, state
  read, refresh, plan, render, and the saved plan's write) and the client's counters read on
  the way out;
- ``terraform``: the same refresh done one GET per managed resource on a pool of N threads,
  the way Terraform refreshes (``get_user``, ``get_namespace``, ``get_image_meta`` per tag,
  ``get_cluster`` + ``list_nodes``);
- ``apply``: ``reconciler apply --auto-approve`` in this process, its phases timed (config
  load, state read, refresh, plan, execute, the state write);
- ``apply-plan``: ``reconciler apply --plan FILE`` in this process, its phases timed (the
  saved plan's read, the configuration (``load``: taken from the plan when its inputs are
  unchanged, else loaded), state read, refresh, the staleness check, execute, the state
  write).

Timing starts after the imports, so interpreter start-up (~0.3 s) is not in the figures.
Not for: setting up the world (``bench.workload``) or judging the figures (``bench.run``).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from reconciler import execution, planfile, session
from reconciler.cli import main as cli_main
from reconciler.client.credentials import Credentials
from reconciler.client.transport import TransportConfig, TransportStats
from reconciler.client.v1 import CceClient
from reconciler.commands import apply as apply_command
from reconciler.commands import plan as plan_command
from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.state import ResourceState
from reconciler.state.local import LocalStateStore

T = TypeVar("T")


@dataclass
class Clock:
    """Wall and CPU time of named phases of one run."""

    phases: dict[str, dict[str, float]] = field(default_factory=dict)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            spent = self.phases.setdefault(name, {"wall_s": 0.0, "cpu_s": 0.0})
            spent["wall_s"] += time.perf_counter() - wall
            spent["cpu_s"] += time.process_time() - cpu

    def wrap(self, name: str, func: Callable[..., T]) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            with self.phase(name):
                return func(*args, **kwargs)

        return timed


def rss_now_kb() -> int:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def run_cli(args: list[str]) -> tuple[int, str]:
    """``reconciler ARGS`` in this process; its exit code and what it printed."""
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out):
        try:
            cli_main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue()


def _times(clock: Clock) -> dict[str, Any]:
    total = clock.phases.pop("total")
    return {
        "wall_s": total["wall_s"],
        "cpu_s": total["cpu_s"],
        "phases": clock.phases,
        "peak_rss_kb": peak_rss_kb(),
    }


# -- plan ------------------------------------------------------------------------------------


class ClientStats:
    """Wraps ``session.open_client`` so the client's counters are read before it closes."""

    def __init__(self, open_client: Callable[..., Any]) -> None:
        self.open_client = open_client
        self.stats: TransportStats | None = None

    @contextlib.contextmanager
    def __call__(self, *args: Any, **kwargs: Any) -> Iterator[CceClient]:
        with self.open_client(*args, **kwargs) as client:
            try:
                yield client
            finally:
                self.stats = client.stats()


def instrument_plan(clock: Clock) -> ClientStats:
    """Time the steps ``reconciler plan`` calls, in the modules it calls them from."""
    stats = ClientStats(session.open_client)
    session.open_client = stats
    plan_command.load = clock.wrap("load", plan_command.load)
    plan_command.plan_text = clock.wrap("render", plan_command.plan_text)
    planfile.write = clock.wrap("save", planfile.write)  # imported by plan --out when it saves
    session.refresh = clock.wrap("refresh", session.refresh)
    session.make_plan = clock.wrap("plan", session.make_plan)
    read = LocalStateStore.read
    LocalStateStore.read = clock.wrap("state", read)  # type: ignore[method-assign]
    return stats


def probe_plan(config: str, state: str, out: str = "") -> dict[str, Any]:
    clock = Clock()
    client = instrument_plan(clock)
    baseline = rss_now_kb()
    args = ["plan", config, "--state", state, "--no-color", "--detailed-exitcode"]
    args += ["--out", out] if out else []
    with clock.phase("total"):
        code, out = run_cli(args)
    stats = client.stats
    lines = out.strip().splitlines()
    return {
        "exit_code": code,  # 0: no changes
        "requests": stats.requests_sent if stats else None,
        "requests_by_method": dict(stats.by_method) if stats else {},
        "last_line": lines[-1] if lines else "",
        "baseline_rss_kb": baseline,
        **_times(clock),
    }


# -- terraform-style refresh -----------------------------------------------------------------


def read_one_by_get(client: CceClient, address: Address, entry: ResourceState) -> int:
    """One resource the way Terraform reads it, by GETs; return the requests it took."""
    if address.kind == "user":
        client.get_user()
        return 1
    if address.kind == "namespace":
        client.get_namespace(entry.cloud_id)
        return 1
    if address.kind == "repository":
        tags = list(entry.applied.get("tags", [])) or ["latest"]
        for tag in tags:
            client.get_image_meta(entry.applied["namespace"], entry.applied["name"], tag)
        return len(tags)
    client.get_cluster(entry.cloud_id)
    client.list_nodes(entry.cloud_id)
    return 2


def probe_terraform(endpoint: str, state: str, parallelism: int) -> dict[str, Any]:
    clock = Clock()
    credentials = Credentials.from_environment()
    config = TransportConfig(pool_size=max(10, parallelism))
    with clock.phase("total"):
        with clock.phase("state"):
            managed = LocalStateStore(state, kinds=kind_names()).read().resources
        with (
            CceClient.connect(endpoint, credentials, config) as client,
            clock.phase("refresh"),
            ThreadPoolExecutor(max_workers=parallelism) as pool,
        ):
            list(pool.map(lambda item: read_one_by_get(client, *item), managed.items()))
            stats = client.stats()
    return {"resources": len(managed), "requests": stats.requests_sent, **_times(clock)}


# -- apply -----------------------------------------------------------------------------------


def probe_apply(config: str, state: str, parallelism: int, rate: float | None) -> dict[str, Any]:
    clock = Clock()
    instrument_apply(clock)
    args = ["apply", config, "--auto-approve", "--no-color", "--state", state]
    args += ["--parallelism", str(parallelism)]
    if rate:
        args += ["--rate", f"{rate:g}"]
    with clock.phase("total"):
        code, out = run_cli(args)
    done = [line for line in out.splitlines() if line.startswith("Apply complete")]
    return {"exit_code": code, "summary_line": done[-1] if done else "", **_times(clock)}


def probe_apply_plan(plan_file: str, state: str) -> dict[str, Any]:
    clock = Clock()
    instrument_apply(clock)
    args = ["apply", "--plan", plan_file, "--no-color", "--state", state]
    with clock.phase("total"):
        code, out = run_cli(args)
    done = [line for line in out.splitlines() if line.startswith("Apply complete")]
    return {"exit_code": code, "summary_line": done[-1] if done else "", **_times(clock)}


def instrument_apply(clock: Clock) -> None:
    """Time the steps ``reconciler apply [--plan]`` calls, in the modules it calls them from
    (with ``--plan``, a ``plan`` phase would be a second plan: apply of a saved plan makes
    none)."""
    apply_command.read_plan = clock.wrap("read plan", apply_command.read_plan)
    execution.execute = clock.wrap("execute", execution.execute)
    apply_command.load = clock.wrap("load", apply_command.load)
    # with --plan: the configuration the plan records, when its inputs are unchanged
    apply_command.unchanged_configuration = clock.wrap(
        "load", apply_command.unchanged_configuration
    )
    session.refresh = clock.wrap("refresh", session.refresh)
    session.refresh_changed = clock.wrap("refresh", session.refresh_changed)
    session.make_plan = clock.wrap("plan", session.make_plan)
    planfile.check_fresh = clock.wrap("check", planfile.check_fresh)  # imported by reread
    read, write = LocalStateStore.read, LocalStateStore.write
    LocalStateStore.read = clock.wrap("state", read)  # type: ignore[method-assign]
    LocalStateStore.write = clock.wrap("write", write)  # type: ignore[method-assign]


# -- command line ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("mode", choices=["plan", "terraform", "apply", "apply-plan"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--endpoint", default="", help="terraform: the API endpoint")
    parser.add_argument("--plan", default="", help="apply-plan: the saved plan")
    parser.add_argument("--out", default="", help="plan: save the plan to this file")
    parser.add_argument("--parallelism", type=int, default=10)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--profile", default=None, help="write cProfile stats to this file")
    args = parser.parse_args(argv)
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    if args.mode == "plan":
        result = probe_plan(args.config, args.state, args.out)
    elif args.mode == "terraform":
        result = probe_terraform(args.endpoint, args.state, args.parallelism)
    elif args.mode == "apply-plan":
        result = probe_apply_plan(args.plan, args.state)
    else:
        result = probe_apply(args.config, args.state, args.parallelism, args.rate)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
