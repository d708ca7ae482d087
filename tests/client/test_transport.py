"""The transport over real HTTP on loopback: signing on the wire, bad answers, retries, the
retry budget, lost answers of creates, the rate limiter and the counters."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from reconciler import errors
from reconciler.client import signer, transport
from reconciler.client.credentials import Credentials
from reconciler.client.ratelimit import TokenBucket
from reconciler.client.retry import Backoff, RetryBudget
from reconciler.client.transport import Transport

from .conftest import (
    AK,
    SK,
    FakeTime,
    Reply,
    ResettingServer,
    ScriptedServer,
    closed_port_url,
    error,
    make_transport,
    ok,
)

# --- signing on the wire ---------------------------------------------------------------------


def test_a_request_is_signed_and_its_request_id_kept(
    server: ScriptedServer, transport: Transport
) -> None:
    server.script(ok({"clusters": []}, request_id="rid-1"))
    response = transport.request("GET", "/v1/cluster", {"status": "RUNNING"})
    assert (response.status, response.data, response.request_id) == (200, {"clusters": []}, "rid-1")
    seen = server.seen[0]
    assert seen.verified == AK
    assert seen.headers["Content-Type"] == "application/json; charset=utf-8"
    assert seen.headers["Host"] == server.url.removeprefix("http://")
    assert signer.parse_timestamp(seen.headers["X-Bce-Date"])
    auth = signer.parse_authorization(seen.headers["Authorization"])
    assert auth.signed_headers == ("content-type", "host", "x-bce-date")
    assert signer.format_timestamp(auth.timestamp) == seen.headers["X-Bce-Date"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v1/image/namespace/测试 ns", None),
        ("/v1/cluster", {"scalingUp": None}),
        ("/v1/cluster", {"scalingDown": "", "deleteEipCds": "true", "deleteSnap": "false"}),
        ("/v1/image/meta", {"namespace": "team-a", "repository": "a/b c", "tag": "v1+ü~"}),
        ("/v1/x/'()*!@$&=;:,", {"k ": "=&?#%", "测试": "ünïcødé", "empty": ""}),
    ],
    ids=["unicode-path", "scalingUp", "scalingDown", "reserved-query", "reserved-everything"],
)
def test_path_and_query_go_on_the_wire_exactly_as_signed(
    server: ScriptedServer, transport: Transport, path: str, query: dict[str, str | None] | None
) -> None:
    server.script(ok({"clusterUuid": "c-1", "orderId": []}))
    transport.request("POST", path, query, {"clusterUuid": "c-1"})
    seen = server.seen[0]
    assert seen.verified == AK
    assert seen.raw_path == signer.canonical_uri(path)
    assert seen.raw_query == signer.canonical_query(query)
    assert seen.path == path
    assert seen.json() == {"clusterUuid": "c-1"}


def test_scaling_up_is_sent_as_key_with_empty_value(
    server: ScriptedServer, transport: Transport
) -> None:
    server.script(ok())
    transport.request("POST", "/v1/cluster", [("scalingUp", None)], {})
    assert server.seen[0].raw_query == "scalingUp="
    assert server.seen[0].query == [("scalingUp", "")]


def test_a_session_token_is_sent_and_signed(server: ScriptedServer, fake_time: FakeTime) -> None:
    creds = Credentials(AK, SK, session_token="sts-token-value")
    with make_transport(server.url, fake_time, credentials=creds) as t:
        server.script(ok())
        t.request("GET", "/v1/image/user")
    seen = server.seen[0]
    assert seen.verified == AK
    assert seen.headers["X-Bce-Security-Token"] == "sts-token-value"
    auth = signer.parse_authorization(seen.headers["Authorization"])
    assert auth.signed_headers == ("content-type", "host", "x-bce-date", "x-bce-security-token")


def test_every_attempt_is_signed_anew(server: ScriptedServer, fake_time: FakeTime) -> None:
    start = datetime.now(UTC)
    moments = iter([start, start + timedelta(seconds=7)])
    t = Transport(
        server.url,
        Credentials(AK, SK),
        sleep=fake_time.sleep,
        random=lambda: 0.0,
        now=lambda: next(moments),
    )
    server.script(error("InternalError"), ok())
    t.request("GET", "/v1/cluster")
    first, second = server.seen
    assert first.verified == second.verified == AK
    assert first.headers["X-Bce-Date"] != second.headers["X-Bce-Date"]
    assert first.headers["Authorization"] != second.headers["Authorization"]


def test_wrong_credentials_are_refused_and_not_retried(
    server: ScriptedServer, fake_time: FakeTime
) -> None:
    with make_transport(server.url, fake_time, credentials=Credentials(AK, "wrong")) as t:
        with pytest.raises(errors.AuthError) as info:
            t.request("GET", "/v1/cluster")
    assert info.value.code == "SignatureDoesNotMatch"
    assert info.value.request_id == "rid-auth"
    assert server.count() == 1 and fake_time.sleeps == []


# --- bad answers -----------------------------------------------------------------------------

HTML = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1>nginx</body></html>"


@pytest.mark.parametrize(
    ("reply", "status", "code", "needle"),
    [
        (Reply(400, "this is not json", {"Content-Type": "text/plain"}, "r1"), 400, "", "not JSON"),
        (Reply(403, b"", request_id="r1"), 403, "AccessDenied", "empty error answer"),
        (Reply(400, b"", request_id="r1"), 400, "InvalidHTTPRequest", "guessed"),
        (Reply(404, b"  ", request_id="r1"), 404, "NOTFOUND", "empty error answer"),
        (Reply(404, HTML, {"Content-Type": "text/html"}, "r1"), 404, "", "HTML page"),
        (Reply(400, '{"code": "Cce.Illegal', request_id="r1"), 400, "", "not JSON"),
        (Reply(400, {"message": "m", "requestId": "r1"}, request_id="r1"), 400, "", "lacks code"),
        (
            Reply(400, {"code": "Cce.IllegalArguments", "message": "m"}, request_id="r1"),
            400,
            "Cce.IllegalArguments",
            "lacks requestId",
        ),
        (Reply(400, {"code": 7, "requestId": "r1"}, request_id="r1"), 400, "", "lacks code"),
        (Reply(400, [1, 2], request_id="r1"), 400, "", "not a JSON object"),
        (Reply(400, "null", request_id="r1"), 400, "", "not a JSON object"),
        (Reply(200, '{"clusterUuid": "c-ab', request_id="r1"), 200, "", "not valid JSON"),
        (Reply(200, b"\xff\xfe{}", request_id="r1"), 200, "", "not valid JSON"),
        (Reply(302, b"", {"Location": "http://elsewhere/"}, "r1"), 302, "FOUND", "empty"),
    ],
    ids=[
        "non-json-error",
        "empty-403",
        "empty-400",
        "blank-404",
        "html-page",
        "truncated-json",
        "missing-code",
        "missing-request-id",
        "code-not-a-string",
        "json-array",
        "json-null",
        "200-truncated-json",
        "200-not-utf8",
        "redirect",
    ],
)
def test_bad_answers_become_bad_response_errors(
    server: ScriptedServer,
    transport: Transport,
    reply: Reply,
    status: int,
    code: str,
    needle: str,
) -> None:
    server.script(reply)
    with pytest.raises(errors.BadResponseError) as info:
        transport.request("GET", "/v1/cluster")
    exc = info.value
    assert (exc.status, exc.code, exc.request_id) == (status, code, "r1")
    assert needle in exc.message
    assert f"HTTP {status}" in str(exc) and "r1" in str(exc)
    assert server.count() == 1


def test_a_missing_request_id_header_falls_back_to_the_body(
    server: ScriptedServer, transport: Transport
) -> None:
    server.script(
        Reply(404, {"code": "RegistryNamespaceNotFound", "requestId": "b1"}, request_id=None)
    )
    with pytest.raises(errors.NotFoundError) as info:
        transport.request("GET", "/v1/image/namespace/x")
    assert info.value.request_id == "b1"
    assert info.value.message == "(RegistryNamespaceNotFound, no message)"


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, errors.FatalServerError), (404, errors.FatalServerError), (403, errors.AuthError)],
)
def test_unknown_codes_are_classified_by_status(
    server: ScriptedServer, transport: Transport, status: int, cls: type[errors.ServerError]
) -> None:
    body = {"code": "Cce.SomethingNew", "message": "new", "requestId": "r9"}
    server.script(Reply(status, body, request_id="r9"))
    with pytest.raises(cls) as info:
        transport.request("GET", "/v1/cluster")
    assert (info.value.status, info.value.code, info.value.request_id) == (
        status,
        "Cce.SomethingNew",
        "r9",
    )
    assert server.count() == 1


def test_an_unknown_5xx_code_is_transient(server: ScriptedServer, transport: Transport) -> None:
    body = {"code": "Cce.SomethingBroke", "message": "oops", "requestId": "r9"}
    server.script(Reply(502, body, request_id="r9"), ok({"a": 1}))
    assert transport.request("GET", "/v1/cluster").data == {"a": 1}
    assert server.count() == 2


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("Cce.ClusterCreating", errors.BusyError),
        ("RegistryAlreadyExist", errors.AlreadyExistsError),
        ("Cce.UserExist", errors.AlreadyExistsError),
        ("RegistryNamespaceNotFound", errors.NotFoundError),
        ("Cce.ClusterDeleted", errors.NotFoundError),
        ("Cce.ClusterOverQuota", errors.FatalServerError),
        ("InvalidAccessKeyId", errors.AuthError),
        ("RequestExpired", errors.AuthError),
        ("AccessDenied", errors.AuthError),
    ],
)
def test_non_transient_errors_are_never_retried(
    server: ScriptedServer,
    transport: Transport,
    fake_time: FakeTime,
    code: str,
    cls: type[errors.ServerError],
) -> None:
    server.default = error(code, "rid-x")
    with pytest.raises(cls) as info:
        transport.request("POST", "/v1/cluster", body={})
    assert (info.value.code, info.value.request_id, info.value.path) == (
        code,
        "rid-x",
        "/v1/cluster",
    )
    assert server.count() == 1 and fake_time.sleeps == []
    assert transport.stats().retries == 0


# --- retries ---------------------------------------------------------------------------------


def test_internal_error_then_success_is_one_retry(
    server: ScriptedServer, transport: Transport, fake_time: FakeTime
) -> None:
    server.script(error("InternalError", "rid-1"), ok({"done": True}, "rid-2"))
    response = transport.request("GET", "/v1/cluster")
    assert (response.data, response.request_id) == ({"done": True}, "rid-2")
    assert fake_time.sleeps == [pytest.approx(0.1)]  # jitter 0.5 x base 0.2
    stats = transport.stats()
    assert (stats.requests_sent, stats.retries) == (2, 1)
    assert dict(stats.by_status) == {500: 1, 200: 1}


def test_retry_after_is_honoured(
    server: ScriptedServer, transport: Transport, fake_time: FakeTime
) -> None:
    server.script(error("ServiceUnavailable", **{"Retry-After": "3"}), ok())
    transport.request("GET", "/v1/cluster")
    assert fake_time.sleeps == [3.0]


def test_a_huge_retry_after_is_capped(
    server: ScriptedServer, transport: Transport, fake_time: FakeTime
) -> None:
    server.script(error("ServiceUnavailable", **{"Retry-After": "86400"}), ok())
    transport.request("GET", "/v1/cluster")
    assert fake_time.sleeps == [60.0]


def test_retry_after_as_an_http_date(
    server: ScriptedServer, transport: Transport, fake_time: FakeTime
) -> None:
    server.script(
        error("ServiceUnavailable", **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), ok()
    )
    transport.request("GET", "/v1/cluster")
    assert fake_time.sleeps == [pytest.approx(0.1)]  # a date in the past: just the backoff


def test_throttling_is_retried(
    server: ScriptedServer, transport: Transport, fake_time: FakeTime
) -> None:
    server.script(error("RequestLimitExceeded", **{"Retry-After": "1"}), ok({"x": 1}))
    assert transport.request("GET", "/v1/cluster").data == {"x": 1}
    assert fake_time.sleeps == [1.0]


def test_an_html_gateway_error_is_retried_for_reads(
    server: ScriptedServer, transport: Transport
) -> None:
    server.script(Reply(502, HTML, {"Content-Type": "text/html"}, None), ok({"x": 1}))
    assert transport.request("GET", "/v1/cluster").data == {"x": 1}


def test_an_html_gateway_error_on_a_create_is_an_unknown_outcome(
    server: ScriptedServer, transport: Transport
) -> None:
    server.default = Reply(504, HTML, {"Content-Type": "text/html"}, None)
    with pytest.raises(errors.OutcomeUnknownError) as info:
        transport.request("POST", "/v1/cluster", body={}, idempotent=False)
    assert "HTTP 504" in info.value.message
    assert server.count() == 1


def test_a_transient_error_code_on_a_create_is_retried(
    server: ScriptedServer, transport: Transport
) -> None:
    """The API answered, so it did not create anything: resending is safe."""
    server.script(error("DuplicateCLusterUuid"), ok({"clusterUuid": "c-1"}))
    response = transport.request("POST", "/v1/cluster", body={}, idempotent=False)
    assert response.data == {"clusterUuid": "c-1"}
    assert server.count() == 2


def test_attempts_are_bounded_and_the_last_error_raised(
    server: ScriptedServer, fake_time: FakeTime
) -> None:
    t = make_transport(server.url, fake_time, jitter=1.0, max_attempts=4)
    server.default = error("InternalError", "rid-last")
    with pytest.raises(errors.TransientServerError) as info:
        t.request("GET", "/v1/cluster")
    assert info.value.request_id == "rid-last"
    assert server.count() == 4
    assert fake_time.sleeps == [pytest.approx(d) for d in (0.2, 0.4, 0.8)]


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    backoff = Backoff(base=0.2, cap=5.0)
    assert [backoff.delay(a, None, lambda: 1.0) for a in range(1, 8)] == pytest.approx(
        [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    )
    assert backoff.delay(3, None, lambda: 0.0) == 0.0
    assert backoff.delay(1, 2.5, lambda: 0.5) == 2.5


def test_the_retry_budget_stops_a_dead_endpoint(
    server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.default = error("ServiceUnavailable", "rid-503")
    t = make_transport(server.url, fake_time, retry_budget=6, max_attempts=5)
    with pytest.raises(errors.TransientServerError):
        t.request("GET", "/v1/cluster")  # 5 attempts, 4 retries
    with pytest.raises(errors.RetryBudgetExhaustedError) as info:
        t.request("GET", "/v1/cluster")  # 1 attempt + the last 2 retries, then no more
    exc = info.value
    assert exc.message.startswith(
        "giving up after 6 retries this run: the endpoint looks unavailable"
    )
    assert "last error: Service is temporarily unavailable" in exc.message
    assert (exc.status, exc.code, exc.request_id) == (503, "ServiceUnavailable", "rid-503")
    with pytest.raises(errors.RetryBudgetExhaustedError):
        t.request("GET", "/v1/cluster")  # one attempt, no retry left
    assert server.count() == 5 + 3 + 1
    assert t.stats().retries == 6 == t.budget.spent


def test_the_retry_budget_is_shared_by_threads_and_transports(
    server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.default = error("InternalError")
    budget = RetryBudget(10)
    transports = [
        Transport(server.url, Credentials(AK, SK), budget=budget, sleep=fake_time.sleep)
        for _ in range(2)
    ]
    failures: list[BaseException] = []

    def run(t: Transport) -> None:
        for _ in range(3):
            try:
                t.request("GET", "/v1/cluster")
            except errors.ApiError as exc:
                failures.append(exc)

    threads = [threading.Thread(target=run, args=(transports[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for t in transports:
        t.close()
    assert budget.spent == 10
    assert len(failures) == 24
    assert server.count() == 24 + 10
    assert any(isinstance(f, errors.RetryBudgetExhaustedError) for f in failures)


# --- lost answers and connection failures ----------------------------------------------------


def test_a_dropped_connection_on_a_create_is_an_unknown_outcome(
    server: ScriptedServer, transport: Transport
) -> None:
    server.default = Reply(drop=True)
    with pytest.raises(errors.OutcomeUnknownError) as info:
        transport.request("POST", "/v1/image/user", body={"username": "u"}, idempotent=False)
    assert "read the current state" in info.value.message
    assert (info.value.method, info.value.path) == ("POST", "/v1/image/user")
    assert server.count() == 1


def test_a_reset_connection_on_a_create_is_sent_once(
    resetting_server: ResettingServer, fake_time: FakeTime
) -> None:
    with make_transport(resetting_server.url, fake_time) as t:
        with pytest.raises(errors.OutcomeUnknownError) as info:
            t.request("POST", "/v1/cluster", [("scalingUp", None)], {}, idempotent=False)
    assert "reset" in info.value.message.lower()
    assert resetting_server.requests == 1
    assert fake_time.sleeps == []


def test_a_reset_connection_on_a_read_is_retried(
    resetting_server: ResettingServer, fake_time: FakeTime
) -> None:
    with make_transport(resetting_server.url, fake_time, max_attempts=3) as t:
        with pytest.raises(errors.ConnectionFailedError):
            t.request("GET", "/v1/cluster")
    assert resetting_server.requests == 3


def test_a_dropped_connection_on_a_read_is_retried(
    server: ScriptedServer, transport: Transport
) -> None:
    server.script(Reply(drop=True), ok({"x": 1}))
    assert transport.request("GET", "/v1/cluster").data == {"x": 1}
    assert server.count() == 2


def test_a_read_timeout_on_a_create_is_an_unknown_outcome(
    server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.default = Reply(delay=0.3)
    with make_transport(server.url, fake_time, read_timeout=0.05) as t:
        with pytest.raises(errors.OutcomeUnknownError) as info:
            t.request("POST", "/v1/image/namespace", body={}, idempotent=False)
    assert "no answer" in info.value.message and "0.05 s" in info.value.message
    assert server.count() == 1


def test_a_refused_connection_is_retried_even_for_a_create(fake_time: FakeTime) -> None:
    with make_transport(closed_port_url(), fake_time, max_attempts=3) as t:
        with pytest.raises(errors.ConnectionFailedError) as info:
            t.request("POST", "/v1/cluster", body={}, idempotent=False)
        assert t.stats().requests_sent == 3
    assert "could not connect" in info.value.message
    assert "refused" in info.value.message.lower()
    assert len(fake_time.sleeps) == 2


# --- rate limit, counters, logging -----------------------------------------------------------


def test_token_bucket_with_an_injected_clock() -> None:
    fake = FakeTime()
    bucket = TokenBucket(2.0, burst=2, clock=fake.clock, sleep=fake.sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.5, 0.5, 0.5])
    fake.now += 10  # idle: the bucket refills up to the burst only
    assert [bucket.acquire() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.5])


def test_token_bucket_is_thread_safe() -> None:
    fake = FakeTime()
    bucket = TokenBucket(10.0, burst=1, clock=lambda: 0.0, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(25):
            wait = bucket.acquire()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # With the clock stopped, the 100 reservations queue up 0.1 s apart, each exactly once.
    assert sorted(waits) == pytest.approx([i / 10 for i in range(100)])
    assert fake.sleeps == []


def test_the_transport_paces_requests(server: ScriptedServer, fake_time: FakeTime) -> None:
    server.default = ok()
    with make_transport(server.url, fake_time, rate=4.0, burst=1) as t:
        for _ in range(5):
            t.request("GET", "/v1/cluster")
        assert t.stats().rate_limited_seconds == pytest.approx(1.0)
    assert fake_time.sleeps == pytest.approx([0.25] * 4)


def test_counters_per_method(server: ScriptedServer, transport: Transport) -> None:
    server.default = ok()
    for method in ("GET", "GET", "POST", "PUT", "DELETE"):
        transport.request(method, "/v1/x")
    stats = transport.stats()
    assert stats.requests_sent == 5
    assert dict(stats.by_method) == {"GET": 2, "POST": 1, "PUT": 1, "DELETE": 1}


def test_debug_logs_show_the_request_but_never_the_secret(
    server: ScriptedServer, transport: Transport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="reconciler.client")
    server.script(error("InternalError"), ok())
    transport.request("PUT", "/v1/image/user", body={"password": "hunter2hunter2"})
    assert "PUT http://127.0.0.1" in caplog.text
    assert "canonical request:\nPUT\n/v1/image/user" in caplog.text
    assert "retrying PUT /v1/image/user" in caplog.text
    for secret in (
        SK,
        "hunter2hunter2",
        signer.parse_authorization(server.seen[0].headers["Authorization"]).signature,
    ):
        assert secret not in caplog.text
    assert SK not in repr(transport)


def test_host_header_forms() -> None:
    assert transport._host_header("https://cce.bj.baidubce.com") == "cce.bj.baidubce.com"
    assert transport._host_header("https://cce.bj.baidubce.com:443") == "cce.bj.baidubce.com"
    assert transport._host_header("http://127.0.0.1:8765") == "127.0.0.1:8765"
    assert transport._host_header("http://[::1]:80") == "[::1]"
    assert transport._host_header("http://[::1]:8080") == "[::1]:8080"


def test_every_error_carries_where_it_happened(
    server: ScriptedServer, transport: Transport
) -> None:
    server.script(error("RegistryNamespaceNotFound", "rid-nf"))
    with pytest.raises(errors.NotFoundError) as info:
        transport.request("DELETE", "/v1/image/namespace/team-a")
    assert str(info.value) == (
        "DELETE /v1/image/namespace/team-a: HTTP 404 RegistryNamespaceNotFound: "
        "Cannot find Namespace. (request id rid-nf)"
    )


def test_a_create_answered_internal_error_is_an_unknown_outcome_not_a_resend(
    server: ScriptedServer, transport: Transport
) -> None:
    server.script(error("InternalError"), ok({"clusterUuid": "c-2"}))
    with pytest.raises(errors.OutcomeUnknownError):
        transport.request("POST", "/v1/cluster", body={"clusterName": "prod"}, idempotent=False)
    assert server.count() == 1, "a 500 may follow a commit: the caller reads before resending"


def test_a_create_refused_before_work_is_retried(
    server: ScriptedServer, transport: Transport
) -> None:
    server.script(
        error("ServiceUnavailable"), error("DuplicateCLusterUuid"), ok({"clusterUuid": "c-1"})
    )
    answer = transport.request(
        "POST", "/v1/cluster", body={"clusterName": "prod"}, idempotent=False
    )
    assert answer.data == {"clusterUuid": "c-1"}
    assert server.count() == 3
