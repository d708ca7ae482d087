"""The emulator under measurement, in a child process of its own, on 127.0.0.1 only.

For: starting ``reconciler emulator --port 0 --latency-ms L --db FILE`` (so the emulator's CPU
is never counted as the reconciler's), reading the URL it prints, counting the API requests it
logged (``GET /__emulator/requests``), and stopping it.
Not for: seeding (``bench.workload``) or measuring (``bench.probe``).
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
# A developer's shell must not change what is measured: BCE_* keys would become the emulator's
# only accepted keys (the probes sign with the documented pair) and RECONCILER_* would move the
# state or the retry budget.
AMBIENT_PREFIXES = ("BCE_", "RECONCILER_")


def clean_environ() -> dict[str, str]:
    """``os.environ`` without ``BCE_*`` and ``RECONCILER_*``: the base of every child's."""
    return {k: v for k, v in os.environ.items() if not k.startswith(AMBIENT_PREFIXES)}


@dataclass
class Emulator:
    url: str
    process: subprocess.Popen[str]

    def admin(self, method: str, name: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.url}/__emulator/{name}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def next_index(self) -> int:
        """The index the next logged request will get."""
        return int(self.admin("GET", "requests", params={"since": 1 << 62})["next"])

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the emulator process so far (Linux only)."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def requests_since(self, index: int) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.admin("GET", "requests", params={"since": index})[
            "requests"
        ]
        return entries


def command(db: Path, latency_ms: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "reconciler",
        "emulator",
        "--host",
        HOST,
        "--port",
        "0",
        "--db",
        str(db),
        "--latency-ms",
        f"{latency_ms:g}",
        "--namespace-quota",
        "100000",
    ]


@contextmanager
def running(db: Path, latency_ms: float) -> Iterator[Emulator]:
    """An emulator serving ``db``; stopped (SIGTERM, then SIGKILL) when the block ends."""
    process = subprocess.Popen(
        command(db, latency_ms),
        env=clean_environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield Emulator(_wait_for_url(process), process)
    finally:
        _stop(process)


def _wait_for_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    if not ready:
        raise RuntimeError(f"the emulator printed nothing within {START_TIMEOUT:g} s")
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise RuntimeError(f"the emulator did not start: {line!r}")
    url = line.removeprefix("listening on ")
    if not url.startswith(f"http://{HOST}:"):
        raise RuntimeError(f"the emulator listens on {url}, not on {HOST}")
    return url


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()
