"""CCE v2's URL table: method, path, handler, served under both ``/api/cce/service/v2`` (the
Go SDK's prefix) and ``/v2`` (the docs').

For: what the service answers. Not for: the wiring (:mod:`..router`).
"""

from __future__ import annotations

from ..service import Endpoint
from . import handlers as h
from .models import CceV2

PREFIXES = ("/api/cce/service/v2", "/v2")
_GROUP = "/cluster/<cluster>/instancegroup/<group>"
ENDPOINTS: tuple[Endpoint[CceV2], ...] = (
    Endpoint("POST", "/cluster", h.create_cluster),
    Endpoint("GET", "/clusters", h.list_clusters),
    Endpoint("GET", "/cluster/<cluster>", h.get_cluster),
    Endpoint("DELETE", "/cluster/<cluster>", h.delete_cluster),
    Endpoint("GET", "/kubeconfig/<cluster>/<kind>", h.kubeconfig),
    Endpoint("POST", "/cluster/<cluster>/instancegroup", h.create_group),
    Endpoint("GET", "/cluster/<cluster>/instancegroups", h.list_groups),
    Endpoint("GET", _GROUP, h.get_group),
    Endpoint("DELETE", _GROUP, h.delete_group),
    Endpoint("PUT", f"{_GROUP}/replicas", h.update_replicas),
    Endpoint("PUT", f"{_GROUP}/scaledown", h.scale_down),
    Endpoint("GET", f"{_GROUP}/instances", h.group_instances),
)
