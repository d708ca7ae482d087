"""`reconciler emulator`: serve the local CCE emulator (v1 API and v2 cluster API) until Ctrl-C.

For: turning flags into :class:`reconciler.emulator.EmulatorOptions`, printing
``listening on http://HOST:PORT`` as the first line (flushed, so scripts can wait for it and
read the port chosen for ``--port 0``), and stopping cleanly on Ctrl-C or SIGTERM.
Credentials: the flags, else BCE_ACCESS_KEY_ID / BCE_SECRET_ACCESS_KEY, else the documented
pair ``emulator-access-key-id`` / ``emulator-secret-access-key``.
Not for: anything the emulator does (see ``reconciler/emulator``).
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

import click

from reconciler.emulator import (
    DEFAULT_DB_PATH,
    EmulatorOptions,
    RunningEmulator,
    resolve_credentials,
    start_emulator,
)

_RATE = click.FloatRange(0.0, 1.0)
_NON_NEGATIVE = click.FloatRange(min=0.0)
_COUNT = click.IntRange(min=0)


@click.command(name="emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="0 picks a free port.",
)
@click.option(
    "--db", "db_path", default=DEFAULT_DB_PATH, show_default=True, help="SQLite file, or :memory:."
)
@click.option(
    "--access-key-id",
    default=None,
    help="Accepted access key (default: BCE_ACCESS_KEY_ID, else the documented pair).",
)
@click.option(
    "--secret-access-key", default=None, help="Its secret (default: BCE_SECRET_ACCESS_KEY)."
)
@click.option(
    "--region", default="bj", show_default=True, help="Region reported in cluster answers."
)
@click.option(
    "--latency-ms",
    type=_NON_NEGATIVE,
    default=0.0,
    show_default=True,
    help="Added to every API answer.",
)
@click.option(
    "--latency-jitter-ms",
    type=_NON_NEGATIVE,
    default=0.0,
    show_default=True,
    help="Random extra latency, up to this.",
)
@click.option(
    "--fault-rate",
    type=_RATE,
    default=0.0,
    show_default=True,
    help="Share of API requests that fail (500, 503, 429, reset, drop).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed for faults, ids and cluster fates."
)
@click.option(
    "--cluster-create-seconds",
    type=_NON_NEGATIVE,
    default=5.0,
    show_default=True,
    help="CREATING -> RUNNING after this.",
)
@click.option(
    "--cluster-delete-seconds",
    type=_NON_NEGATIVE,
    default=3.0,
    show_default=True,
    help="DELETING -> DELETED after this.",
)
@click.option(
    "--create-failure-rate",
    type=_RATE,
    default=0.0,
    show_default=True,
    help="Share of clusters ending CREATE_FAILED.",
)
@click.option(
    "--namespace-quota",
    type=_COUNT,
    default=10_000,
    show_default=True,
    help="Namespaces per account.",
)
@click.option(
    "--cluster-quota",
    type=_COUNT,
    default=100,
    show_default=True,
    help="Live clusters per account.",
)
@click.option(
    "--slave-quota", type=_COUNT, default=1_000, show_default=True, help="Worker nodes per account."
)
@click.option(
    "--throttle-rps",
    type=_NON_NEGATIVE,
    default=0.0,
    show_default=True,
    help="429 above this many requests/second (0: off).",
)
def command(access_key_id: str | None, secret_access_key: str | None, **knobs: Any) -> None:
    """Serve the local CCE emulator, v1 and v2 APIs (Ctrl-C stops it)."""
    if bool(access_key_id) != bool(secret_access_key):
        raise click.UsageError("--access-key-id and --secret-access-key go together")
    ak, sk = resolve_credentials(access_key_id, secret_access_key)
    try:
        options = EmulatorOptions(access_key_id=ak, secret_access_key=sk, **knobs)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        running = start_emulator(options)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}"
        ) from None
    click.echo(f"listening on {running.url}")
    sys.stdout.flush()
    click.echo(f"access key id {ak}; database {options.db_path}; Ctrl-C to stop", err=True)
    _serve_until_stopped(running)


def _serve_until_stopped(running: RunningEmulator) -> None:
    stopping = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_term) if in_main else None
    try:
        while not stopping.wait(0.5):  # a timed wait lets Ctrl-C through promptly
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        running.stop()
    click.echo("emulator stopped", err=True)
