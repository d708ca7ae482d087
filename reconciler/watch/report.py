"""What a watch tells the world: events, the status document and the Prometheus metrics.

For: turning each :class:`~reconciler.watch.turn.TurnResult` into

- events, one JSON object per line on stdout (for log shippers) and, optionally, POSTed to a
  webhook: ``drift`` (new drift, in warn and enforce), ``repaired``, ``applied`` (a pending
  change), ``refused`` (held by the planner, the guards or a conflict; new ones), ``failed``
  (a change, or the whole environment when its failure is new), ``paused`` (an API host), and
  ``run`` once per turn that worked the environment, plus ``started`` and ``stopped``;
- ``/status``: per environment and resource, in sync / drifted / pending / failed with the
  reason and the time;
- ``/metrics``: runs, drift found, changes applied, failures, API requests by service (host)
  and code, seconds since the last successful run per environment (``prometheus_client``);
- ``/healthz``: 200 while the loop turns, 503 once it has not for three intervals.

Not for: deciding anything (``watch.policy``) or running turns (``watch.loop``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from reconciler.watch.turn import ELSEWHERE, FAILED_TURN, HELD, LOCKED, OK, STOPPED, TurnResult

Event = dict[str, Any]
Sink = Callable[[Event], None]


def iso(moment: float) -> str:
    return (
        datetime.fromtimestamp(moment, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class _SinceLastSuccess(Collector):
    """``reconciler_watch_seconds_since_last_success``, computed when scraped."""

    def __init__(self, last_success: dict[str, float], lock: threading.Lock) -> None:
        self._last = last_success
        self._lock = lock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        since = GaugeMetricFamily(
            "reconciler_watch_seconds_since_last_success",
            "Seconds since this worker last worked the environment without a failure.",
            labels=["environment"],
        )
        stamp = GaugeMetricFamily(
            "reconciler_watch_last_success_timestamp_seconds",
            "When this worker last worked the environment without a failure (Unix time).",
            labels=["environment"],
        )
        now = time.time()
        with self._lock:
            items = sorted(self._last.items())
        for env, moment in items:
            since.add_metric([env], now - moment)
            stamp.add_metric([env], moment)
        yield since
        yield stamp


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runs = Counter(
            "reconciler_watch_runs",
            "Turns that worked an environment, by outcome (ok, failed, stopped).",
            ["environment", "outcome"],
            registry=r,
        )
        self.skipped = Counter(
            "reconciler_watch_skipped",
            "Turns that did not work an environment, by why (elsewhere, locked, held).",
            ["environment", "why"],
            registry=r,
        )
        self.drift = Counter(
            "reconciler_watch_drift_found",
            "Drifted resources found (each run that finds one counts it).",
            ["environment"],
            registry=r,
        )
        self.applied = Counter(
            "reconciler_watch_changes_applied",
            "Changes the watch applied, by action.",
            ["environment", "action"],
            registry=r,
        )
        self.failures = Counter(
            "reconciler_watch_failures",
            "Failed changes and failed runs (the environment could not be worked).",
            ["environment", "scope"],
            registry=r,
        )
        self.requests = Counter(
            "reconciler_api_requests",
            "API requests answered, by service (API host) and code (the error code, else the "
            "HTTP status; 'none' when no answer came).",
            ["service", "code"],
            registry=r,
        )
        self.resources = Gauge(
            "reconciler_watch_resources",
            "Resources by status at the last run of the environment.",
            ["environment", "status"],
            registry=r,
        )
        self.paused = Gauge(
            "reconciler_api_service_paused",
            "1 while this worker pauses requests to an API host after repeated 429/503.",
            ["service"],
            registry=r,
        )
        self.last_success: dict[str, float] = {}
        self._lock = threading.Lock()
        r.register(_SinceLastSuccess(self.last_success, self._lock))

    def answered(self, host: str, status: int | None, code: str) -> None:
        self.requests.labels(host, code or (str(status) if status is not None else "none")).inc()

    def succeeded(self, environment: str, moment: float) -> None:
        with self._lock:
            self.last_success[environment] = moment

    def text(self) -> bytes:
        return generate_latest(self.registry)


class Reporter:
    """Collects turn results: events out, status and metrics in memory. Thread-safe."""

    def __init__(
        self,
        worker: str,
        mode: str,
        interval: float,
        out: TextIO | None = None,
        sinks: Iterable[Sink] = (),
    ) -> None:
        self.worker = worker
        self.mode = mode
        self.interval = interval
        self.metrics = Metrics()
        self._out = out or sys.stdout
        self._sinks = list(sinks)
        self._lock = threading.Lock()
        self._status: dict[str, dict[str, Any]] = {}
        self.last_tick = time.monotonic()
        self.started = time.time()

    # --- events --------------------------------------------------------------------------

    def emit(self, event: str, **fields: Any) -> None:
        record: Event = {"time": iso(time.time()), "event": event, "worker": self.worker, **fields}
        line = json.dumps(record, sort_keys=False, default=str)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()
        for sink in self._sinks:
            sink(record)

    def tick(self) -> None:
        self.last_tick = time.monotonic()

    def paused(self, host: str, seconds: float) -> None:
        self.metrics.paused.labels(host).set(1 if seconds > 0 else 0)

    # --- turns ---------------------------------------------------------------------------

    def record(self, result: TurnResult, new_drift: list[str], new_refused: list[str]) -> None:
        """Events, status and metrics of one turn; ``new_*``: addresses reported for the first
        time (the policy's memory decides what is new)."""
        env = result.environment
        self._status_of(result)
        if result.outcome in (ELSEWHERE, LOCKED, HELD):
            self.metrics.skipped.labels(env, result.outcome).inc()
            if result.outcome == HELD and result.new_failure:
                self.emit("failed", environment=env, run=result.run_id, reason=result.reason)
            return
        base = {"environment": env, "run": result.run_id}
        if result.outcome == FAILED_TURN and not result.resources:
            self.metrics.failures.labels(env, "run").inc()
            self.metrics.runs.labels(env, "failed").inc()
            if result.new_failure:
                self.emit("failed", **base, reason=result.reason)
            return
        self._resource_events(result, base, new_drift, new_refused)
        counts = self._counts(result)
        for status, n in counts.items():
            self.metrics.resources.labels(env, status).set(n)
        self.metrics.drift.labels(env).inc(counts["drifted"] + len(self._repaired(result)))
        outcome = {OK: "ok", STOPPED: "stopped"}.get(result.outcome, "failed")
        self.metrics.runs.labels(env, outcome).inc()
        if result.outcome == OK:
            self.metrics.succeeded(env, result.finished)
        self.emit(
            "run",
            **base,
            outcome=result.outcome,
            reason=result.reason or None,
            mode=self.mode,
            started=iso(result.started),
            finished=iso(result.finished),
            seconds=round(result.finished - result.started, 3),
            resources=counts,
            applied=len(result.applied),
            failed=len(result.failed),
        )

    def _resource_events(
        self,
        result: TurnResult,
        base: dict[str, Any],
        new_drift: list[str],
        new_refused: list[str],
    ) -> None:
        env = result.environment
        reports = {str(a): r for a, r in result.resources.items()}
        for address in new_drift:
            report = reports[address]
            self.emit(
                "drift", **base, address=address, fields=list(report.fields), reason=report.reason
            )
        for applied in result.applied:
            self.metrics.applied.labels(env, applied.action).inc()
            if applied.drift:
                self.emit(
                    "repaired",
                    **base,
                    address=str(applied.address),
                    action=applied.action,
                    fields=list(applied.drift),
                    repeats=applied.repeats,
                )
            else:
                self.emit("applied", **base, address=str(applied.address), action=applied.action)
        for refused in new_refused:
            self.emit("refused", **base, address=refused, reason=reports[refused].held)
        for failed, reason in sorted(result.failed.items()):
            self.metrics.failures.labels(env, "change").inc()
            self.emit("failed", **base, address=str(failed), reason=reason)

    @staticmethod
    def _repaired(result: TurnResult) -> list[str]:
        return [str(a.address) for a in result.applied if a.drift]

    @staticmethod
    def _counts(result: TurnResult) -> dict[str, int]:
        counts = {"in_sync": 0, "drifted": 0, "pending": 0, "failed": 0}
        for report in result.resources.values():
            counts[report.status] = counts.get(report.status, 0) + 1
        return counts

    # --- status --------------------------------------------------------------------------

    def _status_of(self, result: TurnResult) -> None:
        env = result.environment
        at = iso(result.finished or time.time())
        with self._lock:
            entry = self._status.setdefault(env, {"environment": env, "resources": {}})
            entry.update(
                {
                    "last_turn": {
                        "outcome": result.outcome,
                        "reason": result.reason or None,
                        "run": result.run_id,
                        "at": at,
                    },
                    "state": result.state or entry.get("state"),
                }
            )
            if result.outcome == ELSEWHERE:
                entry["worked_here"] = False
                return
            entry["worked_here"] = True
            if result.outcome == LOCKED:
                entry["lock_holder"] = result.lock_holder
                return
            if result.outcome == OK:
                entry["last_success"] = at
            if result.outcome == FAILED_TURN and not result.resources or result.outcome == HELD:
                entry["failure"] = {"reason": result.reason, "at": at}
                return
            entry.pop("failure", None)
            entry["last_run"] = at
            entry["resources"] = {
                str(address): {
                    "status": report.status,
                    "action": report.action,
                    "reason": report.reason,
                    "fields": list(report.fields),
                    "held": report.held,
                    "at": at,
                }
                for address, report in sorted(result.resources.items())
            }

    def status(self) -> dict[str, Any]:
        with self._lock:
            environments = json.loads(json.dumps(self._status, default=str))
        return {
            "worker": self.worker,
            "mode": self.mode,
            "interval_seconds": self.interval,
            "started": iso(self.started),
            "environments": environments,
        }

    def healthy(self) -> bool:
        return time.monotonic() - self.last_tick < max(3 * self.interval, 5.0)


def health_app(reporter: Reporter) -> Callable[..., Iterable[bytes]]:
    """A WSGI app serving /healthz, /metrics and /status."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            ok = reporter.healthy()
            body, status, kind = (
                (b"ok\n" if ok else b"stalled\n"),
                ("200 OK" if ok else "503 Service Unavailable"),
                "text/plain",
            )
        elif path == "/metrics":
            body, status, kind = reporter.metrics.text(), "200 OK", CONTENT_TYPE_LATEST
        elif path == "/status":
            text = json.dumps(reporter.status(), indent=2) + "\n"
            body, status, kind = text.encode(), "200 OK", "application/json"
        else:
            body, status, kind = (
                b"not found: try /healthz, /metrics or /status\n",
                "404 Not Found",
                "text/plain",
            )
        start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]

    return app
