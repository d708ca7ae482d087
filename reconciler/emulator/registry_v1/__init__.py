"""The image registry (CCE v1 ``/v1/image*``): the account's user, namespaces, repositories, tags.

``routes`` (URL table), ``handlers`` (thin; the PROVISIONAL wire shapes), ``models`` (rules
and tables), ``errors`` (the codes it answers).
"""

from __future__ import annotations

from ..service import Service
from .errors import READ
from .handlers import dump
from .models import SCHEMA, Registry
from .routes import ENDPOINTS

SERVICE = Service(
    name="registry_v1",
    prefixes=("/v1",),
    endpoints=ENDPOINTS,
    schema=SCHEMA,
    model=Registry,
    dump=dump,
    read=READ,
)
