"""CCR Enterprise's URL table, under ``/v1`` on its own host (``ccr.<region>.baidubce.com``):
method, path, handler, as the Go SDK's URL builders make them (``services/eccr/client.go``).

For: what the service answers. The emulator serves it beside CCE on one port: every path
starts with ``/v1/instances``, which no CCE endpoint uses.
Not for: the wiring (:mod:`..routes`).
"""

from __future__ import annotations

from ..call import Handler
from . import handlers as h

PREFIX = "/v1"
_I = "/instances/<instance>"
_P = _I + "/projects/<project>"
_R = _P + "/repositories/<repository>"

# (method, path under PREFIX, handler, cacheable: the answer depends only on stored data)
ENDPOINTS: tuple[tuple[str, str, Handler, bool], ...] = (
    ("GET", "/instances", h.list_instances, True),
    ("POST", "/instances", h.create_instance, False),
    ("GET", _I, h.get_instance, False),  # settles the public endpoint
    ("PUT", _I, h.update_instance, False),
    ("PUT", _I + "/tags", h.set_instance_tags, False),
    ("GET", _I + "/projects", h.list_projects, True),
    ("POST", _I + "/projects", h.create_project, False),
    ("GET", _P, h.get_project, True),
    ("PUT", _P, h.update_project, False),
    ("DELETE", _P, h.delete_project, False),
    ("GET", _P + "/repositories", h.list_repositories, True),
    ("GET", _R, h.get_repository, True),
    ("PUT", _R, h.update_repository, False),
    ("DELETE", _R, h.delete_repository, False),
    ("GET", _I + "/robots", h.list_robots, True),
    ("POST", _I + "/robots", h.create_robot, False),
    ("PUT", _I + "/robots/<robot>", h.update_robot, False),
    ("DELETE", _I + "/robots/<robot>", h.delete_robot, False),
    ("PUT", _I + "/robots/<robot>/secret", h.refresh_robot_secret, False),
    ("GET", _I + "/publiclinks", h.get_public_network, False),
    ("PUT", _I + "/publiclinks", h.switch_public_network, False),
    ("POST", _I + "/publiclinks/whitelist", h.add_whitelist, False),
    ("DELETE", _I + "/publiclinks/whitelist", h.delete_whitelist, False),
    ("GET", _I + "/privatelinks", h.list_private_networks, False),
    ("POST", _I + "/privatelinks", h.create_private_network, False),
    ("DELETE", _I + "/privatelinks", h.delete_private_network, False),
    ("GET", _I + "/registries", h.list_registries, True),
    ("POST", _I + "/registries", h.create_registry, False),
    ("POST", _I + "/registries/ping", h.ping_registry, False),
    ("GET", _I + "/registries/<registry>", h.get_registry, True),
    ("PUT", _I + "/registries/<registry>", h.update_registry, False),
    ("DELETE", _I + "/registries/<registry>", h.delete_registry, False),
)
