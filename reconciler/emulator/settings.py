"""Knobs that can change while the emulator runs (``POST /__emulator/faults``).

For: faults, latency, throttling, lifecycle durations and quotas, read by the model and the
fault injector on every request. ``reset()`` returns to the start options.
Not for: things fixed at start (address, database, credentials): see :mod:`.options`.
A knob a new service needs is one field of :class:`Knobs` (and a flag of ``reconciler
emulator`` if it should be set at start).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Knobs:
    """The knobs, each declared once; :class:`.options.EmulatorOptions` starts from them."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    fault_rate: float = 0.0
    seed: int = 0
    throttle_rps: float = 0.0
    create_failure_rate: float = 0.0
    delete_failure_rate: float = 0.0  # CCE v2 clusters: deleting -> delete_failed
    cluster_create_seconds: float = 0.0
    cluster_delete_seconds: float = 0.0
    ccr_network_seconds: float = 0.0  # CCR: public endpoint switch, private link creation
    namespace_quota: int = 10_000
    cluster_quota: int = 100
    slave_quota: int = 1_000
    v2_cluster_quota: int = 100  # CCE v2: clusters per account (GET /quota/cluster)
    v2_node_quota: int = 1_000  # CCE v2: nodes per cluster (GET /quota/cluster/{id}/node)
    workflow_batch_seconds: float = 0.0  # CCE v2: one batch of a node-upgrade workflow
    workflow_failure_rate: float = 0.0  # CCE v2: a node-upgrade workflow ends Failed
    addon_seconds: float = 0.0  # CCE v2: an add-on install, upgrade, update or uninstall

    @classmethod
    def from_options(cls, options: Knobs) -> Knobs:
        """Only the knobs of start options (which add the address, database, credentials)."""
        return cls(**{name: getattr(options, name) for name in KNOB_NAMES})

    def check(self) -> None:
        """ValueError naming the first knob whose value is not allowed."""
        for name in sorted(KNOB_NAMES):
            check_knob(name, getattr(self, name))


KNOB_NAMES = frozenset(f.name for f in dataclasses.fields(Knobs))
_RATES = frozenset(
    {"fault_rate", "create_failure_rate", "delete_failure_rate", "workflow_failure_rate"}
)
_INTEGERS = frozenset(
    {"seed", "namespace_quota", "cluster_quota", "slave_quota", "v2_cluster_quota", "v2_node_quota"}
)


def check_knob(name: str, value: Any) -> float | int:
    """The value as stored, or ValueError naming what is wrong."""
    if name not in KNOB_NAMES:
        raise ValueError(f"unknown setting {name!r}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    if name in _INTEGERS:
        if not isinstance(value, int):
            raise ValueError(f"{name} must be an integer")
        return value
    if name in _RATES and not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return float(value)


class Settings:
    """The current knobs; replaced as a whole so readers never see half an update."""

    def __init__(self, start: Knobs) -> None:
        self._start = start
        self._current = start
        self._lock = threading.Lock()

    @property
    def current(self) -> Knobs:
        return self._current

    def update(self, changes: Mapping[str, Any]) -> Knobs:
        checked: dict[str, Any] = {name: check_knob(name, value) for name, value in changes.items()}
        with self._lock:
            self._current = dataclasses.replace(self._current, **checked)
            return self._current

    def reset(self) -> Knobs:
        with self._lock:
            self._current = self._start
            return self._current
