"""CCE v1's URL table for clusters and nodes (under ``/v1``): method, path, handler.

For: what the service answers. ``/v1/cluster`` carries several operations told apart by a query
key; their handlers dispatch. POSTs that only compute an answer are ``read_only``.
Not for: the wiring (:mod:`..router`).
"""

from __future__ import annotations

from ..service import Endpoint
from . import handlers as h
from .models import Clusters

ENDPOINTS: tuple[Endpoint[Clusters], ...] = (
    Endpoint("GET", "/cluster", h.cluster_get),
    Endpoint("POST", "/cluster", h.cluster_post),
    Endpoint("GET", "/cluster/versions", h.versions),
    Endpoint("GET", "/cluster/kubeconfig", h.kubeconfig),
    Endpoint("POST", "/cluster/get_container_net", h.get_container_net, read_only=True),
    Endpoint("POST", "/cluster/check_container_net", h.check_container_net, read_only=True),
    Endpoint("POST", "/cluster/existed_node", h.existed_node),
    Endpoint("POST", "/cluster/existed_bcc_node/list", h.existed_bcc_nodes, read_only=True),
    Endpoint("POST", "/cluster/cluster_upgrade/upgrade", h.upgrade),
    Endpoint("GET", "/cluster/<cluster>", h.get_cluster),
    Endpoint("DELETE", "/cluster/<cluster>", h.delete_cluster),
    Endpoint("GET", "/node", h.list_nodes),
    Endpoint("POST", "/node/flavor/list", h.flavors, read_only=True),
)
