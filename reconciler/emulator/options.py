"""The emulator's start options: one frozen value shared by the command, the tests and `local`.

For: every flag of ``reconciler emulator`` and where credentials come from. The knobs are
declared once, in :class:`.settings.Knobs`.
Not for: settings that change while the emulator runs (see :mod:`.settings`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .settings import Knobs

# The documented pair accepted when neither flags nor BCE_* variables give credentials.
DEFAULT_ACCESS_KEY_ID = "emulator-access-key-id"
DEFAULT_SECRET_ACCESS_KEY = "emulator-secret-access-key"
DEFAULT_DB_PATH = ".reconciler/emulator.db"
MEMORY_DB = ":memory:"


@dataclass(frozen=True)
class EmulatorOptions(Knobs):
    """Everything needed to start an emulator: the knobs' start values (with longer lifecycles
    than :class:`Knobs`, so a demo shows them) plus what is fixed at start; ``port=0`` picks a
    free port."""

    cluster_create_seconds: float = 5.0
    cluster_delete_seconds: float = 3.0
    host: str = "127.0.0.1"
    port: int = 8765
    db_path: str = DEFAULT_DB_PATH
    access_key_id: str = DEFAULT_ACCESS_KEY_ID
    secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY
    region: str = "bj"

    def __post_init__(self) -> None:
        self.check()
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")


def resolve_credentials(
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """Flags first, then BCE_ACCESS_KEY_ID / BCE_SECRET_ACCESS_KEY, then the documented pair."""
    if access_key_id and secret_access_key:
        return access_key_id, secret_access_key
    env = os.environ if environ is None else environ
    env_ak, env_sk = env.get("BCE_ACCESS_KEY_ID"), env.get("BCE_SECRET_ACCESS_KEY")
    if env_ak and env_sk:
        return env_ak, env_sk
    return DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY
