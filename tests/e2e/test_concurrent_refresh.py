"""Refresh reads kinds that do not depend on each other at once, within ``--parallelism``: the
first kind (the registry user) is read before the others, so that a dead endpoint costs one
request's attempts, only the namespace and image lists beside it when the run expects a user
(asked for that user, kept only once its answer confirms it); then the v1 clusters and the
node lists of the clusters the state manages are asked for together (the node lists by the state's cluster ids,
beside the cluster list, not after it): two round trips in all. What is planned is what reading
them one after another gives: a node list is used only for a cluster the list has (not gone),
and a cluster the list lacks is read by id. No more requests are ever in flight than
``--parallelism`` allows. A kind that fails stops the plan with its own error."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.config import load
from reconciler.refresh import Refresh
from tests.faultproxy import FaultProxy, fault_proxy

from .conftest import Workspace

CONFIG = """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: team-a
  - name: team-b
repositories:
  - namespace: team-a
    name: api
    tags: [v1]
clusters:
  - name: prod
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 172.16.0.0/16
    workers: {count: 2, instanceType: "10", cpu: 4, memory: 8, imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}
"""


# what a node list would say of the deleted cluster, were it used
NODES = [
    {"instanceShortId": f"i-{n}", "instanceUuid": f"u-{n}", "status": "RUNNING"} for n in (1, 2)
]


@pytest.fixture
def proxy(ws: Workspace) -> Iterator[FaultProxy]:
    with fault_proxy(ws.emulator.url) as running:
        (ws.root / "main.yaml").write_text(f"target:\n  endpoint: {running.url}\n{CONFIG}")
        applied = ws.cli("apply", str(ws.root), "--auto-approve")
        assert applied.code == 0, applied.out + applied.err
        yield running


def is_get(path: str) -> object:
    return lambda call: call.method == "GET" and call.path == path


def test_after_the_user_the_lists_and_the_node_list_are_asked_at_once(
    ws: Workspace, proxy: FaultProxy
) -> None:
    together = proxy.rendezvous(
        is_get("/v1/image/namespace"),
        is_get("/v1/image"),
        is_get("/v1/cluster"),
        is_get("/v1/node"),
    )
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert "No changes" in plan.out
    assert together.met
    sent = [(e["method"], e["path"]) for e in ws.emulator.requests_log(since)]
    assert sent[0] == ("GET", "/v1/image/user")
    assert sorted(sent[1:]) == [
        ("GET", "/v1/cluster"),
        ("GET", "/v1/image"),
        ("GET", "/v1/image/namespace"),
        ("GET", "/v1/node"),
    ]


def test_the_kinds_not_listed_per_user_wait_for_the_user(ws: Workspace, proxy: FaultProxy) -> None:
    alone = proxy.rendezvous(is_get("/v1/image/user"), is_get("/v1/cluster"), within=0.5)
    assert ws.cli("plan", str(ws.root), "--detailed-exitcode").code == 0
    assert not alone.met


# --- the lists per registry user guess the user the configuration declares ------------------------
# The namespace and image lists need the registry user's name (user=...): they are asked for with
# the declared one beside the user's GET, and kept only when its answer names that very user.


def sent_with_user(ws: Workspace, since: int) -> list[tuple[str, str, str | None, int | None]]:
    return sorted(
        (e["method"], e["path"], e["query"].get("user"), e["status"])
        for e in ws.emulator.requests_log(since)
    )


@pytest.mark.parametrize(
    "flags",
    [(), ("--lock-timeout", "5s")],
    ids=["begun-early-expects-the-declared-user", "begun-later-expects-the-states-user"],
)
def test_the_lists_per_user_are_asked_beside_the_user_they_expect(
    ws: Workspace, proxy: FaultProxy, flags: tuple[str, ...]
) -> None:
    together = proxy.rendezvous(
        is_get("/v1/image/user"), is_get("/v1/image/namespace"), is_get("/v1/image")
    )
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode", *flags)
    assert plan.code == 0, plan.out + plan.err
    assert "No changes" in plan.out
    assert together.met  # both lists were sent before the user's answer came back
    assert sent_with_user(ws, since) == [  # one request per page, as without the guess
        ("GET", "/v1/cluster", None, 200),
        ("GET", "/v1/image", "ccetest", 200),
        ("GET", "/v1/image/namespace", "ccetest", 200),
        ("GET", "/v1/image/user", None, 200),
        ("GET", "/v1/node", None, 200),
    ]


def test_a_declared_user_that_is_not_the_accounts_plans_as_without_the_guess(
    ws: Workspace, proxy: FaultProxy
) -> None:
    config = (ws.root / "main.yaml").read_text()
    (ws.root / "main.yaml").write_text(config.replace("username: ccetest", "username: otheruser"))
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    # what a plan that lists after the user's answer says (output compared with one)
    assert plan.code == 3, plan.out + plan.err
    assert plan.err == ""
    assert (
        "! refused at apply: the account already has registry user ccetest and the API allows "
        "one per account (Cce.MoreThanOneUserPerAccount); declare user ccetest instead"
    ) in plan.out
    assert (
        "Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 1 to forget, 4 unchanged."
    ) in plan.out  # the namespaces and the repository, listed for ccetest, are in sync
    sent = sent_with_user(ws, since)
    assert {method for method, *_ in sent} == {"GET"}
    # the guessed lists (the emulator knows no such user) asked again for the account's user
    for path in ("/v1/image", "/v1/image/namespace"):
        asked = [(user, status) for _, p, user, status in sent if p == path]
        assert asked == [("ccetest", 200), ("otheruser", 404)], sent


def test_a_guessed_list_refused_for_the_confirmed_user_says_its_error_once(
    ws: Workspace, proxy: FaultProxy
) -> None:
    """A guess the user's answer confirms whose answer is unreadable (no retry would mend it)
    fails the plan with that list's error, as the list asked after the user would: not asked
    twice."""
    proxy.rewrite("/v1/image/namespace", lambda call, data: {**data, "namespaces": None})
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 1, plan.out + plan.err
    assert plan.err.startswith("error: GET /v1/image/namespace"), plan.err
    assert "Traceback" not in plan.err
    asked = [e for e in ws.emulator.requests_log(since) if e["path"] == "/v1/image/namespace"]
    assert [e["query"]["user"] for e in asked] == ["ccetest"]


def test_a_guessed_list_that_failed_on_something_transient_is_asked_again(
    ws: Workspace, proxy: FaultProxy
) -> None:
    # the user's GET and the image list held back a while: the guessed namespace list is the
    # first request the emulator sees, and the one it fails
    proxy.rendezvous(is_get("/v1/image/user"), is_get("/v1/image"), lambda call: False, within=2.0)
    ws.emulator.set_faults(fail_next_any=["ServiceUnavailable"])
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert "No changes" in plan.out  # not "namespace.team-a will be created"
    sent = [
        (e["path"], e["query"].get("user"), e["status"]) for e in ws.emulator.requests_log(since)
    ]
    asked = [(user, status) for path, user, status in sent if path == "/v1/image/namespace"]
    assert asked == [("ccetest", 503), ("ccetest", 200)]
    # the guess is tried once: asked again only once the user's answer confirmed the name
    user_read = sent.index(("/v1/image/user", None, 200))
    assert sent.index(("/v1/image/namespace", "ccetest", 200)) > user_read


def test_no_registry_user_yet_plans_it_and_its_namespaces(ws: Workspace) -> None:
    ws.write(CONFIG)
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert plan.code == 2, plan.out + plan.err
    for created in (
        "user.ccetest",
        "namespace.team-a",
        "namespace.team-b",
        "repository.team-a/api",
    ):
        assert f"+ {created} will be created" in plan.out, plan.out
    sent = sent_with_user(ws, since)
    assert {method for method, *_ in sent} == {"GET"}
    assert ("GET", "/v1/image/user", None, 404) in sent
    assert [p for _, p, user, _ in sent if user == "ccetest"] == [
        "/v1/image",
        "/v1/image/namespace",
    ]


def test_a_wrong_secret_says_the_users_error(
    ws: Workspace, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BCE_SECRET_ACCESS_KEY", "not-the-secret")
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 1, plan.out + plan.err
    assert plan.err.startswith("error: GET /v1/image/user: HTTP 400 SignatureDoesNotMatch: "), (
        plan.err
    )
    assert plan.err.endswith(
        "check BCE_SECRET_ACCESS_KEY: it must be the secret of BCE_ACCESS_KEY_ID\n"
    )
    assert plan.err.count("\n") == 1, plan.err
    sent = sent_with_user(ws, since)
    assert ("GET", "/v1/image/namespace", "ccetest", 400) in sent  # refused too, and unsaid
    assert {method for method, *_ in sent} == {"GET"}


def test_a_cluster_the_list_lacks_is_read_by_id_not_taken_from_its_node_list(
    ws: Workspace, proxy: FaultProxy
) -> None:
    cluster_id = json.loads(ws.state_file().read_text())["resources"]["cluster.prod"]["cloud_id"]
    proxy.rewrite("/v1/cluster", lambda call, data: {**data, "clusters": []})
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err  # GET /v1/cluster/{id} finds it: in sync
    assert "No changes" in plan.out
    sent = [e["path"] for e in ws.emulator.requests_log(since)]
    assert sent.count(f"/v1/cluster/{cluster_id}") == 1
    assert sent.count("/v1/node") == 2  # read ahead (unused), then with the cluster by id


def test_a_cluster_gone_is_planned_from_the_cluster_list_whatever_its_node_list_says(
    ws: Workspace, proxy: FaultProxy
) -> None:
    cluster_id = json.loads(ws.state_file().read_text())["resources"]["cluster.prod"]["cloud_id"]
    credentials = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, credentials) as client:
        client.delete_cluster(cluster_id)
    proxy.rewrite("/v1/node", lambda call, data: {**data, "nodes": NODES})
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root))
    assert "+ cluster.prod will be created" in plan.out, plan.out + plan.err
    assert "deleted outside the reconciler" in plan.out
    assert [e["path"] for e in ws.emulator.requests_log(since)].count("/v1/node") == 1


@pytest.mark.parametrize("parallelism", [1, 2])
def test_no_more_requests_are_in_flight_than_parallelism(
    ws: Workspace, proxy: FaultProxy, parallelism: int
) -> None:
    proxy.most_in_flight = 0
    plan = ws.cli("plan", str(ws.root), "--parallelism", str(parallelism), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert 1 <= proxy.most_in_flight <= parallelism


def test_a_kind_that_fails_stops_the_plan_with_its_own_error(
    ws: Workspace, proxy: FaultProxy
) -> None:
    proxy.rewrite("/v1/image/user", lambda call, data: {"unexpected": True})
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 1
    assert "GET /v1/image/user" in plan.err and "username" in plan.err, plan.err
    assert "Traceback" not in plan.err and "internal error" not in plan.err


# --- the refresh begins while the configuration is checked ---------------------------------------
# A plan starts its list requests once the files parse and the target is valid; the rest of the
# configuration is checked and the state read meanwhile. What it plans, the requests it sends and
# every error it says are those of a refresh begun afterwards; a run that ends first leaves no
# thread behind and says only its own error.

REFRESH_THREADS = ("refresh", "page-ahead", "read-ahead")


def refresh_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(REFRESH_THREADS)]


def wait_for(ws: Workspace, path: str, since: int) -> None:
    """Until the emulator has been asked ``path`` (a request the early refresh sends)."""
    deadline = time.monotonic() + 10
    while not any(e["path"] == path for e in ws.emulator.requests_log(since)):
        assert time.monotonic() < deadline, f"{path} was never asked"
        time.sleep(0.01)


def test_the_lists_begin_before_the_configuration_is_checked(
    ws: Workspace, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    since = ws.emulator.next_index()
    checked = load.Checked

    def checked_once_the_user_was_asked(documents: list[Any]) -> Any:
        wait_for(ws, "/v1/image/user", since)
        return checked(documents)

    monkeypatch.setattr(load, "Checked", checked_once_the_user_was_asked)
    plan = ws.cli("plan", str(ws.root), "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert "No changes" in plan.out
    sent = [(e["method"], e["path"]) for e in ws.emulator.requests_log(since)]
    assert sorted(sent) == [
        ("GET", "/v1/cluster"),
        ("GET", "/v1/image"),
        ("GET", "/v1/image/namespace"),
        ("GET", "/v1/image/user"),
        ("GET", "/v1/node"),
    ]
    # the registry lists go beside the user's GET (the declared user); the other kinds are
    # asked for only once it was answered
    user = sent.index(("GET", "/v1/image/user"))
    assert sent.index(("GET", "/v1/cluster")) > user and sent.index(("GET", "/v1/node")) > user
    assert refresh_threads() == []


def test_a_configuration_refused_after_the_lists_began_says_only_its_own_error(
    ws: Workspace, proxy: FaultProxy
) -> None:
    proxy.rewrite("/v1/image/user", lambda call, data: {"unexpected": True})  # refresh fails
    (ws.root / "more.yaml").write_text("namespaces:\n  - name: team-c\n    public: maybe\n")
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 1, plan.out + plan.err
    assert plan.err.startswith(f"{ws.root / 'more.yaml'}:3:13: error: "), plan.err
    assert "GET /v1/image/user" not in plan.err  # the refresh's error is not said
    assert {e["method"] for e in ws.emulator.requests_log(since)} <= {"GET"}
    assert refresh_threads() == []
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_a_file_that_does_not_parse_sends_no_request(ws: Workspace, proxy: FaultProxy) -> None:
    (ws.root / "more.yaml").write_text("namespaces:\n  - name: [team-c\n")
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 1, plan.out + plan.err
    assert f"{ws.root / 'more.yaml'}:" in plan.err
    assert ws.emulator.requests_log(since) == []


def test_a_state_of_another_target_is_refused_as_before(ws: Workspace, proxy: FaultProxy) -> None:
    state = json.loads(ws.state_file().read_text())
    ws.state_file().write_text(json.dumps({**state, "target": "http://elsewhere.example:1"}))
    since = ws.emulator.next_index()
    plan = ws.cli("plan", str(ws.root))
    assert plan.code == 1, plan.out + plan.err
    assert f"was applied to http://elsewhere.example:1, but this run targets {proxy.url}" in (
        plan.err
    )
    assert {e["method"] for e in ws.emulator.requests_log(since)} <= {"GET"}
    assert refresh_threads() == []


def test_ctrl_c_while_the_lists_are_in_flight_ends_cleanly(
    ws: Workspace, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    since = ws.emulator.next_index()
    ws.emulator.set_faults(latency_ms=300)

    def interrupted(documents: list[Any]) -> Any:
        wait_for(ws, "/v1/image/user", since)
        raise KeyboardInterrupt

    monkeypatch.setattr(load, "Checked", interrupted)
    started = time.monotonic()
    try:
        plan = ws.cli("plan", str(ws.root))
    finally:
        ws.emulator.set_faults(latency_ms=0)
    assert plan.code == 130, plan.out + plan.err
    assert "interrupted" in plan.err and "Traceback" not in plan.err
    assert time.monotonic() - started < 2  # the request in flight, not the rest of the lists
    assert refresh_threads() == []
    assert {e["method"] for e in ws.emulator.requests_log(since)} <= {"GET"}


def test_a_stopped_refresh_asks_no_further_page(ws: Workspace) -> None:
    """Stopping a refresh whose run ended (it owns the client) stops a list between pages."""
    credentials = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, credentials, page_size=1) as client:
        client.create_user("ccetest", "Passw0rd-e2e1")
        for n in range(6):
            client.create_namespace(f"ns-{n}", public=False, user="ccetest")
        since = ws.emulator.next_index()
        ws.emulator.set_faults(latency_ms=100)
        try:
            early = Refresh(client, parallelism=4, owns_client=True)
            early.start({"namespace"})
            wait_for(ws, "/v1/image/namespace", since)
            early.stop()
        finally:
            ws.emulator.set_faults(latency_ms=0)
    pages = [e for e in ws.emulator.requests_log(since) if e["path"] == "/v1/image/namespace"]
    assert 1 <= len(pages) < 6  # six pages of one namespace each, had it gone on
    assert refresh_threads() == []


@pytest.mark.parametrize("flag", [("--lock-timeout", "5s"), ("--parallelism", "1")])
def test_a_plan_that_waits_for_the_lock_or_reads_one_at_a_time_lists_after_the_checks(
    ws: Workspace, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, flag: tuple[str, str]
) -> None:
    since = ws.emulator.next_index()
    asked_while_checking: list[int] = []
    checked = load.Checked

    def counting(documents: list[Any]) -> Any:
        time.sleep(0.3)  # time enough for a request begun with the files parsed to arrive
        asked_while_checking.append(len(ws.emulator.requests_log(since)))
        return checked(documents)

    monkeypatch.setattr(load, "Checked", counting)
    plan = ws.cli("plan", str(ws.root), *flag, "--detailed-exitcode")
    assert plan.code == 0, plan.out + plan.err
    assert asked_while_checking == [0]  # with --lock-timeout, the lock comes first
    assert len(ws.emulator.requests_log(since)) == 5
