"""The command line's options as typed values, one per concern.

For: :class:`StateChoice` (``--state``, ``--workspace``), :class:`RunOptions` (how a run reaches
the cloud) and :class:`PlanOptions` (what plan, apply and destroy are asked for); with
``model.ConfigChoice`` (``--env``, ``--var-file``, ``--var``) these are what
``commands.common`` hands a command. Values only: importing this module costs nothing.
Not for: resolving where a run lives (``context``) or running it (``session``).
"""

from __future__ import annotations

from reconciler.model import PlanMode
from reconciler.records import frozen_record

DEFAULT_WORKSPACE = "default"


@frozen_record
class StateChoice:
    """``--state`` (a path or a ``postgresql://`` URL) and ``--workspace``, as given."""

    state: str | None = None
    workspace: str = DEFAULT_WORKSPACE


NO_STATE_CHOICE = StateChoice()


@frozen_record
class RunOptions:
    """How a run reaches the cloud: ``--parallelism``, ``--rate``, ``--retry-budget``."""

    parallelism: int = 10
    rate: float | None = None
    retry_budget: int = 50


@frozen_record
class PlanOptions:
    """What plan, apply and destroy are asked for besides the configuration: the mode, the
    addresses of ``--target`` and ``--replace`` (as typed), ``--adopt``, ``--allow-deletes``
    and ``--lock-timeout`` (seconds)."""

    mode: PlanMode = PlanMode.NORMAL
    targets: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()
    adopt: bool = False
    allow_deletes: int | None = None
    lock_timeout: float = 0.0
