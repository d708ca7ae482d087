"""The contract between the shared emulator and a service folder (``registry_v1/`` ...).

For: what a service declares, once, in its ``__init__.py`` as ``SERVICE = Service(...)``:
its URL prefixes, its endpoints (method, path, handler), its tables, how its model is built,
what it shows in ``GET /__emulator/state`` and the admin actions it offers tests, and two
answer conventions. The shared parts
(:mod:`.server` wires the list, :mod:`.router`, :mod:`.app`, :mod:`.admin`) read only this.
Not for: anything a service does (its own ``routes``, ``handlers``, ``models``, ``errors``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .call import Handler
from .params import BCE_JSON, Reader
from .store import Store

M = TypeVar("M")
AdminAction = Callable[[M, dict[str, Any]], dict[str, Any]]
MUTATING_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


@dataclass(frozen=True)
class Endpoint(Generic[M]):
    """One operation: ``method`` on ``path`` (a werkzeug rule such as ``/cluster/<cluster>``,
    served under each prefix of the service) runs ``handler``."""

    method: str
    path: str
    handler: Handler[M]
    read_only: bool = False  # a POST that only computes an answer (not logged as mutating)
    # the answer depends only on stored data (not on the clock): reused until the next write
    cacheable: bool = False

    @property
    def mutating(self) -> bool:
        return self.method.upper() in MUTATING_METHODS and not self.read_only


@dataclass(frozen=True)
class Service(Generic[M]):
    name: str  # the folder's name
    prefixes: tuple[str, ...]  # "/v1"; a request under none of any service's is InvalidVersion
    endpoints: tuple[Endpoint[M], ...]
    schema: str  # CREATE TABLE IF NOT EXISTS ... for its tables (no name another service uses)
    model: Callable[[Store], M]  # built once per emulator; keeps all its state in its tables
    dump: Callable[[M], dict[str, Any]]  # its top-level keys of GET /__emulator/state
    read: Reader = BCE_JSON  # how its bodies and queries are read, and the errors they get
    request_id_key: str | None = None  # every success body carries the request id (v2 "requestID")
    # test-side actions with no API call (a docker push to CCR): POST /__emulator/<name>/<key>
    # with a JSON object, answered with the action's object
    admin: Mapping[str, AdminAction[M]] = field(default_factory=dict)


@dataclass(frozen=True)
class Mounted(Generic[M]):
    """A service and its model, as one running emulator serves it."""

    service: Service[M]
    model: M

    def dump(self) -> dict[str, Any]:
        return self.service.dump(self.model)


def mount(service: Service[M], store: Store) -> Mounted[M]:
    return Mounted(service, service.model(store))
