"""Admin endpoints under ``/__emulator/``: no signature, loopback clients only, never faulted.

For tests and demos::

    POST /__emulator/reset     empty the model, clear the request log, faults back to start
    GET  /__emulator/requests  {"requests": [{index, method, path, query, status, code, time,
                                mutating, requestId, fault, agent}], "next": N}   (?since=N)
    GET  /__emulator/faults    the current knobs and pending forced faults
    POST /__emulator/faults    change knobs: fault_rate, latency_ms, latency_jitter_ms (or
                               jitter), throttle_rps, seed, create_failure_rate,
                               delete_failure_rate (CCE v2 clusters only),
                               cluster_create_seconds, cluster_delete_seconds, namespace_quota,
                               cluster_quota, slave_quota; and queue forced faults:
                               fail_next (next mutating requests), fail_next_any (next
                               requests), each a list of error codes, "reset" or "drop"
    POST /__emulator/advance   {"seconds": N}: move the model clock
    GET  /__emulator/state     every object, each service under its own keys (registry v1:
                               user, namespaces, images with tags; CCE v1: clusters with
                               nodes; CCE v2: "ccev2" with clusters (deleted ones too),
                               instanceGroups, instances, addons, workflows and
                               autoscalers; CCR Enterprise: "ccr" with its instances and what
                               they hold), in the API's shapes, and the
                               model clock
    POST /__emulator/<service>/<action>   what a service offers tests besides its API
                               (``Service.admin``): ccr/push {"project", "repository", "tag",
                               "instance"?} leaves what a docker push to CCR Enterprise leaves;
                               cce_v2/upgrade-master {"clusterID", "k8sVersion"} does what the
                               console's master upgrade does (CCE v2 has no API for it)

Errors use the API's error body (``AccessDenied`` for a non-loopback client, ``InvalidURI``,
``MalformedJSON``, ``InappropriateJSON``).
Not for: anything a real BCE endpoint has.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from .clock import rfc3339
from .errors import ErrorAnswer
from .faults import FaultInjector, Throttle, check_fault
from .requestlog import RequestLog
from .responses import error_response, json_response
from .service import AdminAction, Mounted
from .settings import KNOB_NAMES
from .store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

_ALIASES = {"jitter": "latency_jitter_ms", "jitter_ms": "latency_jitter_ms"}
_QUEUES = {"fail_next": True, "fail_next_any": False}  # name -> mutating requests only


def is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


class AdminApp:
    def __init__(
        self,
        store: Store,
        mounted: Sequence[Mounted[Any]],
        faults: FaultInjector,
        throttle: Throttle,
        requests: RequestLog,
    ) -> None:
        self.store = store
        self.mounted = tuple(mounted)
        self.faults = faults
        self.throttle = throttle
        self.requests = requests
        self._routes: dict[tuple[str, str], Callable[[Request], Any]] = {
            ("POST", "reset"): self.reset,
            ("GET", "requests"): self.request_log,
            ("GET", "faults"): self.get_faults,
            ("POST", "faults"): self.set_faults,
            ("POST", "advance"): self.advance,
            ("GET", "state"): self.state,
        }
        for one in self.mounted:  # a service's own actions: POST /__emulator/<service>/<action>
            for key, action in one.service.admin.items():
                self._routes[("POST", f"{one.service.name}/{key}")] = _action(one.model, action)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request_id = str(uuid.uuid4())
        try:
            if not is_loopback(request.remote_addr):
                raise ErrorAnswer("AccessDenied", "admin endpoints answer loopback clients only")
            name = request.path.removeprefix("/__emulator").strip("/")
            handler = self._routes.get((request.method, name))
            if handler is None:
                raise ErrorAnswer("InvalidURI", f"no admin endpoint {request.method} {name}")
            response = json_response(handler(request), request_id)
        except ErrorAnswer as exc:
            response = error_response(exc.code, request_id, exc.message)
        return response(environ, start_response)

    # -- endpoints -------------------------------------------------------------------------

    def reset(self, request: Request) -> dict[str, Any]:
        self.store.settings.reset()
        self.store.reset()
        self.faults.reset()
        self.throttle.reset()
        self.requests.clear()
        return {"reset": True}

    def request_log(self, request: Request) -> dict[str, Any]:
        since = request.args.get("since", "0")
        if not since.isdigit():
            raise ErrorAnswer("InvalidURI", "since must be a non-negative integer")
        entries, following = self.requests.since(int(since))
        return {"requests": entries, "next": following}

    def get_faults(self, request: Request) -> dict[str, Any]:
        knobs = self.store.settings.current
        return {name: getattr(knobs, name) for name in sorted(KNOB_NAMES)} | self.faults.pending()

    def set_faults(self, request: Request) -> dict[str, Any]:
        body = _json_object(request)
        changes = {_ALIASES.get(key, key): value for key, value in body.items()}
        queues = {key: changes.pop(key) for key in list(changes) if key in _QUEUES}
        try:
            forced = {key: _fault_list(key, value) for key, value in queues.items()}
            knobs = self.store.settings.update(changes)
        except ValueError as exc:
            raise ErrorAnswer("InappropriateJSON", str(exc)) from None
        for key, faults in forced.items():
            self.faults.force(faults, mutating_only=_QUEUES[key])
        if "seed" in changes:
            self.faults.reseed(knobs.seed)
            self.store.reseed(knobs.seed)
        return self.get_faults(request)

    def advance(self, request: Request) -> dict[str, Any]:
        seconds = _json_object(request).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ErrorAnswer("InappropriateJSON", "seconds must be a non-negative number")
        offset = self.store.advance(float(seconds))
        return {"offset": offset, "now": rfc3339(self.store.clock.now())}

    def state(self, request: Request) -> dict[str, Any]:
        return dump_state(self.store, self.mounted)


def _action(model: Any, action: AdminAction[Any]) -> Callable[[Request], Any]:
    return lambda request: action(model, _json_object(request))


def _fault_list(key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings")
    return [check_fault(v) for v in value]


def _json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise ErrorAnswer("MalformedJSON") from None
    if not isinstance(data, dict):
        raise ErrorAnswer("InappropriateJSON", "expected a JSON object")
    return data


def dump_state(store: Store, mounted: Sequence[Mounted[Any]]) -> dict[str, Any]:
    """Every object of every service, in the API's own shapes (plus a few emulator extras)."""
    state: dict[str, Any] = {}
    for one in mounted:
        state.update(one.dump())
    state["clock"] = {"offset": store.clock.offset, "now": rfc3339(store.clock.now())}
    return state
