"""Value types shared by the pipeline: addresses, desired resources, the desired state.

Frozen dataclasses only; no I/O, no imports from the engine. A desired resource (:class:`Spec`)
holds what the user declared, as its kind's field table reads it: a key that was not declared
and has no default is absent, and never compared. ``location`` points at the YAML node that
declared the resource and is not part of equality. What kinds exist is the registry's
(``reconciler.kinds``): nothing here names one, and what needs the kinds' names (to refuse an
address of an unknown kind, to count per kind) is given them by its caller.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import field
from enum import StrEnum
from typing import Any

from reconciler.records import frozen_record


@frozen_record(order=True)
class Address:
    """``kind.name``: ``user.ccetest``, ``namespace.team-a``, ``repository.team-a/api``."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}.{self.name}"

    @classmethod
    def parse(cls, text: str, known: Sequence[str]) -> Address:
        """``text`` as an address whose kind is one of ``known`` (the registry's names, in
        dependency order: ``reconciler.kinds.names()``), or a ValueError listing them."""
        kind, sep, name = text.partition(".")
        if not sep or kind not in known or not name:
            raise ValueError(
                f"{text!r} is not an address; expected KIND.NAME with KIND one of {', '.join(known)}"
            )
        return cls(kind, name)


@frozen_record
class Location:
    """Where something was declared: a file, line and column."""

    path: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


NOWHERE = Location("<none>", 0, 0)


@frozen_record
class SecretRef:
    """A secret given by reference; exactly one of ``env`` / ``file`` is set."""

    env: str | None = None
    file: str | None = None

    def __str__(self) -> str:
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"


@frozen_record
class Lifecycle:
    """``protect=None`` means the block (or key) was not declared: state keeps what it had.
    ``reconcile`` narrows what ``reconciler watch`` may do with the resource (``observe``,
    ``warn`` or ``enforce``; None: the watch's mode); plan and apply ignore it."""

    protect: bool | None = None
    reconcile: str | None = None


@frozen_record
class LiveObject:
    """One object as read from the API, normalised to the attributes a desired spec declares."""

    address: Address
    cloud_id: str
    attrs: Mapping[str, Any]
    status: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)  # e.g. a cluster's nodes
    # Why the answers this object was read from contradict each other (a cluster's node count
    # and its node list), naming the requests; "" when they agree. Not part of the fingerprint:
    # the kind refuses to compute a change from it (``update_step`` raises a ShapeError).
    doubt: str = field(default="", compare=False)


@frozen_record
class Spec:
    """One declared resource, as its kind's field table built it from the YAML
    (``reconciler.kinds.fields``): ``attrs`` holds the declared values, keyed by their YAML key,
    with defaults filled in and normalised (what the planner compares with the live object);
    ``secrets`` the secret references by field path (``workers.adminPassword``), never values."""

    address: Address
    attrs: Mapping[str, Any]
    secrets: Mapping[str, SecretRef] = field(default_factory=dict)
    lifecycle: Lifecycle = Lifecycle()
    location: Location = field(default=NOWHERE, compare=False)

    @property
    def name(self) -> str:
        return self.address.name


@frozen_record
class Target:
    """Where the resources live: a region (``https://cce.<region>.baidubce.com``) or an endpoint.

    ``endpoint == "local"`` means the embedded emulator under ``.reconciler/``.
    """

    region: str | None = None
    endpoint: str | None = None
    ccr_endpoint: str | None = None  # CCR Enterprise, when not the one beside the CCE endpoint
    location: Location = field(default=NOWHERE, compare=False)

    def url(self) -> str:
        if self.endpoint:
            return self.endpoint
        return f"https://cce.{self.region or 'bj'}.baidubce.com"


@frozen_record
class ConfigChoice:
    """Which configuration a run loads besides its paths: ``--env``, ``--var-file``, ``--var``."""

    env: str | None = None
    var_files: tuple[str, ...] = ()
    var_args: tuple[str, ...] = ()


NO_CHOICE = ConfigChoice()


class PlanMode(StrEnum):
    """What a plan is for, from the command line to the saved plan (Terraform's ``plans.Mode``):
    make the cloud match the configuration, delete everything the state manages, or only
    record what changed outside the reconciler."""

    NORMAL = "normal"
    DESTROY = "destroy"
    REFRESH_ONLY = "refresh-only"


@frozen_record
class DesiredState:
    """Every declared resource by address, and the existing objects declared ``imports`` adopt:
    what the configuration wants, and nothing about where the run lives (the target, the files
    and folders: ``reconciler.context.RunContext``)."""

    resources: Mapping[Address, Spec]
    # ``imports``: a declared address -> the id of the existing object it adopts
    imports: Mapping[Address, str] = field(default_factory=dict)
    # (address, secret name) -> where its reference's value is written, for error messages
    secret_locations: Mapping[tuple[Address, str], Location] = field(
        default_factory=dict, compare=False
    )

    @functools.cached_property
    def _first_by_kind(self) -> dict[str, Address]:
        first: dict[str, Address] = {}
        for address in self.resources:
            first.setdefault(address.kind, address)
        return first

    def first_of_kind(self, kind: str) -> Address | None:
        """The first declared address of ``kind`` (config order), computed once per state."""
        return self._first_by_kind.get(kind)

    @functools.cached_property
    def _by_kind(self) -> dict[str, list[Address]]:
        by_kind: dict[str, list[Address]] = {}
        for address in self.resources:
            by_kind.setdefault(address.kind, []).append(address)
        return by_kind

    def of_kind(self, kind: str) -> list[Spec]:
        """The declared resources of ``kind``, in address order (grouped once per state: a
        refresh and a plan ask for a few kinds among 100,000 resources)."""
        return [self.resources[a] for a in sorted(self._by_kind.get(kind, ()))]

    def counts(self, kinds: Sequence[str]) -> dict[str, int]:
        """How many resources of each of ``kinds`` (the registry's names) are declared."""
        found = Counter(a.kind for a in self.resources)
        return {kind: found[kind] for kind in kinds}


class Action(StrEnum):
    NOOP = "noop"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    FORGET = "forget"
    IMPORT = "import"  # adopt an existing unmanaged object into state; nothing is sent
