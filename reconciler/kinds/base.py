"""The Kind interface: everything the engine needs to know about one kind of resource.

A kind module (``user``, ``namespace``, ``repository``, ``cluster``, ...) defines one subclass of
:class:`Kind` and the registry in ``reconciler.kinds`` lists one instance of each, in dependency
order. The planner, refresh, recovery, apply and import call these methods without knowing which
kind they hold (Terraform's ``providers.Interface``; pyinfra's facts and operations):

- planning (pure): ``desired_attrs``, ``secret_refs``, ``forces_replacement``, ``dependencies``,
  ``container_of``, ``is_gone``, ``health``, ``update_step``;
- reading (through ``reconciler.client`` only): ``read_all`` (list calls for a refresh) and
  ``read_one`` (an object the list left out, after a lost answer, for ``import``);
- changing (through an :class:`Operations` context the executor provides): ``create``,
  ``update``, ``delete``, each with its waits;
- moving from Terraform (pure): ``terraform`` names the provider's resource type and where it
  keeps secrets, and ``from_terraform`` reads one instance of it as a :class:`LiveObject`.

A kind's wire shapes (request bodies, response field names) are known only to its module and to
``reconciler.client``. Not for: ordering, journaling, guards or retries (the executor's job).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from reconciler.errors import OutcomeUnknownError, ReconcilerError
from reconciler.model import Address, DesiredState, SecretRef, plural

if TYPE_CHECKING:
    from reconciler.client.v1 import CceClient
    from reconciler.client.v2 import CceV2Client
    from reconciler.plan import Change, ScaleStep
    from reconciler.state import ResourceState, State
    from reconciler.waiters import Waiter


@dataclass(frozen=True)
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


# What ``Kind.health`` says about a live object.
HEALTHY = "healthy"
FAILED_CREATE = "failed_create"  # never came up: replaced without --replace
BROKEN = "broken"  # worked once, now unusable: replacing it must be asked for


@dataclass(frozen=True)
class TerraformSecret:
    """A secret the Terraform provider keeps in its state: the secret here that declares it
    (``None``: no field here) and the variable of the ``{env: ...}`` placeholder written in its
    place. The value itself is never copied."""

    attribute: str | None = None
    placeholder: str | None = None


@dataclass(frozen=True)
class TerraformType:
    """The resource type of the ``baidubce/baiducloud`` provider a kind corresponds to.

    Paths are the provider's attribute paths, with ``0`` for the one element of a nested block
    and ``*`` for any element (``spec.0.instance_template.0.admin_password``)."""

    name: str  # "baiducloud_ccev2_cluster"
    secrets: Mapping[str, TerraformSecret] = field(default_factory=dict)
    # What the provider stores that has no field here (yet), with the value that counts as
    # unset besides null and zero values (None: none): reported when set, never copied.
    no_field: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TerraformRecord:
    """One Terraform resource instance read by its kind: the object as Terraform recorded it
    (attributes in the shape of ``desired_attrs``) and what the kind derived along the way."""

    live: LiveObject
    notes: tuple[str, ...] = ()


class NotConvertible(Exception):
    """A Terraform resource instance this kind cannot declare; the message says why."""


def terraform_value(attributes: Mapping[str, Any], path: str) -> Any:
    """The value at a provider attribute path (``cluster_spec.0.k8s_version``); None when any
    step is missing or null (older provider versions lack newer attributes)."""
    value: Any = attributes
    for step in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def terraform_text(attributes: Mapping[str, Any], path: str) -> str | None:
    """A string attribute, or None when it is missing, null, empty or not a string (SDK v1
    stores an unset string as \"\")."""
    value = terraform_value(attributes, path)
    return value if isinstance(value, str) and value else None


def terraform_int(attributes: Mapping[str, Any], path: str) -> int | None:
    """A number attribute as an int, or None when missing, null or not a whole number."""
    value = terraform_value(attributes, path)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        return None
    return int(value)


class ConflictError(ReconcilerError):
    """The cloud holds something this run cannot take as its own (a name taken differently)."""


class TaintedError(ReconcilerError):
    """A create reached the cloud but the object failed; ``entry`` is recorded tainted."""

    def __init__(self, message: str, entry: ResourceState) -> None:
        super().__init__(message)
        self.entry = entry


@dataclass
class RefreshContext:
    """What a kind's ``read_all`` may use: the client, the state, and what earlier kinds found."""

    client: CceClient
    state: State
    parallelism: int = 10
    found: dict[str, list[LiveObject]] = field(default_factory=dict)
    desired: DesiredState | None = None  # what the run declares, when a kind's reads depend on it
    # facts a kind read besides objects (the versions the API offers), for its refusals
    facts: dict[str, Any] = field(default_factory=dict)

    def managed_ids(self, kind: str) -> set[str]:
        """Cloud ids this state manages or has a pending intent for."""
        ids = {e.cloud_id for a, e in self.state.resources.items() if a.kind == kind}
        ids |= {
            p.cloud_id for p in self.state.pending.values() if p.address.kind == kind and p.cloud_id
        }
        return ids


class Operations(Protocol):
    """What the executor offers a kind while it changes one resource."""

    client: CceClient
    registry_user: str | None

    def secret(self, change: Change, name: str) -> str | None:
        """The resolved value of a declared secret, or None if the change declares none."""

    def record_cloud_id(self, cloud_id: str) -> None:
        """Journal the cloud id the moment the API gives it (before any wait)."""

    def progress(self, message: str) -> None: ...

    def wait(self, address: Address, waiter: Waiter, read_status: Callable[[], str]) -> None:
        """Poll ``read_status`` through ``waiter`` with the kind's timeout and Ctrl-C handling."""

    def sleep(self, seconds: float) -> None: ...

    def entry(self, address: Address) -> ResourceState | None:
        """The state entry of ``address`` now (entries done earlier in this run included)."""

    def owned_ids(self, kind: str) -> set[str]:
        """Cloud ids of ``kind`` already in state (a snapshot; other workers change it)."""

    @property
    def busy_retries(self) -> int: ...


@dataclass(frozen=True)
class PlanView:
    """What a kind's ``refusal`` may look at: the declared state, the live objects of every
    kind read, the addresses in state, and the resolved secrets of ``address``."""

    desired: DesiredState
    live_objects: Mapping[str, list[LiveObject]]  # kind -> live objects (gone ones excluded)
    managed: Mapping[Address, str]  # address -> cloud id, from state
    secret_values: Mapping[tuple[Address, str], str]
    facts: Mapping[str, Any] = field(default_factory=dict)  # RefreshContext.facts

    def secret(self, address: Address, name: str) -> str | None:
        return self.secret_values.get((address, name))


class Kind:
    """The default behaviour; a kind module overrides what differs."""

    name: ClassVar[str]
    plural: ClassVar[str] = ""  # "repositories"; name + "s" when empty
    spec_type: ClassVar[type]
    # Declared fields the API cannot change in place (prefixes of field paths).
    replace_fields: ClassVar[frozenset[str]] = frozenset()
    # Secrets that are compared with state's hashes and set again when they change.
    rotatable_secrets: ClassVar[frozenset[str]] = frozenset()
    # Which API the "cannot be changed in place" reason names.
    api_name: ClassVar[str] = "the v1 API"
    # False: the API cannot delete it; removing it from the config only forgets it.
    deletable: ClassVar[bool] = True
    # Seconds a create / delete / update may wait before it fails (``--timeout KIND=...``).
    default_timeout: ClassVar[float | None] = None
    # The YAML list that declares this kind ("repositories"), for ``reconciler export``.
    config_section: ClassVar[str] = ""
    # Kinds a refresh reads along with this one: what its listing needs (the registry user for
    # namespaces) and what its deletion takes (a namespace's repositories).
    read_with: ClassVar[tuple[str, ...]] = ()
    # True: a listed object lacks what export needs (a cluster's nodes): read each one by id.
    export_reads_one: ClassVar[bool] = False
    # False: refresh reads an object the state knows and the list left out by its id before
    # it is gone. True: the kind has no read of one object other than what ``read_all`` reads
    # (the registry user's single GET; the registry's image list), so absence there is final.
    listed_absence_is_final: ClassVar[bool] = False
    # The Terraform provider's resource type of this kind, for ``reconciler import-terraform``.
    terraform: ClassVar[TerraformType | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("plural"):
            cls.plural = plural(cls.name)

    # --- planning (pure) -------------------------------------------------------------------

    def desired_attrs(self, spec: Any) -> dict[str, Any]:
        raise NotImplementedError

    def secret_refs(self, spec: Any) -> dict[str, SecretRef]:
        return {}

    def forces_replacement(self, path: str) -> bool:
        return any(path == f or path.startswith(f + ".") for f in self.replace_fields)

    def dependencies(self, spec: Any, desired: DesiredState) -> tuple[Address, ...]:
        """What must exist before ``spec`` can be created."""
        return ()

    def container_of(self, address: Address) -> Address | None:
        """The resource whose deletion takes this one with it (a repository's namespace)."""
        return None

    def is_gone(self, live: LiveObject) -> bool:
        """True when a listed object no longer exists for planning (a cluster in DELETED)."""
        return False

    def health(self, live: LiveObject) -> str:
        return HEALTHY

    def is_ready(self, live: LiveObject) -> bool:
        """False while a live object is still coming up (a cluster being created, a group
        short of ready nodes): apply then waits for it (``settle``) before its dependents."""
        return True

    def autoscaled_fields(self, live: LiveObject) -> frozenset[str]:
        """Fields of ``live`` an autoscaler owns now (a group's node count while its
        autoscaler is on): ``reconciler watch`` never repairs them. None by default."""
        return frozenset()

    def refusal(self, spec: Any, view: PlanView) -> str | None:
        """Why the API would reject creating or changing ``spec``, when that is knowable before
        any request (a rule of the seed's error table, a quota, a name taken): the plan refuses
        it, so that a green plan means a green apply. None: nothing known against it."""
        return None

    def rename_signature(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> Any:
        """What a renamed object keeps (its attributes but the name, the names of what it
        holds), so that a delete and a create with the same signature are flagged as a rename
        the API cannot do. None: renames of this kind are not detected."""
        return None

    def loses_on_delete(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> str:
        """What deleting the object destroys, for the rename warning."""
        return "its data"

    def update_step(self, change_fields: Iterable[Any], live: LiveObject) -> ScaleStep | None:
        """A typed step that apply needs beyond before/after (a scale), or None."""
        return None

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        """The cloud id before the create, for kinds whose id is their name; "" otherwise."""
        return ""

    def export_entry(self, live: LiveObject) -> dict[str, Any] | None:
        """The YAML mapping that declares ``live`` as it is (``reconciler export``); secrets
        become ``{env: ...}`` placeholders. None: this kind cannot be exported."""
        return None

    def from_terraform(
        self, attributes: Mapping[str, Any], found: Mapping[str, list[LiveObject]]
    ) -> TerraformRecord:
        """One instance of ``terraform.name`` from a Terraform state as the object it records
        (its ``attributes``; ``found``: what earlier kinds read from the same state). Raise
        :class:`NotConvertible` when it cannot be declared here. Never copies a secret."""
        raise NotConvertible(f"{self.name} cannot be read from a Terraform state")

    # --- reading (I/O through the client) ----------------------------------------------------

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        raise NotImplementedError

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        raise NotImplementedError

    # --- changing (I/O through the operations context) ---------------------------------------

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        """Create ``change.after``; return the state entry (evolved: cloud id, ownership)."""
        raise NotImplementedError

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        """Make the live object match ``change.after``; state-only by default."""

    def settle(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        """Wait until the object is ready (``is_ready``): it was created by an interrupted
        run, or by this tool while the run that waited for it was stopped."""

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        raise NotImplementedError


def drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """Keep declared fields only (None = not declared), recursively."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            value = drop_none(value)
            if value:
                out[key] = value
        elif value is not None:
            out[key] = value
    return out


def secrets_of(pairs: Mapping[str, SecretRef | None]) -> dict[str, SecretRef]:
    return {k: v for k, v in pairs.items() if v is not None}


def matches_declared(live: LiveObject | None, want: Mapping[str, Any]) -> bool:
    """True when every declared attribute has the same value live."""
    return live is not None and all(live.attrs.get(k) == v for k, v in want.items())


def send_once_then_read(
    ops: Operations, send: Callable[[], object], kind: Kind, change: Change, cloud_id: str
) -> None:
    """Send a create; if its answer is lost, read before resending (never a blind resend)."""
    try:
        send()
    except OutcomeUnknownError:
        if kind.read_one(ops.client, change.address, cloud_id) is None:
            send()


def create_once(
    ops: Operations,
    change: Change,
    send: Callable[[], str],
    same_name: Callable[[], list[str]],
) -> str:
    """The cloud id of an object created through an API that takes no client token: send
    once; if the answer is lost, look for it by name (``same_name``: live ids with the declared
    name) among the objects this state does not own, and resend only when there is none. More
    than one is a conflict: nothing is resent and the user picks one to import."""
    try:
        return send()
    except OutcomeUnknownError:
        owned = ops.owned_ids(change.address.kind)
        found = [i for i in same_name() if i not in owned]
    if len(found) > 1:
        raise ConflictError(
            f"{change.address}: the create's answer was lost and {len(found)} unmanaged objects "
            f"have its name ({', '.join(found)}); import the right one, nothing was resent"
        )
    if found:
        return found[0]
    ops.progress(
        f"{change.address}: the create's answer was lost and nothing has its name; sending it again"
    )
    return send()


def adopt_if_same(
    ops: Operations, kind: Kind, change: Change, entry: ResourceState
) -> ResourceState:
    """After an "already exists" answer: take the object as adopted if it is what was declared."""
    live = kind.read_one(ops.client, change.address, entry.cloud_id)
    if matches_declared(live, change.after or {}):
        return entry.evolve(ownership="adopted")
    raise ConflictError(
        f"{change.address} already exists in the cloud with different settings; "
        "import it or change the config"
    )


def first_of(desired: DesiredState, kind: str) -> tuple[Address, ...]:
    first = desired.first_of_kind(kind)
    return (first,) if first is not None else ()


def v2_client(client: CceClient) -> CceV2Client:
    """The CCE v2 API on the same endpoint, credentials, retry budget and rate limit as
    ``client`` (v1 and v2 share one host and one signing scheme)."""
    return client.v2
