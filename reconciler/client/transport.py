"""The only code that sends HTTP: sign, send, read the answer, retry what may be retried.

For: one signed JSON request to the CCE v1 API and its answer, as ``ApiResponse`` or as an
exception of ``reconciler.errors``; retries with capped exponential backoff and full jitter
for transient failures, within a per-run retry budget; a request rate limit; a deadline and a
size limit per answer; counters.
Not for: endpoint shapes or paging (``api``), or waiting for busy resources (callers).

Invariants:

- Every attempt is signed anew with a fresh ``x-bce-date``; the path goes on the wire exactly
  as ``signer.canonical_uri(path)`` and the query exactly as ``signer.canonical_query(query)``,
  so what the server verifies is what was signed (the URL is built here, not by urllib3).
- A request marked ``idempotent=False`` whose answer may have been lost after it was sent is
  never resent: ``OutcomeUnknownError`` tells the caller to read before trying again.
- No answer from the server ever surfaces as anything but an ``ApiError``.
- An attempt never outlives its deadline (connect, send and the whole answer): a watchdog thread
  shuts the attempt's socket down when it is due, so a server trickling a byte a second fails
  with ``DeadlineExceededError`` instead of holding a run for minutes. Answers are streamed and
  dropped past ``max_answer_bytes`` (``AnswerTooLargeError``), never read whole first. Both are
  retried like lost answers: reads are resent, a mutation becomes ``OutcomeUnknownError``.
- Secrets are never logged; the signer logs the canonical request at DEBUG.

Requests go through urllib3's connection pools directly: requests' session layer cost about
as much CPU per call as urllib3 itself, and as much again to import. What requests did for us
is done here: the proxy the environment names (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``,
read with requests' own functions when one is set, SOCKS through PySocks), the CA bundle
(``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``, else certifi's), no cookies and no redirects.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import os
import random as _random
import socket
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit

import urllib3
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
import urllib3.poolmanager

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
    TransientServerError,
    UsageError,
    server_error,
)
from reconciler.records import frozen_record

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


@frozen_record
class ApiResponse:
    """A successful answer: its status, parsed JSON body, request id and headers."""

    status: int
    data: Any  # the parsed JSON body; None when the body is empty
    request_id: str
    # the answer's headers, case-insensitive (``Date`` for clock checks)
    headers: Mapping[str, str] = field(default_factory=urllib3.HTTPHeaderDict, compare=False)


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
    url: str
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
    """One attempt's deadline, and the connection to cut when it passes."""

    def __init__(self, due: float) -> None:
        self.due = due
        self.fired = False
        self.done = False
        self._conn: urllib3.connection.HTTPConnection | None = None
        self._lock = threading.Lock()

    def attach(self, conn: urllib3.connection.HTTPConnection) -> None:
        with self._lock:
            self._conn = conn
            if self.fired:
                _cut(conn)

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.fired = True
            if self._conn is not None:
                _cut(self._conn)

    def finish(self) -> bool:
        """End the watch; True if the deadline cut the attempt (whatever was read is suspect:
        a status line cut short still parses as an empty 200)."""
        with self._lock:
            self.done = True
            self._conn = None
            return self.fired

    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.due


def _cut(conn: urllib3.connection.HTTPConnection) -> None:
    """Wake a thread blocked on ``conn`` (connecting, sending or reading): end the socket."""
    sock = conn.sock
    if sock is None:
        return
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
            heapq.heappush(self._heap, (watch.due, next(self._order), watch))
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="transport-deadline", daemon=True
                )
                self._thread.start()
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


# The attempt running in this thread, found by the connection classes below when they send.
_current = threading.local()


def _attach_current(conn: urllib3.connection.HTTPConnection) -> None:
    watch: _Watch | None = getattr(_current, "watch", None)
    if watch is not None:
        watch.attach(conn)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_current(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_current(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _Pools:
    """The connection pools of one transport: straight to the endpoint, or through the proxy
    the environment names for it. Watched connections report to the attempt's watch, so that
    its deadline can cut them (SOCKS proxies keep their own connections and only get the
    deadline checked between reads)."""

    def __init__(self, endpoint: str, pool_size: int) -> None:
        options: dict[str, Any] = {"num_pools": 2, "maxsize": max(1, pool_size), "block": False}
        options.update(_tls_options())
        proxy = _environ_proxy(endpoint)
        manager: urllib3.PoolManager
        if proxy is None:
            manager = urllib3.PoolManager(**options)
        elif proxy.lower().startswith("socks"):
            manager = _socks_manager(proxy, options)
        else:
            manager = urllib3.ProxyManager(proxy, proxy_headers=_proxy_headers(proxy), **options)
        if manager.pool_classes_by_scheme == urllib3.poolmanager.pool_classes_by_scheme:
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        self.manager = manager

    def urlopen(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        timeout: urllib3.Timeout,
    ) -> urllib3.BaseHTTPResponse:
        return self.manager.urlopen(
            method,
            url,
            body=body,
            headers=headers,
            timeout=timeout,
            redirect=False,
            retries=False,  # the transport retries, and sees each failure as it happened
            preload_content=False,
        )

    def close(self) -> None:
        self.manager.clear()


def _tls_options() -> dict[str, Any]:
    """Verify certificates against ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` (a file or a
    folder), else certifi's bundle, as requests does."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if not bundle:
        import certifi

        bundle = certifi.where()
    return {
        "cert_reqs": "CERT_REQUIRED",
        "ca_cert_dir" if os.path.isdir(bundle) else "ca_certs": bundle,
    }


def _environ_proxy(endpoint: str) -> str | None:
    """The proxy URL the environment names for ``endpoint``, or None. Read once, with
    requests' own functions (imported only when a ``*_proxy`` variable is set): ``NO_PROXY``
    with its host suffixes and CIDR ranges, the scheme's proxy or ``ALL_PROXY``."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return None
    from requests.utils import get_environ_proxies, select_proxy

    proxy: str | None = select_proxy(endpoint, get_environ_proxies(endpoint))
    return proxy or None


def _proxy_headers(proxy: str) -> dict[str, str]:
    """``Proxy-Authorization`` for a proxy URL with a user name and password in it."""
    parts = urlsplit(proxy)
    if not parts.username:
        return {}
    user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return dict(urllib3.util.make_headers(proxy_basic_auth=user))


def _socks_manager(proxy: str, options: dict[str, Any]) -> urllib3.PoolManager:
    try:
        with warnings.catch_warnings():  # its DependencyWarning says what the error below says
            warnings.simplefilter("ignore")
            from urllib3.contrib.socks import SOCKSProxyManager
    except ImportError:
        raise UsageError(
            f"the proxy {proxy} is a SOCKS proxy, which needs PySocks: pip install pysocks"
        ) from None
    parts = urlsplit(proxy)
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    manager: urllib3.PoolManager = SOCKSProxyManager(
        proxy, username=username, password=password, **options
    )
    return manager


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
        pools: _Pools | None = None,
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
        self._sleep = sleep
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
        self._pools = pools or _Pools(self.endpoint, self.config.pool_size)
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
            sleep=self._sleep,
            random=self._random,
        )
        other._bucket = self._bucket
        other._counters = self._counters
        return other

    def __repr__(self) -> str:
        return f"Transport({self.endpoint!r}, {self._credentials!r})"

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._watchdog.close()
        self._pools.close()

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
        url = self.endpoint + signer.canonical_uri(path) + (f"?{canonical}" if canonical else "")
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return _Call(method.upper(), path, pairs, url, payload, idempotent)

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
        _current.watch = watch
        try:
            answer = self._exchange(call, headers, watch)
        except _Failure:
            self._answered(None, "")
            raise
        finally:
            _current.watch = None
            watch.finish()
            if slot is not None:
                self.host_budget.release(slot)  # type: ignore[union-attr]
        return self._interpret(call, answer)

    def _answered(self, status: int | None, code: str) -> None:
        if self.host_budget is not None:
            self.host_budget.answered(status, code)

    def _exchange(self, call: _Call, headers: dict[str, str], watch: _Watch) -> _Answer:
        """Send the request and read the whole answer, within the deadline and the size limit."""
        config = self.config
        timeout = urllib3.Timeout(
            connect=min(config.connect_timeout, config.deadline),
            read=min(config.read_timeout, config.deadline),
        )
        try:
            response = self._pools.urlopen(call.method, call.url, call.payload, headers, timeout)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._connection_failure(call, exc, watch) from exc
        try:
            content = self._read_body(call, response, watch)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()  # dropped: the connection is closed, not drained
            raise self._connection_failure(call, exc, watch) from exc
        except BaseException:
            response.close()
            raise
        response.release_conn()
        if watch.finish():
            raise self._deadline_failure(call, before_send=False)
        return _Answer(response.status, response.reason or "", response.headers, content)

    def _read_body(self, call: _Call, response: urllib3.BaseHTTPResponse, watch: _Watch) -> bytes:
        limit = self.config.max_answer_bytes
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(call, response, f"it announces {int(declared)} bytes")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.stream(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > limit:
                raise self._too_large(call, response, f"more than {limit} bytes came")
            chunks.append(chunk)
            if watch.expired():  # a connection the watch cannot cut is checked here
                watch.fire()
                raise self._deadline_failure(call, before_send=False)
        return b"".join(chunks)

    def _too_large(self, call: _Call, response: urllib3.BaseHTTPResponse, how: str) -> _Failure:
        """An answer past the limit: dropped unread (the connection is closed, not drained)."""
        reason = (
            f"the answer is larger than the {self.config.max_answer_bytes} byte limit ({how}); "
            "it was not read"
        )
        if not call.idempotent:
            return _unknown_outcome(call, reason)
        request_id = response.headers.get(REQUEST_ID_HEADER, "")
        error = AnswerTooLargeError(
            reason,
            status=response.status,
            request_id=request_id,
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
        headers["Accept-Encoding"] = "gzip, deflate"  # as requests asked; urllib3 decodes
        return headers

    def _connection_failure(self, call: _Call, exc: Exception, watch: _Watch) -> _Failure:
        """No usable answer: retryable unless a create may have reached the server."""
        before_send = _failed_before_send(exc)
        if watch.fired:
            return self._deadline_failure(call, before_send)
        reason = self._describe(exc, before_send)
        if not call.idempotent and not before_send:
            return _unknown_outcome(call, reason)
        return _Failure(ConnectionFailedError(reason, method=call.method, path=call.path))

    def _describe(self, exc: Exception, before_send: bool) -> str:
        host = self._host
        errors = urllib3.exceptions
        if isinstance(exc, errors.ConnectTimeoutError) and not isinstance(
            exc, errors.NewConnectionError
        ):
            return f"could not connect to {host} within {self.config.connect_timeout:g} s"
        if isinstance(exc, errors.ReadTimeoutError):
            return f"no answer from {host} within {self.config.read_timeout:g} s"
        if before_send:
            return f"could not connect to {host}: {_root_cause(exc)}"
        if isinstance(exc, errors.ProtocolError | errors.ProxyError | errors.SSLError | OSError):
            return f"the connection to {host} broke before a full answer: {_root_cause(exc)}"
        return f"request to {host} failed: {_root_cause(exc)}"

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


def _failed_before_send(exc: Exception) -> bool:
    """True only when the request surely never left this machine (no connection was made:
    refused, unresolvable, or the connect timed out; through a proxy, never sure)."""
    return isinstance(exc, urllib3.exceptions.ConnectTimeoutError)


def _root_cause(exc: BaseException) -> str:
    cause: object = exc
    while True:
        inner = getattr(cause, "reason", None) or (
            cause.args[-1] if isinstance(cause, BaseException) and cause.args else None
        )
        if not isinstance(inner, BaseException) or inner is cause:
            break
        cause = inner
    text = str(cause).rsplit("): ", 1)[-1]
    return text[:_SNIPPET] or type(cause).__name__


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
