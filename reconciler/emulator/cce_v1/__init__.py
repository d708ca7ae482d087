"""CCE v1 clusters and their worker nodes (``/v1/cluster*``, ``/v1/node*``), with lifecycles.

``routes`` (URL table), ``handlers`` (thin; cce-v1-api.md's shapes), ``models`` (rules,
tables and the lifecycle), ``orders`` (reading ``orderContent``), ``errors`` (the codes it
answers).
"""

from __future__ import annotations

from ..service import Service
from .errors import READ
from .handlers import dump
from .models import SCHEMA, Clusters
from .routes import ENDPOINTS

SERVICE = Service(
    name="cce_v1",
    prefixes=("/v1",),
    endpoints=ENDPOINTS,
    schema=SCHEMA,
    model=Clusters,
    dump=dump,
    read=READ,
)
