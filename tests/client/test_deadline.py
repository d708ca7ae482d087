"""The per-request deadline and the answer size limit, against a misbehaving server on loopback:
one that trickles its answer a byte at a time, and one that answers with 50 MB.

The servers are raw sockets, one daemon thread per connection; every loop is bounded by the
server's lifetime, so a failing test cannot hang the suite. Time is real here (a deadline is
about real I/O); the deadlines are a second or less.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler import errors, session
from reconciler.cli import main
from reconciler.client.retry import is_retryable
from reconciler.client.transport import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_ANSWER_BYTES,
    Transport,
    TransportConfig,
)

from .conftest import FakeTime, _read_request, make_transport

DEADLINE = 0.5
MB = 1024 * 1024


class RawServer:
    """Answers every request on a connection with ``respond(server, conn)``; stops accepting
    and sending after ``lifetime`` seconds or ``stop()``, whichever comes first."""

    def __init__(self, respond: Callable[[RawServer, socket.socket], None], lifetime: float = 20):
        self._respond = respond
        self._until = time.monotonic() + lifetime
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self.requests = 0
        self.sent = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def running(self) -> bool:
        return not self._stopped.is_set() and time.monotonic() < self._until

    def stop(self) -> None:
        self._stopped.set()

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        with self._lock:
            self.sent += len(data)

    def _serve(self) -> None:
        with self._listener:
            while self.running:
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        with conn:
            try:
                while self.running and _read_request(conn):
                    with self._lock:
                        self.requests += 1
                    self._respond(self, conn)
            except OSError:
                return  # the client cut the connection: what these tests expect


def head(length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"x-bce-request-id: rid-slow\r\n{framing}\r\n\r\n"
    ).encode()


BODY = json.dumps({"username": "ccetest", "padding": "x" * 100}).encode()


def trickle_body(server: RawServer, conn: socket.socket) -> None:
    """Headers at once, then the body a byte every 50 ms (a 150-byte body takes 7 s)."""
    server.send(conn, head(len(BODY)))
    for index in range(len(BODY)):
        if not server.running:
            return
        server.send(conn, BODY[index : index + 1])
        time.sleep(0.05)


def trickle_status_line(server: RawServer, conn: socket.socket) -> None:
    """Even the status line comes a byte at a time: the deadline must cover the headers."""
    whole = head(len(BODY)) + BODY
    for index in range(len(whole)):
        if not server.running:
            return
        server.send(conn, whole[index : index + 1])
        time.sleep(0.05)


def huge(declare_length: bool) -> Callable[[RawServer, socket.socket], None]:
    """A 50 MB answer, chunked (no length announced) or with its Content-Length."""
    total, chunk = 50 * MB, b"x" * (256 * 1024)

    def respond(server: RawServer, conn: socket.socket) -> None:
        server.send(conn, head(total if declare_length else None))
        left = total
        while left > 0 and server.running:
            piece = chunk[: min(left, len(chunk))]
            framed = piece if declare_length else b"%x\r\n%s\r\n" % (len(piece), piece)
            server.send(conn, framed)
            left -= len(piece)
        if not declare_length:
            server.send(conn, b"0\r\n\r\n")

    return respond


@dataclass
class Slow:
    server: RawServer
    transport: Transport


@pytest.fixture
def serve(fake_time: FakeTime) -> Iterator[Callable[..., Slow]]:
    made: list[Slow] = []

    def start(respond: Callable[[RawServer, socket.socket], None], **config: object) -> Slow:
        server = RawServer(respond)
        config = {"deadline": DEADLINE, "max_attempts": 2, **config}
        made.append(Slow(server, make_transport(server.url, fake_time, **config)))
        return made[-1]

    yield start
    for slow in made:
        slow.transport.close()
        slow.server.stop()


def test_the_defaults() -> None:
    config = TransportConfig()
    assert (config.deadline, config.max_answer_bytes) == (60.0, 16 * MB)
    assert (DEFAULT_DEADLINE, DEFAULT_MAX_ANSWER_BYTES) == (60.0, 16 * MB)
    with pytest.raises(ValueError):
        TransportConfig(deadline=0)
    with pytest.raises(ValueError):
        TransportConfig(max_answer_bytes=0)


@pytest.mark.parametrize("respond", [trickle_body, trickle_status_line], ids=["body", "headers"])
def test_a_trickling_answer_misses_the_deadline_and_a_read_is_retried(
    serve: Callable[..., Slow], respond: Callable[[RawServer, socket.socket], None]
) -> None:
    slow = serve(respond)
    started = time.monotonic()
    with pytest.raises(errors.DeadlineExceededError) as info:
        slow.transport.request("GET", "/v1/image/user")
    elapsed = time.monotonic() - started
    assert slow.server.requests == 2  # retried once (max_attempts=2), then given up
    assert elapsed < 2 * DEADLINE + 1.0, elapsed  # about deadline x attempts, not 7 s each
    assert "deadline" in info.value.message
    assert (info.value.method, info.value.path) == ("GET", "/v1/image/user")
    assert isinstance(info.value, errors.ConnectionFailedError) and is_retryable(info.value)


def test_a_mutation_whose_answer_trickles_is_an_unknown_outcome_sent_once(
    serve: Callable[..., Slow],
) -> None:
    slow = serve(trickle_body)
    started = time.monotonic()
    with pytest.raises(errors.OutcomeUnknownError, match="deadline"):
        slow.transport.request("POST", "/v1/cluster", body={"clusterName": "x"}, idempotent=False)
    assert time.monotonic() - started < DEADLINE + 1.0
    assert slow.server.requests == 1


def test_the_deadline_does_not_touch_a_quick_answer_or_the_next_request(
    serve: Callable[..., Slow],
) -> None:
    def quick(server: RawServer, conn: socket.socket) -> None:
        server.send(conn, head(len(BODY)) + BODY)

    slow = serve(quick, deadline=0.3)
    for _ in range(3):  # the same kept-alive connection, each time under a new watch
        assert slow.transport.request("GET", "/v1/image/user").data["username"] == "ccetest"
        time.sleep(0.35)  # past the previous attempt's deadline
    assert slow.server.requests == 3


@pytest.mark.parametrize("declare_length", [False, True], ids=["chunked", "content-length"])
def test_a_50_mb_answer_is_not_read_whole(serve: Callable[..., Slow], declare_length: bool) -> None:
    slow = serve(huge(declare_length), max_answer_bytes=1 * MB)
    with pytest.raises(errors.AnswerTooLargeError) as info:
        slow.transport.request("GET", "/v1/image")
    assert "1048576 byte limit" in info.value.message
    assert (info.value.status, info.value.request_id) == (200, "rid-slow")
    assert isinstance(info.value, errors.BadResponseError) and is_retryable(info.value)
    assert slow.server.requests == 2  # a read is retried, like any transient failure
    time.sleep(0.2)  # let the server notice the closed connection
    assert slow.server.sent < 2 * 20 * MB  # stopped well before 2 x 50 MB


def test_a_mutation_with_a_too_large_answer_is_an_unknown_outcome(
    serve: Callable[..., Slow],
) -> None:
    slow = serve(huge(False), max_answer_bytes=1 * MB)
    with pytest.raises(errors.OutcomeUnknownError, match="byte limit"):
        slow.transport.request("POST", "/v1/image/user", body={}, idempotent=False)
    assert slow.server.requests == 1


def test_the_default_limit_takes_a_normal_answer(serve: Callable[..., Slow]) -> None:
    def answer(server: RawServer, conn: socket.socket) -> None:
        server.send(conn, head(len(BODY)) + BODY)

    slow = serve(answer, deadline=DEFAULT_DEADLINE, max_answer_bytes=len(BODY))
    assert slow.transport.request("GET", "/v1/image/user").data["username"] == "ccetest"


USERS = "users:\n  - username: ccetest\n    password: {env: CCR_PASSWORD}\n"


@dataclass(frozen=True)
class _ShortDeadline(TransportConfig):
    deadline: float = DEADLINE


def test_plan_with_retry_budget_1_fails_within_deadline_times_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = RawServer(trickle_body)
    try:
        (tmp_path / "main.yaml").write_text(f"target:\n  endpoint: {server.url}\n{USERS}")
        monkeypatch.setenv("CCR_PASSWORD", "Passw0rd-deadline")
        monkeypatch.setenv("BCE_ACCESS_KEY_ID", "AKIDtest")
        monkeypatch.setenv("BCE_SECRET_ACCESS_KEY", "SKtest")
        monkeypatch.setattr(session, "TransportConfig", _ShortDeadline)
        started = time.monotonic()
        with pytest.raises(SystemExit) as done:
            main(["plan", "--retry-budget", "1", str(tmp_path / "main.yaml")])
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert done.value.code == 1
    assert server.requests == 2  # the first attempt and the one retry the budget allows
    assert elapsed < 2 * DEADLINE + 2.0, elapsed
    err = capsys.readouterr().err
    assert "giving up after 1 retries" in err and "deadline" in err
