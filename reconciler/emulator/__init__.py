"""A local emulator of the Baidu AI Cloud APIs this tool manages: a real HTTP server that
verifies bce-auth-v1 signatures, keeps its state in SQLite, answers with the services' exact
error codes, runs clusters through their asynchronous lifecycles, and injects latency and
faults on demand.

For: tests, demos and ``target.endpoint: local``. ``start_emulator(EmulatorOptions(port=0))``
gives a :class:`RunningEmulator` with ``.url``; ``reconciler emulator`` serves from a terminal.
Not for: talking to the real cloud.

Layout: one folder per service, and shared parts wired once.

- ``registry_v1/`` the image registry, ``cce_v1/`` CCE v1 clusters and nodes, ``cce_v2/`` CCE v2
  clusters and instance groups; each holds ``routes`` (its URL table), ``handlers`` (thin: read
  parameters, call the model, serialise), ``models`` (rules, tables, the lifecycle clock) and
  ``errors`` (the codes it answers, and how it reads requests).
- ``server`` lists the services (``SERVICES``) and wires them to one ``store`` (database, model
  clock, random source, settings) in ``build()``; ``router`` matches requests over every
  service; ``app`` orders throttle, faults, auth, version check, dispatch and answers
  (``responses``, ``cache``, ``requestlog``); ``admin`` serves ``/__emulator/*``.
- Shared helpers every service uses: ``call`` (what a handler receives), ``params`` (typed
  reads of bodies and queries in a service's dialect), ``paging`` (marker and numbered
  paging), ``lifecycle`` (steps due on the model clock, applied lazily), ``errors``
  (``ErrorAnswer``), ``clock``, ``rng``, ``db``, ``settings`` and ``options`` (the knobs).

The service contract (:mod:`.service`). A service is a folder whose ``__init__.py`` defines
``SERVICE = Service(...)``, added to ``server.SERVICES`` with one line. It declares:

- ``name``: the folder's name; ``prefixes``: where its URLs live (``("/v1",)``); a request under
  no service's prefix is ``InvalidVersion``, an unmatched one under a prefix ``InvalidURI``;
- ``endpoints``: ``Endpoint(method, path, handler, read_only=False, cacheable=False)`` rows; a
  handler takes a ``Call[Model]`` (``call.model``, ``.arg()``, ``.json()``, ``.page()``,
  ``.numbered_page()``, ``.path``) and returns a JSON-able dict or ``None``; two services
  serving the same rule is an error at start;
- ``schema``: ``CREATE TABLE IF NOT EXISTS`` statements for its own tables (reset empties them);
- ``model``: ``Model(store)``, built once; it keeps all its state in its tables, raises
  ``ErrorAnswer(code)`` (codes from ``reconciler/error_codes.py``) and, if its objects change
  on their own, settles them through a ``lifecycle.Lifecycle``;
- ``dump(model)``: its top-level keys of ``GET /__emulator/state``;
- ``read``: its ``params.Reader`` (default ``BCE_JSON``); ``request_id_key``: set when every
  success body carries the request id (CCE v2's ``"requestID"``).

Faults, throttling, authentication, the request log and the admin endpoints then apply to it
with no further change. A knob it needs is a field of ``settings.Knobs``.
It imports only ``reconciler.client.signer`` and ``reconciler.error_codes`` from the rest of
the package (tests/emulator/test_imports.py keeps it so).
"""

from __future__ import annotations

from .options import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_DB_PATH,
    DEFAULT_SECRET_ACCESS_KEY,
    MEMORY_DB,
    EmulatorOptions,
    resolve_credentials,
)
from .server import SERVICES, RunningEmulator, start_emulator
from .service import Endpoint, Service

__all__ = [
    "DEFAULT_ACCESS_KEY_ID",
    "DEFAULT_DB_PATH",
    "DEFAULT_SECRET_ACCESS_KEY",
    "MEMORY_DB",
    "SERVICES",
    "Endpoint",
    "EmulatorOptions",
    "RunningEmulator",
    "Service",
    "resolve_credentials",
    "start_emulator",
]
