"""The URL table of the emulated API: (path, method) -> endpoint name -> handler.

For: matching a request to a handler, and saying which requests mutate (for the request log
and the "commit then drop the response" fault). Unknown paths under ``/v1`` (or a v2 prefix,
``/v2`` or ``/api/cce/service/v2``) are ``InvalidURI``; any other start is ``InvalidVersion``.
Not for: the admin endpoints (see :mod:`.admin`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from . import ccev2_handlers, cluster_handlers, registry_handlers
from .call import Handler
from .ccr import routes as ccr_routes
from .error_answer import ErrorAnswer

_RULES: tuple[tuple[str, str, str], ...] = (
    ("/v1/cluster", "GET", "cluster.get"),
    ("/v1/cluster", "POST", "cluster.post"),
    ("/v1/cluster/versions", "GET", "cluster.versions"),
    ("/v1/cluster/kubeconfig", "GET", "cluster.kubeconfig"),
    ("/v1/cluster/get_container_net", "POST", "cluster.get_container_net"),
    ("/v1/cluster/check_container_net", "POST", "cluster.check_container_net"),
    ("/v1/cluster/existed_node", "POST", "cluster.existed_node"),
    ("/v1/cluster/existed_bcc_node/list", "POST", "cluster.existed_bcc_nodes"),
    ("/v1/cluster/cluster_upgrade/upgrade", "POST", "cluster.upgrade"),
    ("/v1/cluster/<cluster>", "GET", "cluster.detail"),
    ("/v1/cluster/<cluster>", "DELETE", "cluster.delete"),
    ("/v1/node", "GET", "node.list"),
    ("/v1/node/flavor/list", "POST", "node.flavors"),
    ("/v1/image/user", "POST", "user.create"),
    ("/v1/image/user", "GET", "user.get"),
    ("/v1/image/user", "PUT", "user.update"),
    ("/v1/image/namespace", "POST", "namespace.create"),
    ("/v1/image/namespace", "GET", "namespace.list"),
    ("/v1/image/namespace/<path:namespace>", "GET", "namespace.get"),
    ("/v1/image/namespace/<path:namespace>", "DELETE", "namespace.delete"),
    ("/v1/image/meta", "POST", "meta.create"),
    ("/v1/image/meta", "GET", "meta.get"),
    ("/v1/image/meta", "DELETE", "meta.delete"),
    ("/v1/image", "GET", "image.list"),
)
# POSTs that only compute an answer; every other POST, PUT and DELETE changes state.
READ_ONLY_POSTS = frozenset(
    {
        "cluster.get_container_net",
        "cluster.check_container_net",
        "cluster.existed_bcc_nodes",
        "node.flavors",
    }
)
# Reads whose answer depends only on stored data (not on the clock): cached per write.
CACHEABLE = frozenset(
    {"user.get", "namespace.list", "namespace.get", "meta.get", "image.list"}
    | {f"ccr.{handler.__name__}" for _, _, handler, cacheable in ccr_routes.ENDPOINTS if cacheable}
)
MUTATING_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
API_VERSION = "v1"
# CCE v2: every endpoint under both spellings (the SDK's long prefix and the docs' /v2).
_V2_RULES = tuple(
    (prefix + path, method, name)
    for prefix in ccev2_handlers.PREFIXES
    for path, method, name in ccev2_handlers.RULES
)
V2_ENDPOINTS = frozenset(ccev2_handlers.HANDLERS)
# CCR Enterprise, its own service folder (emulator/ccr/): every path under /v1/instances.
_CCR = {
    f"ccr.{handler.__name__}": (ccr_routes.PREFIX + path, method, handler, cacheable)
    for method, path, handler, cacheable in ccr_routes.ENDPOINTS
}
_CCR_RULES = tuple((path, method, name) for name, (path, method, _, _) in _CCR.items())

URL_MAP = Map(
    [
        Rule(path, methods=[method], endpoint=name)
        for path, method, name in _RULES + _V2_RULES + _CCR_RULES
    ],
    strict_slashes=False,
    merge_slashes=False,
)
HANDLERS: dict[str, Handler] = {
    **registry_handlers.HANDLERS,
    **cluster_handlers.HANDLERS,
    **ccev2_handlers.HANDLERS,
    **{name: handler for name, (_, _, handler, _) in _CCR.items()},
}
_ADAPTER = URL_MAP.bind("emulator")


@dataclass(frozen=True)
class Route:
    endpoint: str | None  # None: no rule matches
    variables: Mapping[str, str]
    mutating: bool

    @property
    def handler(self) -> Handler:
        if self.endpoint is None:
            raise ErrorAnswer("InvalidURI")
        return HANDLERS[self.endpoint]


def match(method: str, path: str) -> Route:
    """The route for a request; an unmatched one mutates unless it is a GET."""
    try:
        endpoint, variables = _ADAPTER.match(path, method=method)
    except HTTPException:  # NotFound, MethodNotAllowed, RequestRedirect
        return Route(None, {}, method.upper() in MUTATING_METHODS)
    mutating = method.upper() in MUTATING_METHODS and endpoint not in READ_ONLY_POSTS
    return Route(str(endpoint), variables, mutating)


def check_version(path: str) -> None:
    if path.split("/")[1:2] == [API_VERSION]:
        return
    if any(path == p or path.startswith(p + "/") for p in ccev2_handlers.PREFIXES):
        return
    raise ErrorAnswer("InvalidVersion")
