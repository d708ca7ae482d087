"""Start-up time of the CLI: `--version`, `--help` and `validate` of the quick start, each in
a fresh process, N times; prints the median and the fastest. Target: under 150 ms for each.
Then what `reconciler plan` spends before it runs: the CPU of the interpreter and site, and of
importing the modules the plan command needs (as the command line does), fastest of N. The whole plan process is measured beside Terraform's in
`make bench` (section 0, `bench.versus_terraform`).

Run with `make bench-startup` (or `python -m bench.startup [N]`). Figures, not assertions.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "reconciler --version": ["--version"],
    "reconciler --help": ["--help"],
    "reconciler validate examples/quickstart": ["validate", str(ROOT / "examples" / "quickstart")],
}


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BCE_", "RECONCILER_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users' installs have their .pyc files
    env["PYTHONPATH"] = str(ROOT)
    return env


def timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


# a fresh process: its CPU when its own code starts (interpreter and site), then once the plan
# command is imported as the command line imports it
PLAN_IMPORTS = """
import time
started = time.process_time()
from reconciler.cli import cli
cli.get_command(None, "plan")
print(started, time.process_time() - started)
"""


def plan_imports(env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds of the interpreter and site, of importing the plan command)."""
    done = subprocess.run(
        [sys.executable, "-c", PLAN_IMPORTS], env=env, check=True, capture_output=True, text=True
    )
    started, imports = done.stdout.split()
    return float(started), float(imports)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    env = clean_env()
    print(f"CLI start-up, {runs} fresh processes each (median / fastest):")
    for name, args in CASES.items():
        timed(args, env)  # warm the file cache
        samples = [timed(args, env) for _ in range(runs)]
        print(
            f"  {name:<45} {statistics.median(samples) * 1000:6.0f} ms / {min(samples) * 1000:4.0f} ms"
        )
    plan_imports(env)
    site, imports = zip(*(plan_imports(env) for _ in range(runs)), strict=True)
    print(f"reconciler plan before it runs, CPU ({runs} fresh processes, fastest):")
    print(f"  {'interpreter and site':<45} {min(site) * 1000:6.0f} ms")
    print(f"  {'importing the plan command':<45} {min(imports) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
