"""The image registry's URL table (under ``/v1``): method, path, handler.

For: what the service answers; reads whose answer depends only on stored data are cacheable.
Not for: the wiring (:mod:`..router`).
"""

from __future__ import annotations

from ..service import Endpoint
from . import handlers as h
from .models import Registry

ENDPOINTS: tuple[Endpoint[Registry], ...] = (
    Endpoint("POST", "/image/user", h.create_user),
    Endpoint("GET", "/image/user", h.get_user, cacheable=True),
    Endpoint("PUT", "/image/user", h.update_user),
    Endpoint("POST", "/image/namespace", h.create_namespace),
    Endpoint("GET", "/image/namespace", h.list_namespaces, cacheable=True),
    Endpoint("GET", "/image/namespace/<path:namespace>", h.get_namespace, cacheable=True),
    Endpoint("DELETE", "/image/namespace/<path:namespace>", h.delete_namespace),
    Endpoint("POST", "/image/meta", h.create_meta),
    Endpoint("GET", "/image/meta", h.get_meta, cacheable=True),
    Endpoint("DELETE", "/image/meta", h.delete_meta),
    Endpoint("GET", "/image", h.list_images, cacheable=True),
)
