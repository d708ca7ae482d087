"""One measured run, in a fresh process: ``python -m bench.probe {plan,terraform,apply} ...``.

For: timing a plan, a Terraform-style refresh or an apply through the reconciler's real code
paths, in a process that holds nothing else, and printing one JSON object: wall time, CPU time
of this process (all its threads), the requests its client sent, a per-phase split and the
peak RSS (``ru_maxrss``). The emulator runs in another process, so its CPU is not counted.

- ``plan``: what ``reconciler plan`` does (``session.load``, ``open_store``, ``open_client``,
  ``prepare``, ``render_plan``), with the phases timed by wrapping the session's steps;
- ``terraform``: the same refresh done one GET per managed resource on a pool of N threads,
  the way Terraform refreshes (``get_user``, ``get_namespace``, ``get_image_meta`` per tag,
  ``get_cluster`` + ``list_nodes``);
- ``apply``: ``reconciler apply --auto-approve`` in this process (``cli.main``), with the
  execute phase timed.

Not for: setting up the world (``bench.workload``) or deciding pass/fail (``bench.run``).
"""

from __future__ import annotations

import argparse
import contextlib
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

from reconciler import session
from reconciler.client.api import CceClient
from reconciler.client.credentials import Credentials
from reconciler.client.transport import TransportConfig
from reconciler.model import Action, Address
from reconciler.render import render_plan
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


# -- plan ------------------------------------------------------------------------------------


def probe_plan(config: str, state: str) -> dict[str, Any]:
    clock = Clock()
    session.refresh = clock.wrap("refresh", session.refresh)  # type: ignore[attr-defined]
    session.make_plan = clock.wrap("plan", session.make_plan)  # type: ignore[attr-defined]
    baseline = rss_now_kb()
    with clock.phase("total"):
        with clock.phase("load"):
            desired = session.load([config])
        options = session.RunOptions(state=state)
        store = session.open_store(state, desired.base_dir)
        cache = session.SecretCache(desired.base_dir)
        with session.open_client(desired.target, desired.base_dir, options) as client:
            prepared = session.prepare(desired, store, client, options, cache)
            stats = client.stats()
        with clock.phase("render"):
            text = render_plan(prepared.plan, color=False)
    return {
        "resources": len(desired.resources),
        "requests": stats.requests_sent,
        "requests_by_method": dict(stats.by_method),
        "summary": prepared.plan.summary(),
        "conflicts": len(prepared.plan.conflicts),
        "last_line": text.strip().splitlines()[-1] if text.strip() else "",
        "baseline_rss_kb": baseline,
        **_times(clock),
    }


def _times(clock: Clock) -> dict[str, Any]:
    total = clock.phases.pop("total")
    return {
        "wall_s": total["wall_s"],
        "cpu_s": total["cpu_s"],
        "phases": clock.phases,
        "peak_rss_kb": peak_rss_kb(),
    }


# -- terraform-style refresh -----------------------------------------------------------------


def read_one_by_get(client: CceClient, address: Address, entry: ResourceState) -> int:
    """One resource the way Terraform reads it: GETs by id; return the requests it took."""
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
        with clock.phase("load"):
            managed = LocalStateStore(state).read().resources
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
    from reconciler.cli import main
    from reconciler.commands import apply as apply_command

    clock = Clock()
    apply_command.execute = clock.wrap("execute", apply_command.execute)  # type: ignore[attr-defined]
    args = ["apply", config, "--auto-approve", "--no-color", "--state", state]
    args += ["--parallelism", str(parallelism)]
    if rate:
        args += ["--rate", f"{rate:g}"]
    out = io.StringIO()
    code = 0
    with clock.phase("total"), contextlib.redirect_stdout(out):
        try:
            main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
    lines = out.getvalue().strip().splitlines()
    done = [line for line in lines if line.startswith("Apply complete")]
    return {"exit_code": code, "summary_line": done[-1] if done else lines[-1:], **_times(clock)}


# -- command line ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("mode", choices=["plan", "terraform", "apply"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--parallelism", type=int, default=10)
    parser.add_argument("--rate", type=float, default=None)
    args = parser.parse_args(argv)
    if args.mode == "plan":
        result = probe_plan(args.config, args.state)
    elif args.mode == "terraform":
        result = probe_terraform(args.endpoint, args.state, args.parallelism)
    else:
        result = probe_apply(args.config, args.state, args.parallelism, args.rate)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

__all__ = ["Action", "main"]
