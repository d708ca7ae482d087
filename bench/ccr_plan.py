"""``python -m bench.ccr_plan``: what a plan of a CCR Enterprise instance costs, by size.

``python -m bench.ccr_plan [--sizes 10x10,50x20,200x5] [--robots 20] [--latency-ms 20]``

For each size PROJECTSxREPOSITORIES: an emulator in its own process (``bench.server``, every
answer ``--latency-ms`` late) holds one instance with that many projects, each with that many
pushed repositories, and ``--robots`` robot accounts; a configuration declares all of them
(robots by name, their secrets going to a temporary folder); one apply adopts or creates them;
then ``reconciler plan`` runs in this process and prints its wall time and the requests the
emulator logged. Refresh lists (one paged list of projects, one list of repositories per
project, one of robots), never a GET per object, so the count grows with the projects, not the
repositories. Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.server import clean_environ, running
from reconciler.cli import main as cli_main
from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.emulator.options import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY

INSTANCE = "ccr-emulator"


def config(url: str, projects: int, repositories: int, robots: int) -> str:
    lines = [f"target:\n  endpoint: {url}\n", "ccr_projects:\n"]
    lines += [f"  - {{instance: {INSTANCE}, name: p{p}}}\n" for p in range(projects)]
    lines.append("ccr_repositories:\n")
    lines += [
        f"  - {{instance: {INSTANCE}, project: p{p}, name: app/r{r}, description: r{r}}}\n"
        for p in range(projects)
        for r in range(repositories)
    ]
    lines.append("ccr_robots:\n")
    lines += [
        f"  - {{instance: {INSTANCE}, name: bot{b}, duration: 30, secretFile: s/{b},"
        f" permissions: [{{project: p{b % projects}, actions: [pull]}}]}}\n"
        for b in range(robots)
    ]
    return "".join(lines)


def cli(*args: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli_main(list(args))
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0


def measure(size: str, robots: int, latency_ms: float, folder: Path) -> str:
    projects, repositories = (int(n) for n in size.split("x"))
    with running(folder / "emulator.db", 0) as emulator:
        creds = Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY)
        with CceClient.connect(emulator.url, creds) as client:  # made outside, then adopted
            for p in range(projects):
                client.ccr.create_project(INSTANCE, f"p{p}", public=False)
                for r in range(repositories):
                    body = {"project": f"p{p}", "repository": f"app/r{r}", "tag": "v1"}
                    emulator.admin("POST", "ccr/push", json=body)
        (folder / "main.yaml").write_text(config(emulator.url, projects, repositories, robots))
        applied = cli("apply", str(folder), "--auto-approve", "--adopt")
        emulator.admin("POST", "faults", json={"latency_ms": latency_ms})
        mark = emulator.next_index()
        start = time.perf_counter()
        code = cli("plan", str(folder), "--detailed-exitcode")
        wall = time.perf_counter() - start
        logged = emulator.requests_since(mark)
    objects = projects + projects * repositories + robots
    return (
        f"{size:>8} {robots:>6} {objects:>8} {len(logged):>9} {wall:>8.2f} s"
        f"   (apply exit {applied}, plan exit {code}: 0 = no changes)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ccr_plan")
    parser.add_argument("--sizes", default="10x10,50x20,200x5")
    parser.add_argument("--robots", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    os.environ.clear()
    os.environ.update(clean_environ())
    os.environ["BCE_ACCESS_KEY_ID"] = DEFAULT_ACCESS_KEY_ID
    os.environ["BCE_SECRET_ACCESS_KEY"] = DEFAULT_SECRET_ACCESS_KEY
    print(f"plan of one CCR instance, every answer {args.latency_ms:g} ms late")
    print(f"{'PxR':>8} {'robots':>6} {'objects':>8} {'requests':>9} {'plan':>10}")
    for size in args.sizes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            print(measure(size, args.robots, args.latency_ms, Path(tmp)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
