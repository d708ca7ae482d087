"""A scripted HTTP server on loopback for the client tests, and helpers around it.

The server answers each request with the next scripted reply (a canned answer, a callable, or
an action such as dropping the connection), records what arrived, and checks every request's
signature with ``reconciler.client.signer.verify``, answering auth failures itself like the
emulator does. Nothing here really sleeps except the few tests about timeouts.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from reconciler.client import signer
from reconciler.client.credentials import Credentials
from reconciler.client.transport import Transport, TransportConfig
from reconciler.error_codes import get

AK = "AKIDtest0000000000000000000000000"
SK = "SKtest-secret-do-not-log-0000000000"
CREDS = Credentials(AK, SK)

logging.getLogger("werkzeug").setLevel(logging.ERROR)

# A self-signed certificate for 127.0.0.1 and localhost, its own CA (tests/data/tls/README.md).
TLS_CERT = Path(__file__).parents[1] / "data" / "tls" / "localhost.crt"
TLS_KEY = TLS_CERT.with_suffix(".key")
# What routes or checks the client's connections: proxies and CA bundles, any case.
NETWORK_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(autouse=True)
def _no_proxy_or_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's proxy or CA bundle must not change where these tests' requests go."""
    for name in list(os.environ):
        if name.lower() in NETWORK_VARIABLES or name in BUNDLE_VARIABLES:
            monkeypatch.delenv(name)


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    raw_path: str
    raw_query: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    verified: str  # the access key id, or the verification error code

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str | None = "rid-default"
    delay: float = 0.0  # seconds before answering (for read timeouts)
    drop: bool = False  # close the connection instead of answering


Script = Reply | Callable[[Seen], Reply]


def ok(data: Any = None, request_id: str = "rid-ok", **headers: str) -> Reply:
    return Reply(200, b"" if data is None else data, headers, request_id)


def by_page(*readings: Mapping[int, Reply]) -> Callable[[Seen], Reply]:
    """A script answering each ``pageNo`` with its reply of the reading in turn: the client
    asks for the pages after the first at once, so they arrive in any order."""
    left: dict[int, deque[Reply]] = {}
    for reading in readings:
        for page, reply in reading.items():
            left.setdefault(page, deque()).append(reply)
    lock = threading.Lock()

    def answer(seen: Seen) -> Reply:
        page = int(dict(seen.query).get("pageNo", "1"))
        with lock:
            replies = left.get(page)
            if not replies:
                return Reply(418, f"unscripted page {page}".encode(), request_id=None)
            return replies.popleft()

    return answer


def error(
    code: str, request_id: str = "rid-err", status: int | None = None, **headers: str
) -> Reply:
    entry = get(code)
    body = {"code": code, "message": entry.message, "requestId": request_id}
    return Reply(status or entry.status, body, headers, request_id)


class ScriptedServer:
    def __init__(self, tls: bool = False) -> None:
        self.replies: deque[Script] = deque()
        self.default: Script | None = None
        self.seen: list[Seen] = []
        self.secrets = {AK: SK}
        self._lock = threading.Lock()
        self._server = make_server(
            "127.0.0.1",
            0,
            self._app,
            threaded=True,
            ssl_context=(str(TLS_CERT), str(TLS_KEY)) if tls else None,
        )
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self._server.server_port}"
        self.client_ports: set[int] = set()  # one per connection that brought a request
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), daemon=True
        )

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *replies: Script) -> None:
        self.replies.extend(replies)

    def count(self) -> int:
        with self._lock:
            return len(self.seen)

    def _next(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            if seen.verified not in self.secrets:
                return error(seen.verified, "rid-auth")
            script = self.replies.popleft() if self.replies else self.default
        if script is None:
            return Reply(418, b"unscripted request", request_id=None)
        return script(seen) if callable(script) else script

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        reply = self._next(self._record(environ, request))
        if reply.drop:
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            start_response("500 dropped", [])  # never reaches the client
            return []
        if reply.delay:
            time.sleep(reply.delay)
        return _response(reply)(environ, start_response)

    def _record(self, environ: dict[str, Any], request: Request) -> Seen:
        with self._lock:
            self.client_ports.add(int(environ["REMOTE_PORT"]))
        raw = environ["RAW_URI"].encode("latin-1").decode("utf-8")
        raw_path, _, raw_query = raw.partition("?")
        path = unquote(raw_path)
        query = parse_qsl(raw_query, keep_blank_values=True)
        headers = dict(request.headers.items())
        try:
            verified = signer.verify(
                headers.get("Authorization"),
                request.method,
                path,
                query,
                headers,
                self.secrets.get,
                datetime.now(UTC),
            )
        except signer.VerificationError as exc:
            verified = exc.code
        return Seen(
            request.method,
            raw_path,
            raw_query,
            path,
            query,
            headers,
            request.get_data(),
            verified,
        )


def _response(reply: Reply) -> Response:
    body = reply.body
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
    headers = dict(reply.headers)
    headers.setdefault("Content-Type", "application/json; charset=utf-8")
    if reply.request_id is not None:
        headers["x-bce-request-id"] = reply.request_id
    return Response(body, status=reply.status, headers=headers)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def tls_server() -> Iterator[ScriptedServer]:
    """The scripted server over HTTPS, with the certificate of tests/data/tls."""
    srv = ScriptedServer(tls=True).start()
    try:
        yield srv
    finally:
        srv.stop()


class ResettingServer:
    """Reads each request, then resets the connection (RST) without answering."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                if _read_request(conn):
                    self.requests += 1
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def stop(self) -> None:
        self._listener.close()


def _read_request(conn: socket.socket) -> bool:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    return True


@pytest.fixture
def resetting_server() -> Iterator[ResettingServer]:
    srv = ResettingServer()
    try:
        yield srv
    finally:
        srv.stop()


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connecting is refused."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeTime:
    """An injected monotonic clock and sleep: sleeping only advances the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_transport(
    url: str,
    fake_time: FakeTime,
    credentials: Credentials = CREDS,
    jitter: float = 0.5,
    **config: Any,
) -> Transport:
    return Transport(
        url,
        credentials,
        TransportConfig(**config),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        random=lambda: jitter,
    )


@pytest.fixture
def transport(server: ScriptedServer, fake_time: FakeTime) -> Iterator[Transport]:
    t = make_transport(server.url, fake_time)
    try:
        yield t
    finally:
        t.close()
