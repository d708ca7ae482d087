"""The transport's kept-alive connections against a raw server on loopback: a connection the
server closed while it sat idle is never used for the next request (no duplicated mutation,
no unknown outcome); ``Connection: close``, chunked, read-to-the-end and compressed answers;
an answer cut short is an error, and its connection is not reused."""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator

import pytest

from reconciler import errors
from reconciler.client.transport import Transport, TransportConfig

from .conftest import CREDS, TLS_CERT, TLS_KEY, FakeTime, _read_request, make_transport

BODY = b'{"clusterUuid": "c-1", "padding": "' + b"x" * 3000 + b'"}'


def answer(body: bytes = BODY, framing: str = "length", *extra: str) -> bytes:
    """One HTTP/1.1 answer: ``length`` (Content-Length), ``chunked`` (in 1,000-byte chunks)
    or ``to-the-end`` (no length: the body ends when the server closes)."""
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", "x-bce-request-id: rid-1"]
    lines += extra
    if framing == "length":
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    elif framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
        pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    else:
        payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class RawServer:
    """Accepts connections one after another and answers each request with ``respond(n)``
    (n counts the requests, from 1); closes the connection after an answer when ``close(n)``.
    ``closed`` is set each time it closed one."""

    def __init__(
        self,
        respond: Callable[[int], bytes],
        close: Callable[[int], bool] = lambda n: False,
        tls: bool = False,
    ) -> None:
        self.respond = respond
        self.tls: ssl.SSLContext | None = None
        if tls:
            self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls.load_cert_chain(TLS_CERT, TLS_KEY)
        self.close = close
        self.requests = 0
        self.connections = 0
        self.closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stop = threading.Event()
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with self._listener:
            while not self._stop.is_set():
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                self.connections += 1
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                return
        with conn:
            try:
                while not self._stop.is_set() and _read_request(conn):
                    self.requests += 1
                    conn.sendall(self.respond(self.requests))
                    if self.close(self.requests):
                        break
            except OSError:
                pass
        self.closed.set()

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture
def raw_servers() -> Iterator[list[RawServer]]:
    made: list[RawServer] = []
    yield made
    for server in made:
        server.stop()


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_a_kept_alive_connection_the_server_closed_is_not_reused_for_a_create(
    raw_servers: list[RawServer],
    fake_time: FakeTime,
    monkeypatch: pytest.MonkeyPatch,
    tls: bool,
) -> None:
    """The server answers with keep-alive, then closes the connection anyway (an idle
    timeout): the create is sent once, on a new connection, and its answer is read."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(TLS_CERT))
    server = RawServer(lambda n: answer(), close=lambda n: n == 1, tls=tls)
    raw_servers.append(server)
    with make_transport(server.url, fake_time) as t:
        assert t.request("GET", "/v1/cluster").data["clusterUuid"] == "c-1"
        assert server.closed.wait(5)
        time.sleep(0.05)  # the close reaches this side of the loopback
        created = t.request("POST", "/v1/cluster", body={"clusterName": "a"}, idempotent=False)
    assert created.data["clusterUuid"] == "c-1"
    assert (server.requests, server.connections) == (2, 2)
    assert fake_time.sleeps == [] and t.stats().retries == 0


@pytest.mark.parametrize(
    ("framing", "extra", "connections"),
    [
        ("length", (), 1),
        ("chunked", (), 1),
        ("length", ("Connection: close",), 3),
        ("to-the-end", ("Connection: close",), 3),
    ],
    ids=["content-length", "chunked", "connection-close", "read-to-the-end"],
)
def test_answers_in_every_framing_are_read_whole(
    raw_servers: list[RawServer],
    fake_time: FakeTime,
    framing: str,
    extra: tuple[str, ...],
    connections: int,
) -> None:
    closing = "Connection: close" in extra
    server = RawServer(lambda n: answer(BODY, framing, *extra), close=lambda n: closing)
    raw_servers.append(server)
    with make_transport(server.url, fake_time) as t:
        for _ in range(3):
            response = t.request("POST", "/v1/cluster", body={}, idempotent=False)
            assert response.data["padding"] == "x" * 3000
            assert response.headers["X-BCE-Request-Id"] == "rid-1"
    assert (server.requests, server.connections) == (3, connections)


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
    ],
    ids=["gzip", "deflate", "raw-deflate"],
)
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_compressed_answers_are_decoded(
    raw_servers: list[RawServer],
    fake_time: FakeTime,
    encoding: str,
    encode: Callable[[bytes], bytes],
    framing: str,
) -> None:
    encoded = answer(encode(BODY), framing, f"Content-Encoding: {encoding}")
    server = RawServer(lambda n: encoded)
    raw_servers.append(server)
    with make_transport(server.url, fake_time) as t:
        assert t.request("GET", "/v1/cluster").data["padding"] == "x" * 3000


def test_the_size_limit_counts_the_decoded_answer(
    raw_servers: list[RawServer], fake_time: FakeTime
) -> None:
    """10 MB of zeros gzip to 10 KB: the limit stops the decoding, not the download."""
    bomb = answer(gzip.compress(b"0" * (10 * 1024 * 1024)), "length", "Content-Encoding: gzip")
    server = RawServer(lambda n: bomb)
    raw_servers.append(server)
    with make_transport(server.url, fake_time, max_answer_bytes=1024 * 1024) as t:
        with pytest.raises(errors.AnswerTooLargeError, match="more than 1048576 bytes came"):
            t.request("GET", "/v1/cluster")
        with pytest.raises(errors.OutcomeUnknownError, match="byte limit"):
            t.request("POST", "/v1/cluster", body={}, idempotent=False)


def test_a_broken_gzip_answer_is_a_bad_response(
    raw_servers: list[RawServer], fake_time: FakeTime
) -> None:
    server = RawServer(lambda n: answer(b"not gzip at all", "length", "Content-Encoding: gzip"))
    raw_servers.append(server)
    with make_transport(server.url, fake_time, max_attempts=1) as t:
        with pytest.raises(errors.BadResponseError, match="gzip encoding is broken") as info:
            t.request("GET", "/v1/cluster")
    assert (info.value.status, info.value.request_id) == (200, "rid-1")


def test_an_answer_cut_short_is_retried_for_a_read_on_a_new_connection(
    raw_servers: list[RawServer], fake_time: FakeTime
) -> None:
    """The first answer announces more bytes than it sends before the server closes: an
    error (never the bytes that came), and the next attempt opens a connection of its own."""
    server = RawServer(lambda n: answer()[:-100] if n == 1 else answer(), close=lambda n: n == 1)
    raw_servers.append(server)
    with make_transport(server.url, fake_time) as t:
        assert t.request("GET", "/v1/cluster").data["clusterUuid"] == "c-1"
        assert t.stats().retries == 1
        server.close = lambda n: False
        t.request("GET", "/v1/cluster")
    assert (server.requests, server.connections) == (3, 2)


def test_an_answer_cut_within_its_headers_is_never_read_as_an_answer(
    raw_servers: list[RawServer], fake_time: FakeTime
) -> None:
    """Status line and a header, then the server closes: not an empty 200."""
    cut = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    server = RawServer(lambda n: cut, close=lambda n: True)
    raw_servers.append(server)
    with make_transport(server.url, fake_time, max_attempts=2) as t:
        with pytest.raises(errors.ConnectionFailedError, match="ended within its headers"):
            t.request("GET", "/v1/cluster")
        with pytest.raises(errors.OutcomeUnknownError, match="ended within its headers"):
            t.request("POST", "/v1/cluster", body={}, idempotent=False)
    assert server.requests == 3


def test_a_content_length_that_is_no_number_is_not_trusted(
    raw_servers: list[RawServer], fake_time: FakeTime
) -> None:
    """Byte 0xB2 reads as "²", a digit to ``str.isdigit`` but not to ``int``: the answer is read
    to its end, never a ValueError out of the transport."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \xb2\r\n\r\n"
    server = RawServer(lambda n: head + BODY, close=lambda n: True)
    raw_servers.append(server)
    with make_transport(server.url, fake_time) as t:
        assert t.request("GET", "/v1/cluster").data["clusterUuid"] == "c-1"


def test_stop_sending_ends_a_request_waiting_to_retry(raw_servers: list[RawServer]) -> None:
    """A run that ends (a refresh no longer needed, Ctrl-C) is not held by a request's
    backoff: the wait ends at once and the request raises RequestsStopped, unsent again;
    a sibling transport (CCR beside CCE) is stopped with it."""
    busy = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 2\r\n\r\n{}"
    server = RawServer(lambda n: busy)
    raw_servers.append(server)
    outcome: list[BaseException] = []

    with Transport(server.url, CREDS, TransportConfig(max_attempts=5)) as t:
        sibling = t.sibling("http://127.0.0.1:1")

        def read() -> None:
            try:
                t.request("GET", "/v1/cluster")
            except BaseException as exc:  # noqa: BLE001 - what the request ended with
                outcome.append(exc)

        thread = threading.Thread(target=read)
        thread.start()
        deadline = time.monotonic() + 10
        while server.requests < 1:  # the first attempt was answered 503: now it waits 30 s
            assert time.monotonic() < deadline
            time.sleep(0.01)
        started = time.monotonic()
        t.stop_sending()
        thread.join(5)
        assert not thread.is_alive() and time.monotonic() - started < 2
        with pytest.raises(errors.RequestsStopped):
            sibling.request("GET", "/v1/instances")
    assert [type(e) for e in outcome] == [errors.RequestsStopped]
    assert server.requests == 1


def test_headers_are_case_insensitive_and_repeated_or_folded_ones_kept(
    raw_servers: list[RawServer], fake_time: FakeTime
) -> None:
    extra = ("X-Note: one", "x-note: two", "X-Folded: first", "\tsecond")
    server = RawServer(lambda n: answer(BODY, "length", *extra))
    raw_servers.append(server)
    with make_transport(server.url, fake_time) as t:
        headers = t.request("GET", "/v1/cluster").headers
    assert headers["x-note"] == "one, two"
    assert headers["X-FOLDED"] == "first second"
    assert headers.get("content-length") == str(len(BODY))
    assert "X-Missing" not in headers


def test_a_connect_timeout_is_not_an_unknown_outcome(fake_time: FakeTime) -> None:
    """A listener whose accept queue is full drops new connections' SYNs: the create never
    left, so it is retried and fails as a connection error naming the connect timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        time.sleep(0.05)
        try:
            url = f"http://127.0.0.1:{port}"
            with make_transport(url, fake_time, connect_timeout=0.2, max_attempts=2) as t:
                with pytest.raises(errors.ConnectionFailedError) as info:
                    t.request("POST", "/v1/cluster", body={}, idempotent=False)
        finally:
            for filler in fillers:
                filler.close()
    assert not isinstance(info.value, errors.OutcomeUnknownError)
    assert info.value.message == f"could not connect to 127.0.0.1:{port} within 0.2 s"
    assert len(fake_time.sleeps) == 1


def test_an_https_connection_is_kept_alive(
    raw_servers: list[RawServer], fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(TLS_CERT))
    server = RawServer(lambda n: answer(BODY, "chunked"), tls=True)
    raw_servers.append(server)
    with make_transport(server.url, fake_time) as t:
        for _ in range(3):
            assert t.request("GET", "/v1/cluster").data["clusterUuid"] == "c-1"
    assert (server.requests, server.connections) == (3, 1)
