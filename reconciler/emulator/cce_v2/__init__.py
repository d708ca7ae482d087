"""CCE v2: clusters, instance groups and their instances (``/api/cce/service/v2``, ``/v2``).

``routes`` (URL table), ``handlers`` (thin; the Go SDK's response structs), ``specs``
(request bodies checked into stored specs), ``models`` (tables and lifecycles), ``errors``
(the v2 codes and how requests are read).
"""

from __future__ import annotations

from ..service import Service
from .errors import READ
from .handlers import dump
from .models import SCHEMA, CceV2
from .routes import CONSOLE, ENDPOINTS, PREFIXES

SERVICE = Service(
    name="cce_v2",
    prefixes=PREFIXES,
    endpoints=ENDPOINTS,
    schema=SCHEMA,
    model=CceV2,
    dump=dump,
    read=READ,
    request_id_key="requestID",
    admin=CONSOLE,
)
