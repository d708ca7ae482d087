"""The emulator's threaded HTTP server and its in-process start/stop API.

For: serving the WSGI app on werkzeug's threaded server, with a request handler that
differs from werkzeug's in two ways:

- keep-alive: werkzeug's development handler closes every connection (it cannot drain a
  request body before the next request line); this one reads the whole body before calling
  the app, so HTTP/1.1 connections are reused, which list-heavy clients need;
- resets: when the app leaves with :class:`.app.ConnectionDrop` (faults ``reset`` and
  ``drop``), the socket is closed with ``SO_LINGER 0``, so the client sees a TCP reset and
  no HTTP answer.

HTTP parsing stays http.server's and WSGI environ building stays werkzeug's.
``build(options, services)`` wires the services (:data:`SERVICES` unless told otherwise) to one
store, router, app and admin app; ``start_emulator(options)`` serves them and returns a
:class:`RunningEmulator` (``.url``, ``.stop()``, a context manager).
Not for: what the API answers (:mod:`.app` and the services).
"""

from __future__ import annotations

import io
import logging
import socket
import struct
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler, select_address_family

from . import cce_v1, cce_v2, ccr, registry_v1
from .admin import AdminApp
from .app import ApiApp, ConnectionDrop, EmulatorApp
from .faults import FaultInjector, Throttle
from .options import EmulatorOptions
from .requestlog import RequestLog
from .responses import error_response
from .router import Router
from .service import Mounted, Service, mount
from .settings import Knobs, Settings
from .store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger(__name__)
# The services an emulator serves, wired here once; a new service is its folder and one line.
SERVICES: tuple[Service[Any], ...] = (
    registry_v1.SERVICE,
    cce_v1.SERVICE,
    cce_v2.SERVICE,
    ccr.SERVICE,
)
MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT = 120.0  # seconds an idle keep-alive connection keeps its thread


class _BadBody(Exception):
    """The body cannot be framed (bad Content-Length, broken chunks, too large)."""


def _read_all(stream: IO[bytes], limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := stream.read(65536):
        size += len(chunk)
        if size > limit:
            raise _BadBody("body too large")
        chunks.append(chunk)
    return b"".join(chunks)


class EmulatorRequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    server: EmulatorServer
    _headers_buffer: list[bytes]

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Quiet: the app keeps its own request log."""

    def log(self, type: str, message: str, *args: Any) -> None:
        # Idle keep-alive timeouts and malformed request lines are routine here: DEBUG only.
        log.debug("%s %s: " + message, self.address_string(), type, *args)

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        try:
            environ["wsgi.input"] = io.BytesIO(self._body(environ))
            environ["wsgi.input_terminated"] = True
            status, headers, body = self._call_app(environ)
        except _BadBody:  # the rest of the stream cannot be trusted: answer, then close
            self.close_connection = True
            response = error_response("InvalidHTTPRequest", str(uuid.uuid4()))
            self._send(response.status, response.headers.to_wsgi_list(), response.get_data())
        except ConnectionDrop:
            self._reset()
        except Exception:
            log.exception("emulator server error")
            self.close_connection = True
            self._send("500 Internal Server Error", [("Content-Type", "text/plain")], b"")
        else:
            self._send(status, headers, b"" if self.command == "HEAD" else body)

    def _body(self, environ: WSGIEnvironment) -> bytes:
        stream: IO[bytes] = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug already de-chunks
            try:
                return _read_all(stream, MAX_BODY)
            except OSError:  # a broken chunk header
                raise _BadBody("broken chunked body") from None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise _BadBody("Content-Length is not a number") from None
        if not 0 <= length <= MAX_BODY:
            raise _BadBody(f"Content-Length {length} is out of range")
        body = stream.read(length) if length else b""
        if len(body) < length:
            raise _BadBody("the body ended early")
        return body

    def _call_app(self, environ: WSGIEnvironment) -> tuple[str, list[tuple[str, str]], bytes]:
        started: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started.update(status=status, headers=headers)
            return written.append

        result: Iterable[bytes] = self.server.app(environ, start_response)
        try:
            written.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return started["status"], started["headers"], b"".join(written)

    def _send(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        code, _, reason = status.partition(" ")
        self.send_response_only(int(code), reason)
        names = {name.lower() for name, _ in headers}
        for name, value in headers:
            self.send_header(name, value)
        if "date" not in names:
            self.send_header("Date", self.date_time_string())
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body in one write: two small writes meet delayed ACKs (40 ms each).
        self._headers_buffer.append(b"\r\n")
        self.wfile.write(b"".join(self._headers_buffer) + body)
        self._headers_buffer = []

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the peer gets a TCP RST instead of an answer."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the makefile() holds the socket open until it closes too
        self.connection.close()


class EmulatorServer(ThreadedWSGIServer):
    """werkzeug's threaded server, bound to a socket made here (werkzeug exits on bind errors),
    remembering open connections so that stop() can end idle keep-alive threads."""

    def __init__(self, host: str, port: int, app: EmulatorApp) -> None:
        family = select_address_family(host, port)
        listener = socket.create_server((host, port), family=family)
        try:
            super().__init__(host, port, app, handler=EmulatorRequestHandler, fd=listener.fileno())
        finally:
            listener.close()  # the server holds its own duplicate of the descriptor
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass(frozen=True)
class Parts:
    """An assembled emulator without a server (tests can drive ``app`` with werkzeug's Client)."""

    app: EmulatorApp
    store: Store
    mounted: tuple[Mounted[Any], ...]
    faults: FaultInjector
    requests: RequestLog


def open_store(
    db_path: str,
    settings: Settings,
    region: str = "bj",
    services: Sequence[Service[Any]] = SERVICES,
) -> Store:
    """The store with every service's tables (also for seeding a database without a server)."""
    return Store(db_path, settings, region, "".join(service.schema for service in services))


def build(options: EmulatorOptions, services: Sequence[Service[Any]] = SERVICES) -> Parts:
    settings = Settings(Knobs.from_options(options))
    store = open_store(options.db_path, settings, options.region, services)
    try:
        mounted = tuple(mount(service, store) for service in services)
        router = Router(mounted)
    except BaseException:
        store.close()
        raise
    faults, throttle, requests = FaultInjector(settings), Throttle(), RequestLog()
    credentials = {options.access_key_id: options.secret_access_key}
    api = ApiApp(store, router, faults, throttle, requests, credentials)
    admin = AdminApp(store, mounted, faults, throttle, requests)
    return Parts(EmulatorApp(api, admin), store, mounted, faults, requests)


def url_for(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class RunningEmulator:
    """An emulator serving in a background thread; ``stop()`` (or leaving ``with``) ends it."""

    def __init__(self, options: EmulatorOptions, parts: Parts, server: EmulatorServer) -> None:
        self.options = options
        self.parts = parts
        self.store = parts.store
        self.port: int = server.port
        self.url = url_for(options.host, self.port)
        self.access_key_id = options.access_key_id
        self.secret_access_key = options.secret_access_key
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"emulator:{self.port}",
        )  # fmt: skip
        self._thread.start()
        self._stopped = False

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.store.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningEmulator({self.url}, db={self.options.db_path!r})"


def start_emulator(
    options: EmulatorOptions, services: Sequence[Service[Any]] = SERVICES
) -> RunningEmulator:
    """Start serving on ``options.host:options.port`` (0 = a free port); OSError if taken."""
    parts = build(options, services)
    try:
        server = EmulatorServer(options.host, options.port, parts.app)
    except BaseException:
        parts.store.close()
        raise
    return RunningEmulator(options, parts, server)
