"""The only code that sends HTTP: sign, send, read the answer, retry what may be retried.

For: one signed JSON request to the CCE v1 API and its answer, as ``ApiResponse`` or as an
exception of ``reconciler.errors``; retries with capped exponential backoff and full jitter
for transient failures, within a per-run retry budget; a request rate limit; a deadline and a
size limit per answer; counters.
Not for: endpoint shapes or paging (``api``), or waiting for busy resources (callers).

Invariants:

- Every attempt is signed anew with a fresh ``x-bce-date``; the path goes on the wire exactly
  as ``signer.canonical_uri(path)`` and the query exactly as ``signer.canonical_query(query)``,
  so what the server verifies is what was signed (the request target is built here).
- A request marked ``idempotent=False`` whose answer may have been lost after it was sent is
  never resent: ``OutcomeUnknownError`` tells the caller to read before trying again. Only a
  failure before the request was written (connecting, a proxy's tunnel, the TLS handshake)
  proves it was not sent. A kept-alive connection the server closed while it sat idle is
  noticed before it is used (``_dropped``), so such a close never turns a create into an
  unknown outcome.
- No answer from the server ever surfaces as anything but an ``ApiError``.
- An attempt never outlives its deadline (connect, proxy tunnel, TLS handshake, send and the
  whole answer): a watchdog thread shuts the attempt's socket down when it is due, so a server
  trickling a byte a second fails with ``DeadlineExceededError`` instead of holding a run for
  minutes. Answers are streamed and dropped past ``max_answer_bytes`` (decoded size,
  ``AnswerTooLargeError``), never read whole first. Both are retried like lost answers: reads
  are resent, a mutation becomes ``OutcomeUnknownError``. A connection that did not finish its
  exchange cleanly is closed, never pooled.
- Secrets are never logged; the signer logs the canonical request at DEBUG.

HTTP is the standard library's ``http.client`` over a small pool of our own (``_Pool``): kept-
alive connections per transport (one endpoint), at most ``pool_size`` idle; an answer's
headers are read by ``_Response`` into ``Headers``, not by the email package's parser.
urllib3, used before, cost about 26 ms to import (importlib.metadata included) and about
twice the client CPU per request. What it and requests did for us is done here: the
proxy the environment names (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, read
with requests' own functions when one is set): an http endpoint's requests are forwarded by an
``http://`` proxy (absolute-form target, ``Proxy-Authorization`` from the proxy URL's
credentials), an https endpoint's go through its ``CONNECT`` tunnel, and ``socks5://``,
``socks5h://``, ``socks4://`` and ``socks4a://`` proxies through PySocks when it is installed;
the CA bundle (``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``, else certifi's; certifi is imported
only for an https endpoint); gzip and deflate answers; no cookies and no redirects.
"""

from __future__ import annotations

import copy
import heapq
import http.client
import importlib
import itertools
import json
import logging
import os
import random as _random
import select
import socket
import threading
import time
import zlib
from base64 import b64encode
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, unquote, urlsplit

from reconciler import __version__
from reconciler.client import signer
from reconciler.client.budget import HostBudget
from reconciler.client.credentials import Credentials
from reconciler.client.ratelimit import TokenBucket
from reconciler.client.retry import Backoff, RetryBudget, is_retryable
from reconciler.error_codes import REFUSED_BEFORE_WORK
from reconciler.errors import (
    AnswerTooLargeError,
    ApiError,
    BadResponseError,
    ConnectionFailedError,
    DeadlineExceededError,
    OutcomeUnknownError,
    RequestsStopped,
    TransientServerError,
    UsageError,
    server_error,
)
from reconciler.records import frozen_record

if TYPE_CHECKING:
    import ssl

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json; charset=utf-8"
REQUEST_ID_HEADER = "x-bce-request-id"
SECURITY_TOKEN_HEADER = "x-bce-security-token"
_SNIPPET = 200
_CHUNK = 64 * 1024
DEFAULT_DEADLINE = 60.0
DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024
# The Go SDK's guesses for an error answer with an empty body (cce-v1-api.md section 5).
_CODE_FOR_EMPTY_ERROR = {
    400: "InvalidHTTPRequest",
    403: "AccessDenied",
    412: "PreconditionFailed",
    500: "InternalError",
}


@frozen_record
class TransportConfig:
    """The knobs the apply engine sets from the command line."""

    rate: float | None = None  # requests per second over all threads; None = unlimited
    # Requests allowed at once by the rate limiter. Default 1: requests go 1/rate apart, so no
    # second sees more than rate + 1 of them (a burst of ~rate let 2 x rate through at the start).
    burst: int | None = None
    # requests in flight at once, over all threads (--parallelism), and pooled connections;
    # a thread beyond them waits before its request is signed and its deadline starts
    pool_size: int = 10
    retry_budget: int = 50  # retries for the whole run, all threads together
    max_attempts: int = 5  # per request, the first attempt included
    connect_timeout: float = 5.0
    read_timeout: float = 30.0  # the longest silence allowed between two reads
    # One attempt as a whole (connect, send, the complete answer), whatever the server's pace.
    deadline: float = DEFAULT_DEADLINE
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES  # a longer answer is dropped, never kept
    backoff: Backoff = field(default_factory=Backoff)
    expiration: int = signer.DEFAULT_EXPIRATION  # validity of each signature, seconds
    # appended to the User-Agent: who sends (``watch worker=... env=... run=...``), for audits
    agent: str = ""

    def __post_init__(self) -> None:
        if self.deadline <= 0 or self.max_answer_bytes <= 0:
            raise ValueError("deadline and max_answer_bytes must be positive")


class Headers(Mapping[str, str]):
    """An answer's headers, looked up case-insensitively (``Date``, ``x-bce-request-id``); a
    header sent twice keeps both values, joined by ", "."""

    __slots__ = ("_items",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            key = name.lower()
            if key in items:
                value = f"{items[key][1]}, {value}"
                name = items[key][0]
            items[key] = (name, value)
        self._items = items

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@frozen_record
class ApiResponse:
    """A successful answer: its status, parsed JSON body, request id and headers."""

    status: int
    data: Any  # the parsed JSON body; None when the body is empty
    request_id: str
    # the answer's headers, case-insensitive (``Date`` for clock checks)
    headers: Mapping[str, str] = field(default_factory=Headers, compare=False)


@frozen_record
class TransportStats:
    requests_sent: int
    retries: int
    by_method: Mapping[str, int]
    by_status: Mapping[int, int]
    rate_limited_seconds: float


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = 0
        self.retries = 0
        self.by_method: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.waited = 0.0

    def count_sent(self, method: str) -> None:
        with self._lock:
            self.sent += 1
            self.by_method[method] += 1

    def count_status(self, status: int) -> None:
        with self._lock:
            self.by_status[status] += 1

    def count_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def count_wait(self, seconds: float) -> None:
        with self._lock:
            self.waited += seconds

    def snapshot(self) -> TransportStats:
        with self._lock:
            return TransportStats(
                self.sent,
                self.retries,
                MappingProxyType(dict(self.by_method)),
                MappingProxyType(dict(self.by_status)),
                self.waited,
            )


@frozen_record
class _Call:
    """One request as prepared once for all its attempts (each is signed anew)."""

    method: str
    path: str  # decoded; the signer and the URL encode it
    query: tuple[tuple[str, str | None], ...]
    url: str  # the endpoint's URL of the request, for logs
    target: str  # the request target on the wire: path and query as signed
    payload: bytes | None
    idempotent: bool


class _Failure(Exception):
    """One failed attempt: the error to raise, and the server's Retry-After if it gave one."""

    def __init__(self, error: ApiError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@frozen_record
class _Answer:
    """A complete answer as read within the deadline and the size limit."""

    status_code: int
    reason: str
    headers: Mapping[str, str]
    content: bytes


# --- the per-attempt deadline ------------------------------------------------------------------


class _Watch:
    """One attempt's deadline, and the socket to cut when it passes."""

    def __init__(self, due: float) -> None:
        self.due = due
        self.fired = False
        self.done = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket) -> None:
        """Cut ``sock`` when the deadline passes (at once if it already has)."""
        with self._lock:
            self._sock = sock
            if self.fired:
                _cut(sock)

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.fired = True
            if self._sock is not None:
                _cut(self._sock)

    def finish(self) -> bool:
        """End the watch; True if the deadline cut the attempt (whatever was read is suspect:
        a status line cut short still parses as an empty 200)."""
        with self._lock:
            self.done = True
            self._sock = None
            return self.fired


def _cut(sock: socket.socket) -> None:
    """Wake a thread blocked on ``sock`` (connecting through a proxy, in the TLS handshake,
    sending or reading): end the socket."""
    try:
        # socket.socket's own shutdown, also for TLS: SSLSocket.shutdown would first drop the
        # SSL object that the blocked thread is still using
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _Watchdog:
    """One daemon thread per transport that fires every watch that is due; it exits when it
    has had nothing to watch for a while and starts again with the next watch."""

    IDLE_EXIT = 5.0

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, seconds: float) -> _Watch:
        watch = _Watch(time.monotonic() + seconds)
        with self._cond:
            heap = self._heap
            while heap and heap[0][2].done:  # attempts that ended, most often all but a few
                heapq.heappop(heap)
            heapq.heappush(heap, (watch.due, next(self._order), watch))
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="transport-deadline", daemon=True
                )
                self._thread.start()
            elif heap[0][2] is watch:
                # due before every other: wake the thread to wait for this one instead. A watch
                # due later (every one but the first when all share one deadline) needs no
                # wake-up, which would cost a thread switch per request.
                self._cond.notify()
        return watch

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    _, _, watch = heapq.heappop(self._heap)
                    watch.fire()  # a no-op for a finished attempt
                if not self._heap:
                    self._cond.wait(self.IDLE_EXIT)
                    if not self._heap:
                        break
                else:
                    self._cond.wait(self._heap[0][0] - now)
            self._thread = None


# --- connections -------------------------------------------------------------------------------

OpenSocket = Callable[[tuple[str, int], float | None, Any], socket.socket]


_MAX_LINE = 65536  # as http.client: the longest status or header line
_MAX_HEADERS = 100  # and the most header lines


class _Response(http.client.HTTPResponse):
    """http.client's answer with its headers read into ``Headers`` instead of through the email
    package's parser, which took a third of the client's CPU per request. The status line,
    length, chunked and read-to-the-end framing and keep-alive stay http.client's; ``begin``
    below is its own, but for the headers and an answer cut off within them, which is an error
    here (http.client would read it as an answer with the headers that came)."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            _header_pairs(self.fp)  # a 100 Continue's headers, skipped
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        headers = Headers(_header_pairs(self.fp))
        self.headers = self.msg = headers
        self.chunked = headers.get("transfer-encoding", "").strip().lower() == "chunked"
        self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = headers.get("content-length", "").strip()
        if length.isascii() and length.isdigit() and not self.chunked:  # not "²"
            self.length = int(length)
        if status in (204, 304) or 100 <= status < 200 or self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # read to the end: the connection ends with the answer


def _header_pairs(fp: Any) -> list[tuple[str, str]]:
    """The header lines up to the blank line, as (name, value); folded lines joined."""
    pairs: list[tuple[str, str]] = []
    while True:
        line = fp.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong("header line")
        if line in (b"\r\n", b"\n"):
            return pairs
        if not line:
            raise http.client.RemoteDisconnected("the answer ended within its headers")
        if len(pairs) >= _MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
        text = line.decode("iso-8859-1")
        if text[:1] in (" ", "\t") and pairs:  # obsolete line folding
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {text.strip()}")
            continue
        name, colon, value = text.partition(":")
        if colon:
            pairs.append((name.strip(), value.strip()))


class _Connection(http.client.HTTPConnection):
    """One kept-alive HTTP/1.1 connection: to the endpoint, to a proxy that forwards (an http
    endpoint) or tunnels (``CONNECT``, an https endpoint), or through a SOCKS proxy; TLS on
    top for an https endpoint. Its socket is handed to the attempt's watch as soon as it
    exists, so the deadline cuts a slow proxy or TLS handshake too."""

    response_class = _Response

    def __init__(self, route: _Route, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(route.host, route.port, timeout=connect_timeout)
        self._route = route
        self._read_timeout = read_timeout
        self.watch: _Watch | None = None
        if route.tunnel is not None:
            self.set_tunnel(*route.tunnel, headers=route.proxy_headers)
        # http.client's own hook for opening the socket (connect and tunnel use it)
        self._create_connection = self._open

    def _open(
        self, address: tuple[str, int], timeout: float | None, source: Any = None
    ) -> socket.socket:
        sock = self._route.open_socket(address, timeout, source)
        if self.watch is not None:
            self.watch.attach(sock)
        return sock

    def connect(self) -> None:
        super().connect()  # the socket, and the CONNECT tunnel when there is one
        tls = self._route.tls
        if tls is not None:
            sock = tls.wrap_socket(
                self.sock, server_hostname=self._route.tls_host, do_handshake_on_connect=False
            )
            self.sock = sock
            if self.watch is not None:
                self.watch.attach(sock)
            sock.do_handshake()
        self.sock.settimeout(self._read_timeout)


@frozen_record
class _Route:
    """How to reach the endpoint: the host and port to connect to (the endpoint's, or an
    http proxy's), how to open the socket (directly or through SOCKS), the request target's
    prefix (the endpoint itself when a proxy forwards), the tunnel to ask a proxy for, and
    the TLS context of an https endpoint."""

    host: str
    port: int
    open_socket: OpenSocket
    target_prefix: str = ""  # "http://host:port" when a proxy forwards the request
    tunnel: tuple[str, int] | None = None  # CONNECT host:port through an http proxy
    proxy_headers: Mapping[str, str] = field(default_factory=dict)  # Proxy-Authorization
    tls: ssl.SSLContext | None = None
    tls_host: str = ""
    proxy: str = ""  # the proxy's scheme://host:port, for messages (never its credentials)


def _route(endpoint: str) -> _Route:
    """The route to ``endpoint``: straight, or through the proxy the environment names."""
    parts = urlsplit(endpoint)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"the endpoint {endpoint} is not an http:// or https:// URL")
    host = parts.hostname
    port = parts.port or (443 if scheme == "https" else 80)
    tls = _tls_context() if scheme == "https" else None
    proxy_url = _environ_proxy(endpoint)
    if proxy_url is None:
        return _Route(host, port, _open_tcp, tls=tls, tls_host=host)
    if "://" not in proxy_url:
        proxy_url = f"http://{proxy_url}"
    proxy = urlsplit(proxy_url)
    kind = proxy.scheme.lower()
    shown = f"{kind}://{proxy.hostname}" + (f":{proxy.port}" if proxy.port else "")
    if kind.startswith("socks"):
        opener = _socks_opener(proxy_url, proxy)
        return _Route(host, port, opener, tls=tls, tls_host=host, proxy=shown)
    if kind != "http" or not proxy.hostname:
        raise UsageError(
            f"the proxy {shown} is not supported: an http:// proxy (which tunnels TLS with "
            "CONNECT) or a SOCKS one is"
        )
    credentials = _proxy_headers(proxy)
    if tls is not None:  # TLS end to end, through the proxy's CONNECT tunnel
        return _Route(
            proxy.hostname,
            proxy.port or 80,
            _open_tcp,
            tunnel=(host, port),
            proxy_headers=credentials,
            tls=tls,
            tls_host=host,
            proxy=shown,
        )
    return _Route(  # the proxy forwards the request, named by its absolute URL
        proxy.hostname,
        proxy.port or 80,
        _open_tcp,
        target_prefix=f"http://{_host_header(endpoint)}",
        proxy_headers=credentials,
        proxy=shown,
    )


def _tls_context() -> ssl.SSLContext:
    """Verify certificates against ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` (a file or a
    folder), else certifi's bundle, as requests does; one context per bundle per process."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if not bundle:
        import certifi

        bundle = certifi.where()
    with _TLS_LOCK:
        context = _TLS_CONTEXTS.get(bundle)
        if context is None:
            import ssl

            try:
                if os.path.isdir(bundle):
                    context = ssl.create_default_context(capath=bundle)
                else:
                    context = ssl.create_default_context(cafile=bundle)
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                raise UsageError(
                    f"the CA bundle {bundle} cannot be read: {_root_cause(exc)} "
                    "(REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE names it)"
                ) from None
            _TLS_CONTEXTS[bundle] = context
    return context


_TLS_CONTEXTS: dict[str, ssl.SSLContext] = {}
_TLS_LOCK = threading.Lock()


def _environ_proxy(endpoint: str) -> str | None:
    """The proxy URL the environment names for ``endpoint``, or None. Read once, with
    requests' own functions (imported only when a ``*_proxy`` variable is set): ``NO_PROXY``
    with its host suffixes and CIDR ranges, the scheme's proxy or ``ALL_PROXY``."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return None
    from requests.utils import get_environ_proxies, select_proxy

    proxy: str | None = select_proxy(endpoint, get_environ_proxies(endpoint))
    return proxy or None


def _proxy_headers(proxy: SplitResult) -> dict[str, str]:
    """``Proxy-Authorization`` for a proxy URL with a user name and password in it."""
    if not proxy.username:
        return {}
    user = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}"
    return {"Proxy-Authorization": "Basic " + b64encode(user.encode("utf-8")).decode("ascii")}


_SOCKS_KINDS = {
    "socks5": (2, False),
    "socks5h": (2, True),
    "socks4": (1, False),
    "socks4a": (1, True),
}


def _socks_opener(proxy_url: str, proxy: SplitResult) -> OpenSocket:
    """Open sockets through a SOCKS proxy with PySocks (``socks5h`` and ``socks4a`` let the
    proxy resolve the endpoint's name)."""
    kind = proxy.scheme.lower()
    if kind not in _SOCKS_KINDS or not proxy.hostname:
        raise UsageError(f"the proxy {proxy_url} is not a socks4, socks4a, socks5 or socks5h URL")
    try:
        socks = importlib.import_module("socks")
    except ImportError:
        raise UsageError(
            f"the proxy {proxy_url} is a SOCKS proxy, which needs PySocks: pip install pysocks"
        ) from None
    version, remote_dns = _SOCKS_KINDS[kind]  # PySocks' SOCKS5 = 2, SOCKS4 = 1
    options = {
        "proxy_type": version,
        "proxy_addr": proxy.hostname,
        "proxy_port": proxy.port or 1080,
        "proxy_rdns": remote_dns,
        "proxy_username": unquote(proxy.username) if proxy.username else None,
        "proxy_password": unquote(proxy.password) if proxy.password else None,
    }

    def open_socket(address: tuple[str, int], timeout: float | None, source: Any) -> socket.socket:
        sock: socket.socket = socks.create_connection(address, timeout, source, **options)
        return sock

    return open_socket


def _open_tcp(address: tuple[str, int], timeout: float | None, source: Any = None) -> socket.socket:
    """``socket.create_connection``, with an ASCII host name given as bytes: a str makes
    ``getaddrinfo`` import the IDNA codec first (12 ms of a plan's start-up)."""
    host, port = address
    name: str | bytes = host.encode("ascii") if host.isascii() else host
    return socket.create_connection((name, port), timeout, source)  # type: ignore[arg-type]


class _Pool:
    """The kept-alive connections of one transport (one endpoint), at most ``size`` of them
    idle; thread-safe. A connection the server closed while it sat idle is noticed before
    it is used again, so a request is never written into a dead socket for nothing."""

    def __init__(self, route: _Route, size: int, connect_timeout: float, read_timeout: float):
        self.route = route
        self._size = max(1, size)
        self._timeouts = (connect_timeout, read_timeout)
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self) -> _Connection:
        """An idle connection still open (the last one used first), else a new unconnected
        one (its ``sock`` is None)."""
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return _Connection(self.route, *self._timeouts)
            if not _dropped(conn.sock):
                return conn
            conn.close()

    def give_back(self, conn: _Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._size:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _dropped(sock: socket.socket | None) -> bool:
    """True when an idle connection is no longer usable: the server closed it (or sent
    something unasked, which makes it as useless), as urllib3's ``is_connection_dropped``."""
    if sock is None:
        return True
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # closed meanwhile
        return True


class _Inflater:
    """Decodes a gzip or deflate answer chunk by chunk, never past ``limit`` bytes."""

    def __init__(self, encoding: str) -> None:
        # gzip: its header; deflate: a zlib stream, or a raw one as some servers send
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else 0)
        self._raw = encoding == "deflate"

    def feed(self, data: bytes, room: int) -> bytes:
        """Up to ``room`` decoded bytes of ``data``; more than ``room - 1`` means too large."""
        try:
            decoded = self._zlib.decompress(data, room)
        except zlib.error:
            if not self._raw:
                raise
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            decoded = self._zlib.decompress(data, room)
        self._raw = False
        return decoded

    def flush(self) -> bytes:
        return self._zlib.flush()


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Transport:
    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        config: TransportConfig | None = None,
        *,
        budget: RetryBudget | None = None,
        host_budget: HostBudget | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.config = config or TransportConfig()
        self.budget = budget or RetryBudget(self.config.retry_budget)
        # a process-wide budget for this host replaces the transport's own --rate bucket
        self.host_budget = host_budget
        self._credentials = credentials
        self._host = _host_header(self.endpoint)
        self._now = now
        # set: send nothing more (Transport.stop_sending); shared with its siblings and
        # tried_once copies. The default backoff sleep ends early when it is set.
        self.stopped = threading.Event()
        self._given_sleep = sleep
        self._sleep: Callable[[float], object] = self.stopped.wait if sleep is time.sleep else sleep
        self._random = random
        self._bucket = (
            TokenBucket(
                self.config.rate,
                1 if self.config.burst is None else self.config.burst,
                clock=clock,
                sleep=sleep,
            )
            if self.config.rate and host_budget is None
            else None
        )
        self._pool = _Pool(
            _route(self.endpoint),
            self.config.pool_size,
            min(self.config.connect_timeout, self.config.deadline),
            min(self.config.read_timeout, self.config.deadline),
        )
        self._in_flight = threading.BoundedSemaphore(max(1, self.config.pool_size))
        self._counters = _Counters()
        self._watchdog = _Watchdog()
        self._clock = clock

    def sibling(self, endpoint: str) -> Transport:
        """A transport to another host of the same cloud (CCR beside CCE): the same
        credentials, configuration, retry budget, rate limit and counters; its own
        connections. Returns ``self`` for the same endpoint."""
        if endpoint.rstrip("/") == self.endpoint:
            return self
        other = Transport(
            endpoint,
            self._credentials,
            self.config,
            budget=self.budget,
            clock=self._clock,
            now=self._now,
            sleep=self._given_sleep,
            random=self._random,
        )
        other._bucket = self._bucket
        other._counters = self._counters
        other.stopped = self.stopped
        if self._given_sleep is time.sleep:  # the default sleep waits on the shared stop
            other._sleep = self.stopped.wait
        return other

    def stop_sending(self) -> None:
        """Send no request and no retry from now on, here and in the transports made from
        this one: each raises RequestsStopped (a refresh whose run ended: the pages of a long
        list are not asked for one after another, a backoff ends at once). Requests on the
        wire end as they do."""
        self.stopped.set()

    def tried_once(self) -> Transport:
        """This transport with each request tried once: no retry, so no retry budget spent
        (a request whose failure costs nothing: a refresh's guess, asked again if it fails).
        It shares this one's connections, requests in flight, rate and counters; close this
        one, not it."""
        once = copy.copy(self)
        once.config = replace(self.config, max_attempts=1)
        return once

    def __repr__(self) -> str:
        return f"Transport({self.endpoint!r}, {self._credentials!r})"

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._watchdog.close()
        self._pool.close()

    def stats(self) -> TransportStats:
        return self._counters.snapshot()

    def request(
        self,
        method: str,
        path: str,
        query: signer.Query | None = None,
        body: Any = None,
        *,
        idempotent: bool = True,
    ) -> ApiResponse:
        """Send one API request, retrying transient failures; raise an ``ApiError`` otherwise.

        ``path`` is the decoded path (``/v1/image/namespace/测试``); a query value of None or
        "" sends ``key=`` (as for ``?scalingUp``). ``idempotent=False`` marks creates.
        """
        call = self._prepare(method, path, query, body, idempotent)
        attempt = 1
        while True:
            if self.stopped.is_set():
                raise RequestsStopped("the run ended: no more requests are sent")
            try:
                return self._attempt(call, attempt)
            except _Failure as failure:
                self._before_retry(call, failure, attempt)
            attempt += 1

    def _prepare(
        self, method: str, path: str, query: signer.Query | None, body: Any, idempotent: bool
    ) -> _Call:
        pairs = tuple(query.items() if isinstance(query, Mapping) else query or ())
        canonical = signer.canonical_query(pairs)
        target = signer.canonical_uri(path) + (f"?{canonical}" if canonical else "")
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        url = self.endpoint + target
        return _Call(method.upper(), path, pairs, url, target, payload, idempotent)

    def _before_retry(self, call: _Call, failure: _Failure, attempt: int) -> None:
        """Return if the call may be tried again (after sleeping); raise its error otherwise."""
        error = failure.error
        if not is_retryable(error) or attempt >= self.config.max_attempts:
            raise error from failure.__cause__
        self.budget.spend(error)
        delay = self.config.backoff.delay(attempt, failure.retry_after, self._random)
        self._counters.count_retry()
        log.info("retrying %s %s in %.2f s after: %s", call.method, call.path, delay, error)
        self._sleep(delay)

    def _attempt(self, call: _Call, attempt: int) -> ApiResponse:
        with self._in_flight:  # at most pool_size requests at once, whatever the threads
            return self._attempt_now(call, attempt)

    def _attempt_now(self, call: _Call, attempt: int) -> ApiResponse:
        slot = None
        if self.host_budget is not None:
            asked = time.monotonic()
            slot = self.host_budget.acquire()
            self._counters.count_wait(time.monotonic() - asked)
        if self._bucket is not None:
            self._counters.count_wait(self._bucket.acquire())
        headers = self._signed_headers(call)
        log.debug("%s %s (attempt %d)", call.method, call.url, attempt)
        self._counters.count_sent(call.method)
        watch = self._watchdog.watch(self.config.deadline)
        try:
            answer = self._exchange(call, headers, watch)
        except _Failure:
            self._answered(None, "")
            raise
        finally:
            watch.finish()
            if slot is not None:
                self.host_budget.release(slot)  # type: ignore[union-attr]
        return self._interpret(call, answer)

    def _answered(self, status: int | None, code: str) -> None:
        if self.host_budget is not None:
            self.host_budget.answered(status, code)

    def _exchange(self, call: _Call, headers: dict[str, str], watch: _Watch) -> _Answer:
        """Send the request and read the whole answer, within the deadline and the size limit;
        the connection goes back to the pool only after a clean exchange."""
        conn = self._pool.take()
        conn.watch = watch
        try:
            if conn.sock is None:
                conn.connect()
            else:
                watch.attach(conn.sock)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._connection_failure(call, exc, watch, sent=False) from exc
        except BaseException:
            conn.close()
            raise
        try:
            route = self._pool.route
            conn.request(call.method, route.target_prefix + call.target, call.payload, headers)
            response = conn.getresponse()
            answer_headers: Headers = response.headers  # type: ignore[assignment]
            content = self._read_body(call, response, answer_headers)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()  # dropped: closed, not drained
            raise self._connection_failure(call, exc, watch, sent=True) from exc
        except BaseException:
            conn.close()
            raise
        finally:
            conn.watch = None
        if watch.finish():
            conn.close()
            raise self._deadline_failure(call, before_send=False)
        if response.will_close:
            conn.close()
        else:
            self._pool.give_back(conn)
        return _Answer(response.status, response.reason or "", answer_headers, content)

    def _read_body(
        self, call: _Call, response: http.client.HTTPResponse, headers: Headers
    ) -> bytes:
        limit = self.config.max_answer_bytes
        declared = response.length  # None when chunked or read to the end
        if declared is not None and declared > limit:
            raise self._too_large(call, response.status, headers, f"it announces {declared} bytes")
        encoding = headers.get("Content-Encoding", "").strip().lower()
        inflater = _Inflater(encoding) if encoding in ("gzip", "deflate") else None
        if declared is not None and inflater is None:
            return response.read()  # exactly the announced length, or IncompleteRead
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                chunk = response.read(_CHUNK)
                if inflater is not None:
                    chunk = inflater.feed(chunk, limit - size + 1) if chunk else inflater.flush()
                size += len(chunk)
                if size > limit:
                    raise self._too_large(
                        call, response.status, headers, f"more than {limit} bytes came"
                    )
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        except zlib.error as exc:
            raise _Failure(
                BadResponseError(
                    f"the answer's {encoding} encoding is broken: {exc}",
                    status=response.status,
                    request_id=headers.get(REQUEST_ID_HEADER, ""),
                    method=call.method,
                    path=call.path,
                )
            ) from None

    def _too_large(self, call: _Call, status: int, headers: Headers, how: str) -> _Failure:
        """An answer past the limit: dropped unread (the connection is closed, not drained)."""
        reason = (
            f"the answer is larger than the {self.config.max_answer_bytes} byte limit ({how}); "
            "it was not read"
        )
        if not call.idempotent:
            return _unknown_outcome(call, reason)
        error = AnswerTooLargeError(
            reason,
            status=status,
            request_id=headers.get(REQUEST_ID_HEADER, ""),
            method=call.method,
            path=call.path,
        )
        return _Failure(error)

    def _deadline_failure(self, call: _Call, before_send: bool) -> _Failure:
        reason = (
            f"no whole answer from {self._host} within the {self.config.deadline:g} s deadline "
            "of a request"
        )
        if not call.idempotent and not before_send:
            return _unknown_outcome(call, reason)
        return _Failure(DeadlineExceededError(reason, method=call.method, path=call.path))

    def _signed_headers(self, call: _Call) -> dict[str, str]:
        moment = self._now().replace(microsecond=0)
        headers = {
            "Host": self._host,
            "Content-Type": CONTENT_TYPE,
            "x-bce-date": signer.format_timestamp(moment),
        }
        if call.payload is not None:
            # signed so that a body changed in flight changes the signature (as the Go SDK does)
            headers["Content-Length"] = str(len(call.payload))
        if self._credentials.session_token:
            headers[SECURITY_TOKEN_HEADER] = self._credentials.session_token
        signed = [name.lower() for name in headers]
        headers["Authorization"] = signer.sign(
            self._credentials.access_key_id,
            self._credentials.secret_access_key,
            call.method,
            call.path,
            call.query,
            headers,
            moment,
            self.config.expiration,
            signed,
        )
        agent = f" ({self.config.agent})" if self.config.agent else ""
        headers["User-Agent"] = f"cce-reconciler/{__version__}{agent}"
        headers["Accept-Encoding"] = "gzip, deflate"  # as requests asked; _read_body decodes
        headers.update(self._pool.route.proxy_headers if self._pool.route.target_prefix else ())
        return headers

    def _connection_failure(
        self, call: _Call, exc: Exception, watch: _Watch, sent: bool
    ) -> _Failure:
        """No usable answer: retryable unless a mutation may have reached the server (``sent``:
        the connection was made, so the request may have been written)."""
        if watch.fired:
            return self._deadline_failure(call, before_send=not sent)
        reason = self._describe(exc, sent)
        if not call.idempotent and sent:
            return _unknown_outcome(call, reason)
        return _Failure(ConnectionFailedError(reason, method=call.method, path=call.path))

    def _describe(self, exc: Exception, sent: bool) -> str:
        host = self._host
        if sent:
            if isinstance(exc, TimeoutError):
                return f"no answer from {host} within {self.config.read_timeout:g} s"
            return f"the connection to {host} broke before a full answer: {_root_cause(exc)}"
        proxy = self._pool.route.proxy
        where = f"{host} through the proxy {proxy}" if proxy else host
        if isinstance(exc, TimeoutError):
            return f"could not connect to {where} within {self.config.connect_timeout:g} s"
        untrusted = getattr(exc, "verify_message", None)  # ssl.SSLCertVerificationError
        if untrusted:
            return (
                f"could not connect to {where}: its TLS certificate is not trusted "
                f"({untrusted}); REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE names a CA bundle that "
                "trusts it"
            )
        return f"could not connect to {where}: {_root_cause(exc)}"

    def _interpret(self, call: _Call, response: _Answer) -> ApiResponse:
        status = response.status_code
        request_id = response.headers.get(REQUEST_ID_HEADER, "")
        self._counters.count_status(status)
        log.debug("%s %s -> %d (request id %s)", call.method, call.path, status, request_id)
        if 200 <= status < 300:
            self._answered(status, "")
            data = _success_body(call, response, request_id)
            return ApiResponse(status, data, request_id, response.headers)
        error = _error_from(call, response, request_id)
        self._answered(status, error.code)
        if (
            not call.idempotent
            and status >= 500
            and error.code not in REFUSED_BEFORE_WORK
            and isinstance(error, BadResponseError | TransientServerError)
        ):
            # A create answered "internal error" (or an unreadable 5xx from a gateway) may have
            # been committed before the failure: never resend it blindly. A definite refusal
            # (quota, format, conflict codes, often sent as 500 by CCE) is not in doubt.
            raise _unknown_outcome(call, f"HTTP {status}: {error.message}")
        raise _Failure(error, _retry_after(response, self._now))


def _host_header(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    return host if parts.port in (None, default_port) else f"{host}:{parts.port}"


def _root_cause(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return text[:_SNIPPET] or type(exc).__name__


def _unknown_outcome(call: _Call, reason: str) -> _Failure:
    error = OutcomeUnknownError(
        f"sent, but its answer was lost ({reason}); read the current state before sending it again",
        method=call.method,
        path=call.path,
    )
    return _Failure(error)


def _snippet(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    text = " ".join(text.split())
    return repr(text[:_SNIPPET] + ("..." if len(text) > _SNIPPET else ""))


def _looks_like_html(response: _Answer) -> bool:
    head = response.content.lstrip()[:15].lower()
    return "html" in response.headers.get("content-type", "") or head.startswith(
        (b"<!doctype", b"<html")
    )


def _success_body(call: _Call, response: _Answer, request_id: str) -> Any:
    if not response.content.strip():
        return None
    try:
        return json.loads(response.content.decode("utf-8"))
    except ValueError as exc:
        raise _Failure(
            BadResponseError(
                f"the answer is not valid JSON ({exc}): {_snippet(response.content)}",
                status=response.status_code,
                request_id=request_id,
                method=call.method,
                path=call.path,
            )
        ) from None


def _error_from(call: _Call, response: _Answer, request_id: str) -> ApiError:
    status, body = response.status_code, response.content

    def bad(message: str, code: str = "", rid: str = request_id) -> BadResponseError:
        return BadResponseError(
            message, status=status, code=code, request_id=rid, method=call.method, path=call.path
        )

    if not body.strip():
        code = _CODE_FOR_EMPTY_ERROR.get(status) or (response.reason or "").replace(" ", "")
        return bad(f"empty error answer (code {code or '?'} guessed from the status)", code)
    if _looks_like_html(response):
        return bad(f"an HTML page answered, not the API (a proxy or gateway?): {_snippet(body)}")
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        return bad(f"the error answer is not JSON: {_snippet(body)}")
    if not isinstance(data, dict):
        return bad(f"the error answer is not a JSON object: {_snippet(body)}")
    code, message, body_id = (_text_field(data, k) for k in ("code", "message", "requestId"))
    rid = request_id or body_id
    missing = [name for name, value in (("code", code), ("requestId", body_id)) if not value]
    if missing:
        return bad(f"the error answer lacks {' and '.join(missing)}: {_snippet(body)}", code, rid)
    text = message or f"({code}, no message)"
    return server_error(status, code, text, rid, call.method, call.path)


def _text_field(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _retry_after(response: _Answer, now: Callable[[], datetime]) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())
