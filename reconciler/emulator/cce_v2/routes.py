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
    Endpoint("GET", "/cluster/<cluster>/instances", h.cluster_instances),
    # day 2 (cce-v2-day2-api.md)
    Endpoint("PUT", "/cluster/<cluster>/forbiddelete", h.forbid_delete),
    Endpoint("GET", "/quota/cluster", h.cluster_quota),
    Endpoint("GET", "/quota/cluster/<cluster>/node", h.node_quota),
    Endpoint("PUT", f"{_GROUP}/configure", h.configure_group),
    Endpoint("PUT", f"{_GROUP}/autoscaler", h.group_autoscaler),
    Endpoint("PUT", f"{_GROUP}/scaleup", h.scale_up),
    Endpoint("GET", "/task/<kind>/<task>", h.get_task),
    Endpoint("GET", "/tasks/<kind>", h.list_tasks),
    Endpoint("POST", "/autoscaler/<cluster>", h.create_autoscaler),
    Endpoint("GET", "/autoscaler/<cluster>", h.get_autoscaler),
    Endpoint("PUT", "/autoscaler/<cluster>", h.update_autoscaler),
    Endpoint("GET", f"{_GROUP}/component_upgrade_versions", h.upgrade_versions),
    Endpoint("POST", "/cluster/<cluster>/workflow", h.create_workflow),
    Endpoint("GET", "/cluster/<cluster>/workflow/<workflow>", h.get_workflow),
    Endpoint("PUT", "/cluster/<cluster>/workflow/<workflow>", h.update_workflow),
    Endpoint("GET", "/cluster/<cluster>/addon", h.list_addons),
    Endpoint("POST", "/cluster/<cluster>/addon", h.install_addon),
    Endpoint("POST", "/cluster/<cluster>/addon/upgrade", h.upgrade_addon),
    Endpoint("PUT", "/cluster/<cluster>/addon", h.update_addon),
    Endpoint("DELETE", "/cluster/<cluster>/addon", h.uninstall_addon),
)
# What the console does where no API exists: POST /__emulator/cce_v2/<name>.
CONSOLE = {"upgrade-master": h.upgrade_master}
