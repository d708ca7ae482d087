"""CCR Enterprise (``ccr.<region>.baidubce.com``): instances, projects, repositories, robot
accounts, network access and remote registries, as the official Go SDK (``services/eccr``)
sends and decodes them (shared/ccr-enterprise-api.md).

``routes`` (URL table), ``handlers`` (thin; the SDK's wire shapes), ``models`` (rules, tables,
the emulator's choices where the facts are not established), ``errors`` (the codes it answers
and how it reads requests). Its admin action ``push`` (``POST /__emulator/ccr/push``) stands
for a ``docker push``: CCR has no call that creates a repository.
"""

from __future__ import annotations

from ..service import Service
from .errors import READ
from .handlers import dump, push
from .models import SCHEMA, Ccr
from .routes import ENDPOINTS, PREFIXES

SERVICE = Service(
    name="ccr",
    prefixes=PREFIXES,
    endpoints=ENDPOINTS,
    schema=SCHEMA,
    model=Ccr,
    dump=dump,
    read=READ,
    admin={"push": push},
)
