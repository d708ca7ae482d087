"""The emulator's WSGI application: faults, authentication, routing, answers, request log.

For: the order every API request goes through::

    throttle (429) -> fault draw -> latency -> injected fault (reset / error code)
      -> signature -> version -> route -> handler -> JSON answer -> (drop after commit)

and sending ``/__emulator/*`` to the admin app untouched by any of that. A reset or a drop
leaves the app as :class:`ConnectionDrop`, which the server's request handler turns into a
TCP reset.
Every service is served the same way (:mod:`.service`); the app never names one.
Not for: HTTP parsing or sockets (:mod:`.server`), resource rules (the services' models).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from .auth import authenticate
from .cache import AnswerCache
from .call import Call
from .errors import ErrorAnswer
from .faults import DROP, RESET, FaultInjector, Throttle
from .requestlog import Entry, RequestLog
from .responses import body_response, encode, error_response, stamped
from .router import Route, Router
from .store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)
ADMIN_PREFIX = "/__emulator"


class ConnectionDrop(ConnectionError):
    """Leave without answering: the server resets the connection (fault ``reset``/``drop``)."""


@dataclass(frozen=True)
class Outcome:
    response: Response | None  # None: nothing is sent (reset before processing)
    code: str | None
    fault: str | None


class ApiApp:
    def __init__(
        self,
        store: Store,
        router: Router,
        faults: FaultInjector,
        throttle: Throttle,
        requests: RequestLog,
        credentials: Mapping[str, str],
    ) -> None:
        self.store = store
        self.router = router
        self.faults = faults
        self.throttle = throttle
        self.requests = requests
        self.credentials = dict(credentials)
        self.cache = AnswerCache()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data()  # read it all first: an unread body would break keep-alive
        request_id = str(uuid.uuid4())
        route = self.router.match(request.method, request.path)
        outcome = self._serve(request, body, route, request_id)
        self._log(request, route, request_id, outcome)
        if outcome.response is None or outcome.fault == DROP:
            raise ConnectionDrop(outcome.fault)
        return outcome.response(environ, start_response)

    def _serve(self, request: Request, body: bytes, route: Route, rid: str) -> Outcome:
        if not self.throttle.allow(self.store.settings.current.throttle_rps):
            return Outcome(
                error_response("RequestLimitExceeded", rid), "RequestLimitExceeded", "throttle"
            )
        decision = self.faults.decide(route.mutating)
        if decision.latency:
            time.sleep(decision.latency)
        if decision.fault == RESET:
            return Outcome(None, None, RESET)
        if decision.fault not in (None, DROP):
            assert decision.fault is not None
            return Outcome(error_response(decision.fault, rid), decision.fault, decision.fault)
        response, code = self._answer(request, body, route, rid)
        return Outcome(response, code, decision.fault)

    def _answer(
        self, request: Request, body: bytes, route: Route, rid: str
    ) -> tuple[Response, str | None]:
        try:
            authenticate(request, self.credentials)
            self.router.check_version(request.path)
            return body_response(self._run(route, request, body, rid), rid), None
        except ErrorAnswer as exc:
            return error_response(exc.code, rid, exc.message), exc.code
        except Exception:  # a bug in the emulator: answer like the service would, keep the trace
            log.exception("emulator error on %s %s", request.method, request.path)
            return error_response("InternalError", rid), "InternalError"

    def _run(self, route: Route, request: Request, body: bytes, rid: str) -> bytes:
        if route.mounted is None or route.endpoint is None:
            raise ErrorAnswer("InvalidURI")
        service, handler = route.mounted.service, route.endpoint.handler
        call = Call(route.mounted.model, request.args, body, route.variables, service.read)
        if service.request_id_key is not None:
            return encode(stamped(handler(call), service.request_id_key, rid))
        if not route.endpoint.cacheable:
            return encode(handler(call))
        key = (route.key, tuple(route.variables.items()), tuple(sorted(call.args.items())))
        generation = self.store.db.generation  # read before building, see Database.generation
        return self.cache.get(key, generation, lambda: encode(handler(call)))

    def _log(self, request: Request, route: Route, rid: str, outcome: Outcome) -> None:
        status = None if outcome.response is None else outcome.response.status_code
        self.requests.append(
            Entry(
                method=request.method,
                path=request.path,
                query=dict(request.args.items()),
                status=status,
                code=outcome.code,
                time=time.time(),
                mutating=route.mutating,
                request_id=rid,
                fault=outcome.fault,
                agent=request.headers.get("User-Agent", ""),
            )
        )


class EmulatorApp:
    """``/__emulator/*`` to the admin app, everything else to the API."""

    def __init__(self, api: WSGIApplication, admin: WSGIApplication) -> None:
        self.api = api
        self.admin = admin

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return self.admin(environ, start_response)
        return self.api(environ, start_response)
