"""What the typed clients share: building one on a signed transport, from the environment or
explicitly, closing it, and its statistics. Not for: any API call (``v1.py``, ``v2.py``,
``ccr.py``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from reconciler.client.budget import Budgets, HostBudget
from reconciler.client.credentials import Credentials, endpoint_for
from reconciler.client.retry import RetryBudget
from reconciler.client.transport import Transport, TransportConfig, TransportStats
from reconciler.errors import RequestsStopped

__all__ = ["ClientBase", "RequestsStopped"]


class ClientBase:
    """A typed client over one :class:`Transport`. Thread-safe: share it between workers."""

    DEFAULT_PAGE_SIZE: ClassVar[int]
    MAX_PAGE_SIZE: ClassVar[int]

    def __init__(self, transport: Transport, *, page_size: int | None = None, **_: Any) -> None:
        page_size = self.DEFAULT_PAGE_SIZE if page_size is None else page_size
        if not 1 <= page_size <= self.MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{self.MAX_PAGE_SIZE}")
        self.transport = transport
        self.page_size = page_size

    def stop_sending(self) -> None:
        """Send no request and no retry from now on, here and in the clients made from this
        one (they share the transport's stop): :meth:`Transport.stop_sending`."""
        self.transport.stop_sending()

    def tried_once(self) -> Self:
        """This client with each request tried once (:meth:`Transport.tried_once`), stopped
        by this one's ``stop_sending``; its v2 and CCR clients are made anew from it."""
        once = copy.copy(self)
        once.transport = self.transport.tried_once()
        for made in ("v2", "ccr"):  # cached_property values of the retrying client
            once.__dict__.pop(made, None)
        return once

    @classmethod
    def connect(
        cls,
        endpoint: str,
        credentials: Credentials,
        config: TransportConfig | None = None,
        *,
        budget: RetryBudget | None = None,
        page_size: int | None = None,
        host_budget: HostBudget | None = None,
        **options: Any,
    ) -> Self:
        """``options`` go to the client's constructor (``ccr_endpoint`` for the CCE client)."""
        transport = Transport(endpoint, credentials, config, budget=budget, host_budget=host_budget)
        return cls(transport, page_size=page_size, **options)

    @classmethod
    def from_environment(
        cls,
        endpoint_url: str | None = None,
        *,
        region: str | None = None,
        config: TransportConfig | None = None,
        environ: Mapping[str, str] | None = None,
        budget: RetryBudget | None = None,
        page_size: int | None = None,
        host_budgets: Budgets | None = None,
        **options: Any,
    ) -> Self:
        """A client for ``endpoint_url`` (or the region's endpoint), with credentials from
        BCE_ACCESS_KEY_ID / BCE_SECRET_ACCESS_KEY / BCE_SESSION_TOKEN; ``host_budgets``: the
        process's shared budget of that endpoint's host."""
        endpoint = endpoint_for(region, endpoint_url)
        credentials = Credentials.from_environment(environ)
        shared = host_budgets.for_endpoint(endpoint) if host_budgets else None
        return cls.connect(
            endpoint,
            credentials,
            config,
            budget=budget,
            page_size=page_size,
            host_budget=shared,
            **options,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.transport!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def stats(self) -> TransportStats:
        return self.transport.stats()
