"""CCR Enterprise's URL table, under ``/v1`` on its own host (``ccr.<region>.baidubce.com``):
method, path, handler, as the Go SDK's URL builders make them (``services/eccr/client.go``).

For: what the service answers. The emulator serves it beside CCE on one port: every path
starts with ``/v1/instances``, which no CCE endpoint uses.
Not for: the wiring (:mod:`..router`).
"""

from __future__ import annotations

from ..service import Endpoint
from . import handlers as h
from .models import Ccr

PREFIXES = ("/v1",)
_I = "/instances/<instance>"
_P = _I + "/projects/<project>"
_R = _P + "/repositories/<repository>"

ENDPOINTS: tuple[Endpoint[Ccr], ...] = (
    Endpoint("GET", "/instances", h.list_instances, cacheable=True),
    Endpoint("POST", "/instances", h.create_instance),
    Endpoint("GET", _I, h.get_instance),  # not cacheable: it settles the public endpoint
    Endpoint("PUT", _I, h.update_instance),
    Endpoint("PUT", _I + "/tags", h.set_instance_tags),
    Endpoint("GET", _I + "/projects", h.list_projects, cacheable=True),
    Endpoint("POST", _I + "/projects", h.create_project),
    Endpoint("GET", _P, h.get_project, cacheable=True),
    Endpoint("PUT", _P, h.update_project),
    Endpoint("DELETE", _P, h.delete_project),
    Endpoint("GET", _P + "/repositories", h.list_repositories, cacheable=True),
    Endpoint("GET", _R, h.get_repository, cacheable=True),
    Endpoint("PUT", _R, h.update_repository),
    Endpoint("DELETE", _R, h.delete_repository),
    Endpoint("GET", _I + "/robots", h.list_robots, cacheable=True),
    Endpoint("POST", _I + "/robots", h.create_robot),
    Endpoint("PUT", _I + "/robots/<robot>", h.update_robot),
    Endpoint("DELETE", _I + "/robots/<robot>", h.delete_robot),
    Endpoint("PUT", _I + "/robots/<robot>/secret", h.refresh_robot_secret),
    Endpoint("GET", _I + "/publiclinks", h.get_public_network),
    Endpoint("PUT", _I + "/publiclinks", h.switch_public_network),
    Endpoint("POST", _I + "/publiclinks/whitelist", h.add_whitelist),
    Endpoint("DELETE", _I + "/publiclinks/whitelist", h.delete_whitelist),
    Endpoint("GET", _I + "/privatelinks", h.list_private_networks),
    Endpoint("POST", _I + "/privatelinks", h.create_private_network),
    Endpoint("DELETE", _I + "/privatelinks", h.delete_private_network),
    Endpoint("GET", _I + "/registries", h.list_registries, cacheable=True),
    Endpoint("POST", _I + "/registries", h.create_registry),
    Endpoint("POST", _I + "/registries/ping", h.ping_registry, read_only=True),
    Endpoint("GET", _I + "/registries/<registry>", h.get_registry, cacheable=True),
    Endpoint("PUT", _I + "/registries/<registry>", h.update_registry),
    Endpoint("DELETE", _I + "/registries/<registry>", h.delete_registry),
)
