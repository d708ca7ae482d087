"""A fault proxy for tests: a small HTTP server in front of the emulator that forwards every
request byte for byte (so signatures still verify, the Host header included) and rewrites the
JSON answers of chosen endpoints, to produce the answers the emulator never gives (an object
listed twice, a ``null`` list, pages that never end, a field of the wrong type).

Rules are ``(method, path pattern) -> rewrite``; a pattern is an ``fnmatch`` pattern of the
path (``/api/cce/service/v2/cluster/*/instancegroups``). A rewrite gets the call (its method,
path, query and the how-many-th call of that rule it is) and the parsed answer, and returns the
answer to send. ``record=True`` keeps every JSON answer it forwarded, rewritten or not.

It also sees concurrency: ``most_in_flight`` is the most requests it held at once, and
``rendezvous(*tests)`` holds the first request passing each test until one request of every
test has come (``met``), or lets them go after ``within`` seconds (not met): requests that a
client sends one after another never meet.
"""

from __future__ import annotations

import fnmatch
import http.client
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Call:
    """One proxied request, as a rewrite sees it."""

    method: str
    path: str
    query: dict[str, str]
    number: int  # 0 for the first call this rule rewrites, 1 for the next, ...


@dataclass(frozen=True)
class Answer:
    """A JSON answer the proxy forwarded (``FaultProxy(record=True)``)."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    data: Any


Rewrite = Callable[[Call, Any], Any]


class FaultProxy:
    def __init__(self, upstream: str, *, record: bool = False) -> None:
        target = urlsplit(upstream)
        host, port = target.hostname or "127.0.0.1", target.port or 80
        self.rules: list[tuple[str, str, Rewrite]] = []
        self.counts: dict[int, int] = {}
        self.answers: list[Answer] = []
        self.record = record
        self.in_flight = 0
        self.most_in_flight = 0
        self.meetings: list[Rendezvous] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body go out in two writes: without this, Nagle's algorithm and
                # the client's delayed ACK hold every answer for 40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy._arrive(self.command, self.path)
                upstream_conn = http.client.HTTPConnection(host, port, timeout=30)
                try:
                    upstream_conn.request(self.command, self.path, body, dict(self.headers))
                    answer = upstream_conn.getresponse()
                    status, headers, data = answer.status, answer.getheaders(), answer.read()
                finally:
                    upstream_conn.close()
                    proxy._leave()
                data = proxy._answer(self.command, self.path, status, data)
                self.send_response_only(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = do_DELETE = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True
        self._thread.start()

    def _arrive(self, method: str, target: str) -> None:
        parts = urlsplit(target)
        call = Call(method, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), 0)
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            meetings = list(self.meetings)
        for meeting in meetings:
            meeting.arrive(call)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def rendezvous(self, *tests: Callable[[Call], bool], within: float = 10.0) -> Rendezvous:
        """Hold the first request passing each of ``tests`` until all are in (see above)."""
        meeting = Rendezvous(tests, within)
        with self._lock:
            self.meetings.append(meeting)
        return meeting

    def rewrite(self, pattern: str, rewrite: Rewrite, method: str = "GET") -> FaultProxy:
        """Rewrite the 2xx JSON answers of ``method pattern`` (later rules see earlier ones'
        output)."""
        with self._lock:
            self.rules.append((method, pattern, rewrite))
        return self

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.counts.clear()
            self.answers.clear()

    def calls(self, pattern: str, method: str = "GET") -> int:
        """How many calls the rules of ``method pattern`` rewrote."""
        with self._lock:
            return sum(
                self.counts.get(i, 0)
                for i, (m, p, _) in enumerate(self.rules)
                if (m, p) == (method, pattern)
            )

    def _answer(self, method: str, target: str, status: int, data: bytes) -> bytes:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            matching = [
                (i, rule)
                for i, (m, pattern, rule) in enumerate(self.rules)
                if m == method and fnmatch.fnmatchcase(parts.path, pattern)
            ]
            numbers = {i: self.counts.get(i, 0) for i, _ in matching}
            for i, _ in matching:
                self.counts[i] = numbers[i] + 1
        if not (200 <= status < 300) or not (matching or self.record):
            return data
        try:
            parsed = json.loads(data)
        except ValueError:
            return data
        for i, rule in matching:
            parsed = rule(Call(method, parts.path, query, numbers[i]), parsed)
        if self.record:
            with self._lock:
                self.answers.append(Answer(method, parts.path, query, status, parsed))
        return json.dumps(parsed).encode()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class Rendezvous:
    """One request of each test, held until all of them are in flight together. ``met`` only
    when they were: once one held request has gone on alone (after ``within`` seconds), the
    others can no longer meet it, however they come."""

    def __init__(self, tests: tuple[Callable[[Call], bool], ...], within: float) -> None:
        self.tests = tests
        self.within = within
        self.arrived: set[int] = set()
        self.met = False
        self._gave_up = False
        self._all_in = threading.Event()
        self._lock = threading.Lock()

    def arrive(self, call: Call) -> None:
        with self._lock:
            mine = next(
                (i for i, test in enumerate(self.tests) if i not in self.arrived and test(call)),
                None,
            )
            if mine is None:
                return
            self.arrived.add(mine)
            if len(self.arrived) == len(self.tests) and not self._gave_up:
                self.met = True
                self._all_in.set()
        if not self._all_in.wait(self.within):  # a sequential client never fills it
            with self._lock:
                self._gave_up = not self.met  # go on, unmet


@contextmanager
def fault_proxy(upstream: str, *, record: bool = False) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream, record=record)
    try:
        yield proxy
    finally:
        proxy.stop()
