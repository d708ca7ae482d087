"""The emulator's start options: one frozen value shared by the command, the tests and `local`.

For: every knob of ``reconciler emulator`` and where credentials come from.
Not for: settings that change while the emulator runs (see :mod:`.settings`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# The documented pair accepted when neither flags nor BCE_* variables give credentials.
DEFAULT_ACCESS_KEY_ID = "emulator-access-key-id"
DEFAULT_SECRET_ACCESS_KEY = "emulator-secret-access-key"
DEFAULT_DB_PATH = ".reconciler/emulator.db"
MEMORY_DB = ":memory:"


@dataclass(frozen=True)
class EmulatorOptions:
    """Everything needed to start an emulator; ``port=0`` picks a free port."""

    host: str = "127.0.0.1"
    port: int = 8765
    db_path: str = DEFAULT_DB_PATH
    access_key_id: str = DEFAULT_ACCESS_KEY_ID
    secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY
    region: str = "bj"
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    fault_rate: float = 0.0
    seed: int = 0
    cluster_create_seconds: float = 5.0
    cluster_delete_seconds: float = 3.0
    ccr_network_seconds: float = 0.0  # CCR: the public endpoint switch, a private link
    create_failure_rate: float = 0.0
    delete_failure_rate: float = 0.0
    namespace_quota: int = 10_000
    cluster_quota: int = 100
    slave_quota: int = 1_000
    throttle_rps: float = 0.0  # 0 = no throttling

    def __post_init__(self) -> None:
        for name in ("fault_rate", "create_failure_rate", "delete_failure_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("latency_ms", "latency_jitter_ms", "throttle_rps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("cluster_create_seconds", "cluster_delete_seconds", "ccr_network_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
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
