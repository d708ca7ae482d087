"""`make demo`: the main job on the embedded emulator, end to end through the real CLI.

Validates examples/quickstart, applies it to the local emulator (``target.endpoint: local``;
state and the emulator's database go to examples/quickstart/.reconciler/), then plans again
and expects no changes. Running it twice shows the second apply doing nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path("examples/quickstart")
DEMO_PASSWORD = "Demo-passw0rd1"  # the quick start's registry password; not a real secret


def step(title: str, *args: str, ok: tuple[int, ...] = (0,)) -> None:
    print(f"\n$ reconciler {' '.join(args)}    # {title}", flush=True)
    code = subprocess.call([sys.executable, "-m", "reconciler", *args])
    if code not in ok:
        print(f"demo: `reconciler {' '.join(args)}` exited {code}", file=sys.stderr)
        sys.exit(code)


def main() -> None:
    os.environ.setdefault("CCR_PASSWORD", DEMO_PASSWORD)
    step("check the configuration, no network", "validate", str(EXAMPLE))
    step("create everything on the embedded emulator", "apply", str(EXAMPLE), "--auto-approve")
    step("plan again: the cloud matches, exit 0", "plan", str(EXAMPLE), "--detailed-exitcode")
    print(
        "\nDemo complete. State: examples/quickstart/.reconciler/state.json; `make clean` resets it."
        f"\n{on_path_hint()}"
    )


def on_path_hint() -> str:
    """How to run `reconciler` yourself: make installed it into the virtualenv, not on PATH."""
    command = Path(sys.executable).with_name("reconciler")
    where = os.path.relpath(command) if command.is_relative_to(Path.cwd()) else str(command)
    activate = Path(where).with_name("activate")
    return (
        f"The reconciler command is {where}: run `source {activate}` to put it on your PATH "
        f"(then `reconciler --help`), or call {where} directly."
    )


if __name__ == "__main__":
    main()
