"""A local CCE v1 emulator: a real HTTP server that verifies bce-auth-v1 signatures, keeps
its state in SQLite, answers with the seed's exact error codes, runs clusters through their
asynchronous lifecycle, and injects latency and faults on demand.

For: tests, demos and ``target.endpoint: local``. ``start_emulator(EmulatorOptions(port=0))``
gives a :class:`RunningEmulator` with ``.url``; ``reconciler emulator`` serves from a terminal.

Layout: ``models`` (+ ``registry``, ``clusters``, ``db``) hold the state; ``handlers`` and
``cluster_handlers`` are thin; ``routes`` is the URL table; ``app`` orders faults, auth and
dispatch; ``admin`` serves ``/__emulator/*``; ``server`` is the threaded werkzeug server.
It imports only ``reconciler.client.signer`` and ``reconciler.error_codes`` from the rest of
the package (tests/emulator/test_imports.py keeps it so).
Not for: talking to the real cloud.
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
from .server import RunningEmulator, start_emulator

__all__ = [
    "DEFAULT_ACCESS_KEY_ID",
    "DEFAULT_DB_PATH",
    "DEFAULT_SECRET_ACCESS_KEY",
    "MEMORY_DB",
    "EmulatorOptions",
    "RunningEmulator",
    "resolve_credentials",
    "start_emulator",
]
