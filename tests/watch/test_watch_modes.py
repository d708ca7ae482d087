"""`reconciler watch` on file states, one process: the modes, drift, safety, health and stop."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest

from .conftest import Fleet

INTERVAL = 0.4


def agents(entries: list[dict[str, Any]], env: str) -> list[dict[str, Any]]:
    return [e for e in entries if f"env={env};" in e["agent"]]


def test_enforce_creates_then_converges_and_observe_changes_nothing(fleet_of: Any) -> None:
    fleet: Fleet = fleet_of(2)
    created = fleet.watch_once("--all-envs", "--mode", "enforce")
    assert created.code == 0, created.err
    applied = {(e["environment"], e["address"]) for e in created.events if e["event"] == "applied"}
    assert applied == {
        (env, address)
        for env in ("e1", "e2")
        for address in (f"namespace.ns-{env}", f"repository.ns-{env}/app")
    }
    assert fleet.tags("e1") == ["latest", "v1"]

    mark = fleet.emulator.next_index()
    again = fleet.watch_once("--all-envs", "--mode", "enforce")
    runs = [e for e in again.events if e["event"] == "run"]
    assert [r["resources"]["in_sync"] for r in runs] == [2, 2]
    assert fleet.emulator.mutating_requests(since=mark) == []  # convergence: nothing sent

    with fleet.client() as client:
        client.delete_image_meta("ns-e1", "app", "v1")  # someone else removes a tag
    mark = fleet.emulator.next_index()
    observed = fleet.watch_once("--all-envs", "--mode", "observe")
    assert observed.code == 0
    assert fleet.emulator.mutating_requests(since=mark) == []
    run = next(e for e in observed.events if e["event"] == "run" and e["environment"] == "e1")
    assert run["resources"]["drifted"] == 1
    assert not [
        e for e in observed.events if e["event"] in ("drift", "repaired")
    ]  # observe: no event
    assert fleet.tags("e1") == ["latest"]

    warned = fleet.watch_once("--env", "e1", "--mode", "warn")
    drift = [e for e in warned.events if e["event"] == "drift"]
    assert [(d["address"], d["fields"]) for d in drift] == [("repository.ns-e1/app", ["tags"])]
    assert fleet.emulator.mutating_requests(since=mark) == []


def test_a_resource_narrowed_to_observe_is_reported_not_repaired(fleet_of: Any) -> None:
    fleet: Fleet = fleet_of(1)
    main = fleet.root / "main.yaml"
    main.write_text(
        main.read_text().replace(
            "    description: app of ${var.env}\n",
            "    description: app of ${var.env}\n    lifecycle: {reconcile: observe}\n",
        )
    )
    first = fleet.watch_once("--env", "e1", "--mode", "enforce")
    assert [e["address"] for e in first.events if e["event"] == "applied"] == ["namespace.ns-e1"]
    refused = [e for e in first.events if e["event"] == "refused"]
    assert refused == []  # narrowed by its own lifecycle: by design, not a refusal
    result = fleet.cli("plan", *fleet.args("--env", "e1", "--json"))
    plan = json.loads(result.out)
    assert {c["address"]: c["action"] for c in plan["changes"]} == {
        "namespace.ns-e1": "noop",
        "repository.ns-e1/app": "create",
    }


def test_drift_is_repaired_within_two_intervals_and_reported_each_time(fleet_of: Any) -> None:
    fleet: Fleet = fleet_of(1)
    assert fleet.watch_once("--env", "e1", "--mode", "enforce").code == 0
    watch = fleet.spawn(
        "--env", "e1", "--mode", "enforce", "--interval", f"{INTERVAL}s", "--listen", "127.0.0.1:0"
    )
    started = watch.wait_for(lambda e: e["event"] == "started")
    watch.wait_for(lambda e: e["event"] == "run")
    repaired_at = []
    for _ in range(2):  # someone removes the tag twice: repaired and reported each time
        mark = len(watch.events)
        with fleet.client() as client:
            client.delete_image_meta("ns-e1", "app", "v1")
        drifted = time.time()
        event = watch.wait_for(lambda e: e["event"] == "repaired", timeout=10, after=mark)
        repaired_at.append(event["seen"] - drifted)
        assert event["address"] == "repository.ns-e1/app" and event["fields"] == ["tags"]
        assert event["repeats"] == 1  # in sync between the two: not a fight
        assert fleet.tags("e1") == ["latest", "v1"]
        watch.wait_for(lambda e: e["event"] == "run" and e["applied"] == 0, after=mark)
    assert max(repaired_at) < 2 * INTERVAL + 0.5, repaired_at

    base = f"http://{started['listen']}"
    with urllib.request.urlopen(f"{base}/healthz") as answer:
        assert answer.status == 200
    with urllib.request.urlopen(f"{base}/metrics") as answer:
        metrics = answer.read().decode()
    assert 'reconciler_watch_changes_applied_total{action="update",environment="e1"} 2.0' in metrics
    assert 'reconciler_watch_runs_total{environment="e1",outcome="ok"}' in metrics
    assert 'reconciler_watch_seconds_since_last_success{environment="e1"}' in metrics
    assert 'reconciler_api_requests_total{code="200",service="127.0.0.1:' in metrics
    with urllib.request.urlopen(f"{base}/status") as answer:
        status = json.loads(answer.read())
    resources = status["environments"]["e1"]["resources"]
    assert {a: r["status"] for a, r in resources.items()} == {
        "namespace.ns-e1": "in_sync",
        "repository.ns-e1/app": "in_sync",
    }
    assert watch.stop() == 0
    assert watch.of("stopped")


def test_a_change_that_needs_a_flag_is_reported_and_never_forced(fleet_of: Any) -> None:
    fleet: Fleet = fleet_of(1)
    assert fleet.watch_once("--env", "e1", "--mode", "enforce").code == 0
    main = fleet.root / "main.yaml"
    # the namespace goes public: namespaces cannot change in place, so plan needs --replace
    main.write_text(
        main.read_text().replace(
            "  - name: ns-${var.env}\n", "  - name: ns-${var.env}\n    public: true\n"
        )
    )
    mark = fleet.emulator.next_index()
    first = fleet.watch_once("--env", "e1", "--mode", "enforce")
    refused = [e for e in first.events if e["event"] == "refused"]
    # replacing the namespace takes its repository with it: both need --replace
    assert [e["address"] for e in refused] == ["namespace.ns-e1", "repository.ns-e1/app"]
    assert all("--replace" in e["reason"] for e in refused), refused
    assert fleet.emulator.mutating_requests(since=mark) == []


def test_authentication_errors_are_not_retried_until_the_config_changes(fleet_of: Any) -> None:
    fleet: Fleet = fleet_of(1)
    env = {**fleet.env(), "BCE_SECRET_ACCESS_KEY": "wrong-secret"}
    watch = fleet.spawn("--env", "e1", "--interval", "0.2s", env=env)
    failed = watch.wait_for(lambda e: e["event"] == "failed")
    assert "SignatureDoesNotMatch" in failed["reason"] or "AccessDenied" in failed["reason"]
    time.sleep(1.0)  # five intervals
    sent = agents(fleet.emulator.requests_log(), "e1")
    assert len(sent) == 1, sent  # one request, then parked
    main = fleet.root / "main.yaml"
    main.write_text(main.read_text().replace("app of", "the app of"))
    time.sleep(0.6)
    assert len(agents(fleet.emulator.requests_log(), "e1")) == 2  # the new config is tried once
    assert len(watch.of("failed")) == 1  # and the same failure is not said twice
    assert watch.stop() == 0


def test_sigterm_during_an_apply_lets_the_change_finish_and_journal(fleet_of: Any) -> None:
    fleet: Fleet = fleet_of(1)
    fleet.emulator.set_faults(latency_ms=300)
    watch = fleet.spawn("--env", "e1", "--mode", "enforce", "--interval", "10m")
    watch.wait_for(lambda e: e["event"] == "started")
    deadline = time.monotonic() + 20
    while not [e for e in fleet.emulator.mutating_requests() if "env=e1;" in e["agent"]]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert watch.stop(signal.SIGTERM) == 0
    stopped = watch.of("stopped")
    assert stopped and stopped[0]["turns"] == 1
    fleet.emulator.set_faults(latency_ms=0)
    state = json.loads((fleet.root / ".reconciler/envs/e1/state.json").read_text())
    assert not (fleet.root / ".reconciler/envs/e1/state.json.journal").exists()
    live = {n["namespace"] for n in fleet.emulator.state()["namespaces"]}
    # the namespace create in flight finished and is in state; the repository was not started
    assert "namespace.ns-e1" in state["resources"] and "ns-e1" in live
    plan = fleet.cli("plan", *fleet.args("--env", "e1", "--json"))
    actions = {c["address"]: c["action"] for c in json.loads(plan.out)["changes"]}
    assert actions["namespace.ns-e1"] == "noop"


class Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_events_go_to_the_webhook_given_by_reference(fleet_of: Any) -> None:
    fleet: Fleet = fleet_of(1)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        Hook.received = []
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        env = {**fleet.env(), "WATCH_HOOK": url}
        watch = fleet.spawn(
            "--env", "e1", "--mode", "enforce", "--once", "--webhook", "env:WATCH_HOOK", env=env
        )
        assert watch.popen.wait(20) == 0
        names = [e["event"] for e in Hook.received]
        assert names[0] == "started" and names[-1] == "stopped"
        assert names.count("applied") == 2 and "run" in names
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "0s"], "--interval must be at least"),
        (["--webhook", "http://hook"], "give the URL by reference"),
        (["--listen", "nowhere"], "expected HOST:PORT"),
        (["--host-rate", "cce=0"], "expected HOST=REQUESTS_PER_SECOND"),
        (["--env", "e1", "--all-envs"], "not both"),
    ],
)
def test_bad_options_are_usage_errors(fleet_of: Any, args: list[str], message: str) -> None:
    fleet: Fleet = fleet_of(1)
    result = fleet.cli("watch", *fleet.args(*args))
    assert result.code == 1 and message in result.err, result.err
    assert "Traceback" not in result.err


def test_an_unknown_environment_fails_at_start_as_plan_does(fleet_of: Any) -> None:
    fleet: Fleet = fleet_of(1)
    plan = fleet.cli("plan", *fleet.args("--env", "nope"))
    assert plan.code == 1 and 'environment "nope" not found (environments: e1)' in plan.err
    watch = fleet.watch_once("--env", "e1", "--env", "nope")
    assert watch.code == 1
    assert watch.events == []  # not even "started": no turn was run
    assert watch.err == plan.err
