"""How many list requests per second the emulator serves (a benchmark, not a test).

``python -m bench.emulator_bench [--seconds 5] [--threads 4] [--namespaces 1000] [--max-keys 100]``

Seeds a fresh database with one registry user and N namespaces, each with a repository, then
starts ``reconciler emulator`` on it in a child process (so the server has a core of its own
on a 2-core machine and the figure is the server's, not the client's) and hits
``GET /v1/image/namespace?user=...&maxKeys=K`` (or ``/v1/image`` with ``--endpoint images``)
from several threads, each over one keep-alive connection, every request freshly signed.
Prints requests/second and latency percentiles. Registry reads are cached until the next
write, so repeating one page measures the cached path; ``--cold`` asks for a different page
each time and measures building every answer.
Not for: pass/fail decisions; CI only runs it for the figure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bench.server import clean_environ
from reconciler.client import signer
from reconciler.emulator import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY
from reconciler.emulator.registry_v1.models import Registry
from reconciler.emulator.server import open_store
from reconciler.emulator.settings import Knobs, Settings

USER = "benchuser"
PATHS = {"namespaces": "/v1/image/namespace", "images": "/v1/image"}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def seed(db_path: str, namespaces: int) -> None:
    store = open_store(db_path, Settings(Knobs(namespace_quota=namespaces + 1)))
    try:
        registry = Registry(store)
        registry.create_user(USER, "benchpass1", "benchpass1")
        for i in range(namespaces):
            name = f"ns{i:05d}"
            registry.create_namespace(name, False, USER)
            registry.put_tag(name, "app", "latest", f"repository {i}")
    finally:
        store.close()


def start_server(db_path: str) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "reconciler", "emulator", "--port", "0", "--db", db_path]
    # a clean environment: ambient BCE_* keys would replace the documented pair signed with below
    process = subprocess.Popen(
        command, env=clean_environ(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise SystemExit(f"emulator did not start: {line!r}")
    return process, line.removeprefix("listening on ")


def signed_get(
    connection: http.client.HTTPConnection, host: str, path: str, query: dict[str, str]
) -> bytes:
    now = datetime.now(UTC)
    headers = {"Host": host, "x-bce-date": signer.format_timestamp(now)}
    headers["Authorization"] = signer.sign(
        DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, "GET", path, query, headers, now,
        signed_headers=["host", "x-bce-date"],
    )  # fmt: skip
    target = path + "?" + "&".join(f"{k}={signer.uri_encode(v)}" for k, v in query.items())
    connection.request("GET", target, headers=headers)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"{response.status}: {body[:200]!r}")
    return body


def worker(
    url: str, path: str, queries: list[dict[str, str]], deadline: float, tally: Tally
) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
    mine: list[float] = []
    errors = 0
    turn = 0
    while (start := time.perf_counter()) < deadline:
        turn += 1
        try:
            signed_get(connection, parts.netloc, path, queries[turn % len(queries)])
            mine.append(time.perf_counter() - start)
        except (OSError, RuntimeError, http.client.HTTPException):
            errors += 1
            connection.close()
    connection.close()
    with tally.lock:
        tally.latencies.extend(mine)
        tally.errors += errors


def run(url: str, args: argparse.Namespace) -> Tally:
    path = PATHS[args.endpoint]
    query = {"user": USER, "maxKeys": str(args.max_keys)}
    parts = urlsplit(url)
    first = signed_get(
        http.client.HTTPConnection(parts.hostname or "", parts.port), parts.netloc, path, query
    )
    items = json.loads(first)[args.endpoint]
    print(f"each answer holds {len(items)} {args.endpoint} ({len(first)} bytes)")
    queries = [query]
    if args.cold:  # a different page every time: no answer comes from the cache
        queries = [{**query, "marker": f"ns{i:05d}"} for i in range(args.namespaces)]
    tally = Tally()
    deadline = time.perf_counter() + args.seconds
    threads = [
        threading.Thread(target=worker, args=(url, path, queries, deadline, tally))
        for _ in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def report(tally: Tally, seconds: float) -> None:
    done = len(tally.latencies)
    ordered = sorted(tally.latencies) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{done / seconds:.0f} list requests/second ({done} in {seconds:.0f} s, {tally.errors} errors)"
    )
    print(f"latency p50 {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--namespaces", type=int, default=1000)
    parser.add_argument("--max-keys", type=int, default=100)
    parser.add_argument("--endpoint", choices=sorted(PATHS), default="namespaces")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="vary the marker so that every answer is built afresh (no answer cache hits)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="emulator-bench-") as tmp:
        db_path = str(Path(tmp) / "bench.db")
        started = time.perf_counter()
        seed(db_path, args.namespaces)
        print(
            f"seeded {args.namespaces} namespaces + repositories in {time.perf_counter() - started:.1f} s"
        )
        process, url = start_server(db_path)
        try:
            report(run(url, args), args.seconds)
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
