"""`reconciler watch [PATH ...] [--env NAME ... | --all-envs]`: continuous reconciliation.

For: the command line of the watch: its options, the environments to watch, the process-wide
pieces (the request budget per API host, the seats, the reporter, the health server, the
webhook) and the signals; then :class:`reconciler.watch.loop.Watch` runs until SIGTERM/SIGINT.
Not for: what a turn does (``watch.turn``) or decides (``watch.policy``).
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType
from typing import Any

import click

from reconciler.commands.apply import parse_timeouts
from reconciler.commands.common import DURATION, run_options, state_options, timeout_option
from reconciler.config import config_root, list_environments, load_config
from reconciler.errors import ReconcilerError, SecretError, UsageError
from reconciler.model import SecretRef
from reconciler.options import RunOptions, StateChoice

MIN_INTERVAL = 0.05


def _env_names(paths: Sequence[str], env: tuple[str, ...], all_envs: bool) -> list[str | None]:
    if all_envs and env:
        raise UsageError("give --env NAME (repeatable) or --all-envs, not both")
    if not all_envs:
        names = list(dict.fromkeys(env))
        return list(names) if names else [None]
    root = config_root(list(paths) or ["."])
    found = list_environments(root)
    if not found:
        raise UsageError(
            f"--all-envs: no environments/*.yaml under {root}; see docs/configuration.md"
        )
    return list(found)


def _check_configurations(
    paths: Sequence[str],
    names: Sequence[str | None],
    var_files: Sequence[str],
    var_args: Sequence[str],
) -> None:
    """Each environment's configuration loads, or the ConfigError plan would give (exit 1),
    before any turn: an unknown --env or a broken file fails at start, not every interval."""
    for name in names:
        load_config(list(paths) or ["."], env=name, var_files=var_files, var_args=var_args)


def parse_host_rates(values: Sequence[str]) -> dict[str, float]:
    """``--host-rate HOST=R`` -> {host: R}."""
    from reconciler.client.budget import host_of

    rates: dict[str, float] = {}
    for value in values:
        host, sep, text = value.partition("=")
        try:
            rate = float(text)
        except ValueError:
            rate = -1.0
        if not sep or not host.strip() or not (0 < rate <= 10_000):
            raise UsageError(
                f"--host-rate {value}: expected HOST=REQUESTS_PER_SECOND, e.g. "
                "cce.bj.baidubce.com=5 (more than 0)"
            )
        rates[host_of(host.strip())] = rate
    return rates


def parse_listen(value: str | None) -> tuple[str, int] | None:
    if value is None:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--listen {value}: expected HOST:PORT, e.g. 127.0.0.1:9464")
    return host.strip("[]") or "0.0.0.0", int(port)


def parse_reference(value: str, flag: str) -> SecretRef:
    """``env:NAME`` or ``file:PATH``: a value given by reference (a webhook URL with a token)."""
    scheme, sep, rest = value.partition(":")
    if sep and rest and scheme == "env":
        return SecretRef(env=rest)
    if sep and rest and scheme == "file":
        return SecretRef(file=rest)
    raise UsageError(
        f"{flag} {value}: give the URL by reference, env:NAME (an environment variable) or "
        "file:PATH, so that its token stays out of the command line"
    )


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _say(message: str) -> None:
    click.echo(message, err=True)


@contextmanager
def _signals(stop: Callable[[str], None]) -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:  # kill -USR1: where each thread is, on the process's own stderr
        faulthandler.register(signal.SIGUSR1, file=sys.__stderr__ or sys.stderr, all_threads=True)
    except (AttributeError, ValueError, OSError):
        pass  # no real stderr (embedded): no dump
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        faulthandler.unregister(signal.SIGUSR1)


@contextmanager
def _health_server(address: tuple[str, int] | None, app: Any) -> Iterator[str | None]:
    if address is None:
        yield None
        return
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        server = make_server(address[0], address[1], app, threaded=True)
    except OSError as exc:
        raise UsageError(f"--listen {address[0]}:{address[1]}: {exc.strerror or exc}") from None
    thread = threading.Thread(target=server.serve_forever, name="watch-http", daemon=True)
    thread.start()
    try:
        yield f"{address[0]}:{server.socket.getsockname()[1]}"
    finally:
        server.shutdown()
        server.server_close()


@click.command(name="watch")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--mode",
    type=click.Choice(["observe", "warn", "enforce"]),
    default="observe",
    show_default=True,
    help="observe: report drift and pending changes; warn: and an event per new drift; "
    "enforce: apply what plan would apply without --allow-deletes or --replace.",
)
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="NAME",
    help="Watch environments/NAME.yaml (repeatable).",
)
@click.option("--all-envs", is_flag=True, help="Watch every environments/*.yaml of the root.")
@click.option(
    "--interval",
    type=DURATION,
    default="10m",
    show_default=True,
    metavar="DURATION",
    help="How often each environment is worked (e.g. 10m, 30s, 0.5s).",
)
@click.option(
    "--jitter",
    type=click.FloatRange(0, 0.5),
    default=0.1,
    show_default=True,
    help="Each interval is shortened by up to this fraction, at random.",
)
@click.option(
    "--backoff-cap",
    type=DURATION,
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="Longest wait before a failing resource is tried again (doubling from one interval).",
)
@click.option(
    "--host-rate",
    "host_rates",
    multiple=True,
    metavar="HOST=R",
    help="Requests per second to this API host, instead of --rate (repeatable).",
)
@click.option(
    "--pause-after",
    type=click.IntRange(1, 1000),
    default=5,
    show_default=True,
    help="Pause an API host after this many 429/503 answers in a row.",
)
@click.option(
    "--pause",
    "pause",
    type=DURATION,
    default="1m",
    show_default=True,
    metavar="DURATION",
    help="How long the first pause of a host lasts (doubled while it goes on failing).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Environments worked at once by this process.",
)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Serve /healthz, /metrics and /status (e.g. 127.0.0.1:9464).",
)
@click.option(
    "--webhook",
    metavar="env:NAME|file:PATH",
    help="Also POST each event as JSON to the URL held by this variable or file.",
)
@click.option("--once", is_flag=True, help="Give each environment one turn, then exit.")
@timeout_option
@click.option("--var", "var_args", multiple=True, metavar="NAME=VALUE", help="Set a variable.")
@click.option(
    "--var-file",
    "var_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Variable values from a YAML file (repeatable).",
)
@state_options
@run_options
def command(
    paths: tuple[str, ...],
    mode: str,
    envs: tuple[str, ...],
    all_envs: bool,
    interval: float,
    jitter: float,
    backoff_cap: float,
    host_rates: tuple[str, ...],
    pause_after: int,
    pause: float,
    concurrency: int,
    listen: str | None,
    webhook: str | None,
    once: bool,
    timeouts: tuple[str, ...],
    var_args: tuple[str, ...],
    var_files: tuple[str, ...],
    state: StateChoice,
    run_options: RunOptions,
) -> int:
    """Reconcile continuously: report or repair drift every --interval until SIGTERM.

    Every --interval each environment is refreshed and, by --mode, reported or repaired;
    events are JSON lines on stdout. SIGTERM or SIGINT stops it cleanly."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise ReconcilerError(
            "reconciler watch needs prometheus_client: pip install 'cce-reconciler[watch]'"
        ) from None
    from reconciler.apply import ApplyOptions
    from reconciler.client.budget import Budgets
    from reconciler.client.webhook import Webhook
    from reconciler.secrets import resolve_secret
    from reconciler.watch.loop import Watch
    from reconciler.watch.policy import Mode
    from reconciler.watch.report import Reporter, health_app
    from reconciler.watch.seats import Seats
    from reconciler.watch.turn import WatchSettings

    if interval < MIN_INTERVAL:
        raise UsageError(f"--interval must be at least {MIN_INTERVAL}s")
    names = _env_names(paths, envs, all_envs)
    if state.workspace != "default" and len(names) > 1:
        raise UsageError("--workspace names one state: watch one environment with it, or none")
    address = parse_listen(listen)
    per_host = parse_host_rates(host_rates)
    url = None
    if webhook:
        ref = parse_reference(webhook, "--webhook")
        try:
            url = resolve_secret(ref, os.getcwd()).strip()
        except SecretError as exc:
            raise UsageError(f"--webhook {webhook}: {exc}") from None
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--webhook {webhook}: the value is not an http(s) URL")
    _check_configurations(paths, names, var_files, var_args)
    hook = Webhook(url, _say) if url else None
    sinks = [hook] if hook else []
    settings = WatchSettings(
        paths=paths,
        var_files=var_files,
        var_args=var_args,
        mode=Mode(mode),
        interval=interval,
        jitter=jitter,
        backoff_cap=max(backoff_cap, interval),
        state=state,
        run=replace(run_options, rate=None),  # the host budgets pace every request
        apply=ApplyOptions(parallelism=run_options.parallelism, timeouts=parse_timeouts(timeouts)),
        concurrency=concurrency,
    )
    worker = _worker_id()
    reporter = Reporter(worker, mode, interval, sys.stdout, sinks)
    rate = run_options.rate
    budgets = Budgets(
        rate, per_host, pause_after=pause_after, pause=pause, observer=reporter.metrics.answered
    )
    labels = [n or "default" for n in names]
    watch = Watch(settings, names, reporter, budgets, Seats(labels), worker, _say)
    try:
        with _health_server(address, health_app(reporter)) as listening, _signals(watch.signalled):
            reporter.emit(
                "started",
                environments=labels,
                mode=mode,
                interval_seconds=interval,
                listen=listening,
                rate=rate,
            )
            failed = watch.run(once=once)
            reporter.emit("stopped", turns=watch.turns, failed_environments=failed)
    finally:
        if hook is not None:
            hook.close()
    return 1 if once and failed else 0
