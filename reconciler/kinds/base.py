"""The Kind interface: everything the engine needs to know about one kind of resource.

A kind module (``user``, ``namespace``, ``repository``, ``cluster``, ...) defines one subclass of
:class:`Kind`; the registry in ``reconciler.kinds`` lists one instance of each in dependency
order, and ``reconciler.kinds.register`` adds one more. The planner, refresh, recovery, apply,
import, export, the configuration and doctor call these methods without knowing which kind they
hold (Terraform's ``providers.Interface``; pyinfra's facts and operations).

**What a kind is** is declared once, as data (read ``reconciler.kinds.fields`` first): ``name``,
``section`` (the YAML list), ``identity`` (the keys that name an entry), ``title`` and
``summary`` (its JSON Schema), and ``fields``, one :class:`~reconciler.kinds.fields.Field` per
YAML key (type, default, what a change does, secret, wire name ...). From that table this class
derives the spec builder (``build_spec``), ``desired_attrs``, ``secret_refs``,
``forces_replacement``, ``change_refusal``, the rotatable secrets, ``export_entry``,
``json_schema`` and the checks of references between entries (``Field.refers_to``); a kind
overrides one only where its API needs more.

**What a kind does** is code, in its module:

- planning (pure): ``dependencies``, ``container_of``, ``is_gone``, ``health``, ``is_ready``,
  ``refusal``, ``update_step``, ``rename_signature``, ``natural_id``;
- reading (through ``reconciler.client`` only): ``read_all`` (list calls for a refresh) and
  ``read_one`` (an object the list left out, after a lost answer, for ``import`` and
  ``export``);
- changing (through an :class:`Operations` context the executor provides): ``create``,
  ``update``, ``settle`` and ``delete``, each with its waits; ``apply_inputs`` works out, once
  per apply, what its changes need from the whole run (``ops.inputs``: the account's registry
  user for namespaces);
- checking the configuration across entries (``config_problems``), looking at a target before a
  first run (``probes``, for ``reconciler doctor``) and a cluster's live outputs and kubeconfig
  (``cluster_access``);
- moving from Terraform (pure): ``terraform`` names the provider's resource type and where it
  keeps secrets, and ``from_terraform`` reads one instance of it as a :class:`LiveObject`.

A kind's wire shapes (request bodies, response field names) are known only to its module and to
``reconciler.client``. A kind module never imports another kind's module: what kinds share is
here (the CCR Enterprise kinds' instance field, refusal and scoped ids included, at the end).
Not for: ordering, journaling, guards or retries (the executor's job).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from reconciler import waiters
from reconciler.errors import (
    ApiError,
    NotFoundError,
    OutcomeUnknownError,
    ReconcilerError,
    ShapeError,
    UsageError,
    closest,
)
from reconciler.kinds.fields import (
    IN_PLACE,
    REFUSED,
    REPLACE,
    Field,
    Section,
    SpecBuilder,
    change_table,
    export_values,
    field_at,
    kind_schema,
    text,
    walk,
)
from reconciler.model import NOWHERE, Address, DesiredState, LiveObject, Location, SecretRef, Spec
from reconciler.records import frozen_record

T = TypeVar("T")
R = TypeVar("R")

if TYPE_CHECKING:
    from reconciler.client.ccr import CcrClient
    from reconciler.client.v1 import CceClient
    from reconciler.client.v2 import CceV2Client
    from reconciler.client.v2_types import ClusterAutoscaler
    from reconciler.diff import FieldChange
    from reconciler.plan import Change, LiveState, ScaleStep
    from reconciler.probes import Doctor, Probe
    from reconciler.state import ResourceState, State


# What ``Kind.health`` says about a live object.
HEALTHY = "healthy"
FAILED_CREATE = "failed_create"  # never came up: replaced without --replace
BROKEN = "broken"  # worked once, now unusable: replacing it must be asked for

# A problem in the configuration: where, and what.
Problem = tuple[Location, str]


@frozen_record
class TerraformSecret:
    """A secret the Terraform provider keeps in its state: the secret here that declares it
    (``None``: no field here) and the variable of the ``{env: ...}`` placeholder written in its
    place. The value itself is never copied."""

    attribute: str | None = None
    placeholder: str | None = None


@frozen_record
class TerraformType:
    """The resource type of the ``baidubce/baiducloud`` provider a kind corresponds to.

    Paths are the provider's attribute paths, with ``0`` for the one element of a nested block
    and ``*`` for any element (``spec.0.instance_template.0.admin_password``)."""

    name: str  # "baiducloud_ccev2_cluster"
    secrets: Mapping[str, TerraformSecret] = field(default_factory=dict)
    # What the provider stores that has no field here (yet), with the value that counts as
    # unset besides null and zero values (None: none): reported when set, never copied.
    no_field: Mapping[str, Any] = field(default_factory=dict)


@frozen_record
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


class RefreshStopped(Exception):
    """A refresh was stopped before its run gave it the state (the run ended first: a
    configuration error, Ctrl-C); nothing is decided from what it read."""


_NOT_GIVEN: Any = object()


class RefreshContext:
    """What a kind's ``read_all`` may use: the client, the state, what the run declares (when
    a kind's reads depend on it), what earlier kinds found and the facts kinds read besides
    objects (the versions the API offers, for their refusals).

    A refresh started before its run has read the state and checked the configuration
    (``reconciler.refresh.Refresh``) is made without them (:meth:`pending`) and given them
    later (:meth:`give`): a kind that asks for ``state`` or ``desired`` first waits until
    then, and raises :class:`RefreshStopped` if the run ends instead (:meth:`stop`).

    ``expected_user``: the registry user the run expects (the one the configuration declares,
    or the state records), which lists per user may guess (:meth:`per_registry_user`)."""

    def __init__(
        self,
        client: CceClient,
        state: State = _NOT_GIVEN,
        parallelism: int = 10,
        found: dict[str, list[LiveObject]] | None = None,
        desired: DesiredState | None = None,
        facts: dict[str, Any] | None = None,
        expected_user: str | None = None,
    ) -> None:
        self.client = client
        self.expected_user = expected_user
        self.parallelism = parallelism
        self.found: dict[str, list[LiveObject]] = {} if found is None else found
        self.facts: dict[str, Any] = {} if facts is None else facts
        self._state, self._desired = state, desired
        self._given = threading.Event()
        self._stopped = False
        self._lock = threading.Lock()
        self._managed: dict[str, list[tuple[Address, ResourceState]]] | None = None
        if state is not _NOT_GIVEN:
            self._given.set()

    @classmethod
    def pending(
        cls,
        client: CceClient,
        parallelism: int,
        found: dict[str, list[LiveObject]],
        expected_user: str | None = None,
    ) -> RefreshContext:
        """A context whose state and desired state come later (:meth:`give`)."""
        return cls(client, parallelism=parallelism, found=found, expected_user=expected_user)

    def give(self, state: State, desired: DesiredState | None) -> None:
        self._state, self._desired = state, desired
        self._given.set()

    def stop(self) -> None:
        """The run ends without giving them: a kind waiting for them raises RefreshStopped."""
        self._stopped = True
        self._given.set()

    def _wait(self) -> None:
        self._given.wait()
        if self._stopped:
            raise RefreshStopped()

    @property
    def state(self) -> State:
        self._wait()
        return self._state

    @property
    def desired(self) -> DesiredState | None:
        self._wait()
        return self._desired

    def per_registry_user(
        self, read: Callable[[CceClient, str], list[LiveObject]]
    ) -> list[LiveObject]:
        """``read(client, username)`` for the account's registry user (a list the API answers
        per user), or [] when it has none. With :attr:`expected_user`, ``read`` is first
        called with that name at once, while the user is still being read: a guess, each of
        its requests tried once (a dead endpoint costs the user's attempts and one more request
        per guess). When the user's read then names exactly that user, the guess's answer is
        kept, or its error raised if it is not one a retry could mend (the same requests with
        retries would say the same). Otherwise (another user, none, or a transient failure)
        it is discarded and ``read`` is called again with the user read, as without a guess:
        nothing is decided from a guess the user's answer does not confirm."""
        guess, guessed, failed = self.expected_user, None, None
        if guess:
            try:
                guessed = read(self.client.tried_once(), guess)
            except Exception as exc:  # decided below, once the user is read
                failed = exc
        users = self.found.get(REGISTRY_USER, [])
        if not users:
            return []
        username = users[0].cloud_id
        if username == guess:
            if failed is None and guessed is not None:
                return guessed
            from reconciler.client.retry import is_retryable  # the refresh loaded the client

            if isinstance(failed, ApiError) and not is_retryable(failed):
                raise failed
        return read(self.client, username)

    def managed(self, kind: str) -> list[tuple[Address, ResourceState]]:
        """(address, entry) of every object of ``kind`` the state manages (the state grouped
        by kind once per refresh: kinds ask for theirs among 100,000 entries)."""
        state = self.state
        with self._lock:
            if self._managed is None:
                grouped: dict[str, list[tuple[Address, ResourceState]]] = {}
                for address, entry in state.resources.items():
                    grouped.setdefault(address.kind, []).append((address, entry))
                self._managed = grouped
        return self._managed.get(kind, [])

    def managed_ids(self, kind: str) -> set[str]:
        """Cloud ids this state manages or has a pending create for (an update's journaled id
        is the object's, already managed, or a long operation's, such as a workflow)."""
        state = self.state
        ids = {e.cloud_id for _, e in self.managed(kind)}
        ids |= {
            p.cloud_id
            for p in state.pending.values()
            if p.address.kind == kind and p.cloud_id and p.action == "create"
        }
        return ids


class Operations(Protocol):
    """What the executor offers a kind while it changes one resource."""

    client: CceClient
    # What the kind's ``apply_inputs`` worked out for this run (None when it needs nothing).
    inputs: Any

    def secret(self, change: Change, name: str) -> str | None:
        """The resolved value of a declared secret, or None if the change declares none."""

    def deliver_secret(self, address: Address, destination: str, value: str) -> None:
        """Hand a secret the API shows once (a robot account's) to the user: written to the
        file ``destination`` (mode 0600, relative to the configuration) or, for ``-``, to the
        output of the run. Never to state, plans, the journal or logs."""

    def record_cloud_id(self, cloud_id: str) -> None:
        """Journal the cloud id the moment the API gives it (before any wait)."""

    def progress(self, message: str) -> None: ...

    def wait(
        self, address: Address, waiter: waiters.Waiter, read_status: Callable[[], str]
    ) -> None:
        """Poll ``read_status`` through ``waiter`` with the kind's timeout and Ctrl-C handling."""

    def sleep(self, seconds: float) -> None: ...

    def entry(self, address: Address) -> ResourceState | None:
        """The state entry of ``address`` now (entries done earlier in this run included)."""

    def owned_ids(self, kind: str) -> set[str]:
        """Cloud ids of ``kind`` already in state (a snapshot; other workers change it)."""

    @property
    def busy_retries(self) -> int: ...


@frozen_record
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


class ConfigItem(Protocol):
    """One entry of a section, as the configuration read it (``config.items.Item``)."""

    @property
    def kind(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...

    @property
    def identity(self) -> str | None: ...

    @property
    def label(self) -> str: ...

    def at(self, *sub: str | int) -> Location: ...


class ConfigView(Protocol):
    """What a kind's ``config_problems`` may look at: every entry of every file, after the
    schema (``config.validation.Checked``)."""

    def items_of(self, kind: str) -> Sequence[ConfigItem]:
        """Every entry of the kind's section, in file order."""

    def clean(self, item: Any, *sub: str | int) -> bool:
        """No schema error at the value ``sub`` of ``item``, inside it or at its parents."""

    def valid(self, item: Any, *sub: str | int) -> bool:
        """No schema error at the value ``sub`` or inside it."""

    def section_broken(self, section: str) -> bool:
        """The section (a top-level key) as a whole failed the schema (it is not a list)."""

    def section_of(self, kind: str) -> str:
        """The YAML list that declares ``kind``."""


@frozen_record
class ClusterAccess:
    """What ``reconciler output`` and ``kubeconfig`` need of a kind of cluster."""

    running: str  # the status a kubeconfig needs
    default_type: str  # the --type used when none is given
    api_types: Mapping[str, str]  # --type -> the API's spelling
    live_fields: tuple[str, ...]  # what ``facts`` returns, known without reading
    status: Callable[[CceClient, str], Callable[[], str]]  # a reader; waiters.GONE: not found
    facts: Callable[[CceClient, str], dict[str, Any] | None]  # None: not found
    fetch: Callable[[CceClient, str, str], str]  # (client, id, API type) -> kubeconfig text


def plural(name: str) -> str:
    return f"{name}s"


class Kind:
    """The default behaviour; a kind module declares its table and overrides what differs."""

    # --- the declaration (data) ------------------------------------------------------------

    name: ClassVar[str]  # the address's kind: "repository"
    plural: ClassVar[str] = ""  # "repositories"; name + "s" when empty
    noun: ClassVar[str] = ""  # in messages: "registry user"; the name when empty
    # The YAML list that declares this kind; None: it cannot be declared.
    section: ClassVar[Section | None] = None
    identity: ClassVar[tuple[str, ...]] = ("name",)  # the keys that name an entry, joined by "/"
    title: ClassVar[str] = ""  # its JSON Schema's title
    summary: ClassVar[str] = ""  # its JSON Schema's description
    fields: ClassVar[tuple[Field, ...]] = ()
    # Which API the "cannot be changed in place" reason names.
    api_name: ClassVar[str] = "the v1 API"
    # False: the API cannot delete it; removing it from the config only forgets it.
    deletable: ClassVar[bool] = True
    # Seconds a create / delete / update may wait before it fails (``--timeout KIND=...``).
    default_timeout: ClassVar[float | None] = None
    # Kinds a refresh reads along with this one: what its listing needs (the registry user for
    # namespaces) and what its deletion takes (a namespace's repositories).
    read_with: ClassVar[tuple[str, ...]] = ()
    # True: a listed object lacks what export needs (a cluster's nodes): read each one by id.
    export_reads_one: ClassVar[bool] = False
    # True: the API cannot create it (a CCR instance is a billed order, a repository appears on
    # a push), so a declared one found in the cloud is taken into state and set as declared in
    # the same apply, without --adopt; one that is not found is for ``refusal`` to refuse.
    adopts_on_sight: ClassVar[bool] = False
    # What ``reconciler output`` reads live by id (``read_one``'s status and details): the
    # endpoints and counters state does not keep. () : state only.
    live_outputs: ClassVar[tuple[str, ...]] = ()
    # Comment lines ``export`` puts atop the kind's file (what the user must fill in).
    export_note: ClassVar[str] = ""
    # The API's error code when an account may hold only one object of this kind ("": any
    # number): a second declared one is a configuration error.
    one_per_account: ClassVar[str] = ""
    # A cluster's live outputs and kubeconfig (``reconciler output``, ``kubeconfig``).
    cluster_access: ClassVar[ClusterAccess | None] = None
    # False: refresh reads an object the state knows and the list left out by its id before
    # it is gone. True: the kind has no read of one object other than what ``read_all`` reads
    # (the registry user's single GET; the registry's image list), so absence there is final.
    listed_absence_is_final: ClassVar[bool] = False
    # True: ``read_all`` lists per registry user (``RefreshContext.per_registry_user``), so a
    # refresh that expects a user starts it beside the user's read, not after it.
    listed_per_registry_user: ClassVar[bool] = False
    # The Terraform provider's resource type of this kind, for ``reconciler import-terraform``.
    terraform: ClassVar[TerraformType | None] = None

    # --- derived from the declaration ------------------------------------------------------

    _changes: ClassVar[dict[str, Field]]
    _builder: ClassVar[SpecBuilder]
    # (key, the kind it refers to, its place in the address or None: an attribute)
    _references: ClassVar[tuple[tuple[str, str, int | None], ...]]
    rotatable_secrets: ClassVar[frozenset[str]]  # compared with state's hashes, set on change

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("plural"):
            cls.plural = plural(cls.name)
        if not cls.__dict__.get("noun"):
            cls.noun = cls.name
        cls._changes = change_table(cls.fields)
        cls._builder = SpecBuilder(cls.name, cls.identity, cls.fields)
        cls._references = tuple(
            (one.key, one.refers_to, cls.identity.index(one.key) if one.address_only else None)
            for one in cls.fields
            if one.refers_to
        )
        cls.rotatable_secrets = frozenset(
            path for path, one in walk(cls.fields) if one.secret and one.change is IN_PLACE
        )

    @property
    def config_section(self) -> str:
        """The YAML list that declares this kind ("" when none does)."""
        return self.section.key if self.section else ""

    @property
    def schema_file(self) -> str:
        """The file name of its JSON Schema: ``k8s-cluster.schema.json``."""
        return self.name.replace("_", "-") + ".schema.json"

    @property
    def address_form(self) -> str:
        """``repository.<namespace>/<name>``: how its addresses are written."""
        return f"{self.name}." + "/".join(f"<{key}>" for key in self.identity)

    def build_spec(self, data: Mapping[str, Any], location: Location = NOWHERE) -> Spec:
        """The spec of one valid YAML entry (what passed the kind's schema)."""
        return self._builder.build(data, location)

    def json_schema(self) -> dict[str, Any]:
        return kind_schema(self.schema_file, self.title, self.summary, self.fields)

    def field_at(self, path: str) -> Field | None:
        """The field a dotted attribute path belongs to (``tags.team`` is ``tags``)."""
        return field_at(self._changes, path)

    # --- planning (pure) -------------------------------------------------------------------

    def desired_attrs(self, spec: Spec) -> Mapping[str, Any]:
        return spec.attrs

    def secret_refs(self, spec: Spec) -> Mapping[str, SecretRef]:
        return spec.secrets

    def forces_replacement(self, path: str) -> bool:
        found = self.field_at(path)
        return found is not None and found.change is REPLACE

    def forcing_changes(self, changes: Iterable[FieldChange]) -> list[str]:
        """The paths among ``changes`` the API cannot make in place; a kind whose answer
        depends on the values (a robot can be disabled in place, not enabled) overrides it."""
        return [c.path for c in changes if self.forces_replacement(c.path)]

    def change_refusal(self, path: str) -> str | None:
        """Why the plan refuses a change of ``path`` (a ``REFUSED`` field), or None."""
        found = self.field_at(path)
        return found.why if found is not None and found.change is REFUSED else None

    @property
    def referred_kinds(self) -> frozenset[str]:
        """The kinds whose declared names this kind's fields hold (``Field.refers_to``)."""
        return frozenset(target for _, target, _ in self._references)

    def dependencies(self, spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
        """What must exist before ``spec`` can be created: by default the objects its fields
        refer to (``Field.refers_to``: a repository's namespace)."""
        found = []
        for key, target, part in self._references:
            if part is None:
                value = spec.attrs.get(key)
                if value is None:
                    continue
            else:
                value = spec.name.split("/", len(self.identity) - 1)[part]
            found.append(Address(target, str(value)))
        return tuple(found)

    def identity_of(self, address: Address) -> dict[str, str]:
        """The identity keys' values of an address (``{"cluster": "shop", "name": "a"}``); the
        last may hold "/" (a repository's name)."""
        parts = address.name.split("/", len(self.identity) - 1)
        return dict(zip(self.identity, parts, strict=False))

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

    def refusal(self, spec: Spec, view: PlanView) -> str | None:
        """Why the API would reject creating or changing ``spec``, when that is knowable before
        any request (a rule of the seed's error table, a quota, a name taken): the plan refuses
        it, so that a green plan means a green apply. None: nothing known against it."""
        return None

    def delete_refusal(self, live: LiveObject) -> str | None:
        """Why the API would refuse to delete this live object (deletion protection set in the
        cloud), so that the plan refuses a delete or a replacement first. None: nothing."""
        return None

    def rename_signature(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> Any:
        """What a renamed object keeps (its attributes but the name, the names of what it
        holds), so that a delete and a create with the same signature are flagged as a rename
        the API cannot do. None: renames of this kind are not detected."""
        return None

    def loses_on_delete(self, attrs: Mapping[str, Any], contents: tuple[str, ...]) -> str:
        """What deleting the object destroys, for the rename warning."""
        return "its data"

    def secret_problem(self, path: str, value: str) -> str | None:
        """Why the API would refuse ``value`` as the secret at ``path`` (``Field.rule``)."""
        found = self.field_at(path)
        return found.rule(value) if found is not None and found.rule is not None else None

    def secret_refusal(self, spec: Spec, view: PlanView) -> str | None:
        """The first of ``spec``'s resolved secrets that breaks its field's rule, or None."""
        for path in spec.secrets:
            value = view.secret(spec.address, path)
            problem = self.secret_problem(path, value) if value is not None else None
            if problem:
                return problem
        return None

    def autoscaled_fields(self, live: LiveObject) -> frozenset[str]:
        """Fields of ``live`` an autoscaler owns now (a group's node count while its
        autoscaler is on): ``reconciler watch`` never repairs them. None by default."""
        return frozenset()

    def update_step(
        self, change_fields: Iterable[FieldChange], live: LiveObject
    ) -> ScaleStep | None:
        """A typed step that apply needs beyond before/after (a scale), or None."""
        return None

    def natural_id(self, attrs: Mapping[str, Any]) -> str:
        """The cloud id before the create, for kinds whose id is their name; "" otherwise."""
        return ""

    def export_entry(self, live: LiveObject) -> dict[str, Any] | None:
        """The YAML mapping that declares ``live`` as it is (``reconciler export``), from the
        field table; secrets become ``{env: ...}`` placeholders. None: this kind cannot be
        exported (it has no section)."""
        if self.section is None:
            return None
        return export_values(self.fields, live.attrs, self.identity_of(live.address))

    def from_terraform(
        self, attributes: Mapping[str, Any], found: Mapping[str, list[LiveObject]]
    ) -> TerraformRecord:
        """One instance of ``terraform.name`` from a Terraform state as the object it records
        (its ``attributes``; ``found``: what earlier kinds read from the same state). Raise
        :class:`NotConvertible` when it cannot be declared here. Never copies a secret."""
        raise NotConvertible(f"{self.name} cannot be read from a Terraform state")

    # --- the configuration, across entries -------------------------------------------------

    def config_problems(self, view: ConfigView) -> Iterator[Problem]:
        """What the schema cannot say about this kind's entries: by default, that each value
        of a field that ``refers_to`` another kind names one declared (with a did-you-mean), and
        that a kind allowing one object per account has one declared."""
        if self.one_per_account:
            yield from self._more_than_one(view)
        for one in self.fields:
            if one.refers_to and not view.section_broken(view.section_of(one.refers_to)):
                yield from self._undeclared(view, one.key, one.refers_to)

    def _more_than_one(self, view: ConfigView) -> Iterator[Problem]:
        by_name: dict[str, ConfigItem] = {}
        for item in view.items_of(self.name):
            if item.identity is not None:
                by_name.setdefault(item.identity, item)
        declared = list(by_name.values())
        for item in declared[1:]:
            first = declared[0]
            yield (
                item.at(),
                f"{item.label}: only one {self.noun} is allowed per account "
                f"({self.one_per_account}); {first.label} is declared at {first.at()}",
            )

    def _undeclared(self, view: ConfigView, key: str, target: str) -> Iterator[Problem]:
        declared = [i.identity for i in view.items_of(target) if i.identity]
        known = set(declared)
        for item in view.items_of(self.name):
            name = item.data.get(key)
            if not isinstance(name, str) or name in known:
                continue
            message = (
                f'{item.label} refers to {target} "{name}", which is not declared under '
                f"{view.section_of(target)}"
            )
            close = closest(name, declared)
            if close is not None:
                message += f'; did you mean "{close}"?'
            else:
                message += self.reference_hint(key, name, view)
            yield item.at(key), message

    def reference_hint(self, key: str, name: str, view: ConfigView) -> str:
        """More words for an undeclared reference with no close match ("" for none)."""
        return ""

    # --- the whole run ----------------------------------------------------------------------

    def apply_inputs(self, desired: DesiredState, live: LiveState) -> Any:
        """What this kind's changes need from the whole run, worked out once per apply and
        given to each as ``ops.inputs`` (None: nothing)."""
        return None

    def probes(self) -> Sequence[Probe]:
        """The read-only checks ``reconciler doctor`` runs for this kind (``reconciler.probes``)."""
        return ()

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


def in_parallel(parallelism: int, call: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``call`` of each item, in order, on up to ``parallelism`` threads (the lists a refresh
    reads per object: a v2 group's nodes, a CCR project's repositories)."""
    if not items:
        return []
    from concurrent.futures import ThreadPoolExecutor  # only when a refresh reads in parallel

    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(items)))) as pool:
        return list(pool.map(call, items))


class ReadAhead(Generic[T, R]):
    """Reads by id asked for at once, before the list that says which of them a refresh
    needs (``read(id)`` of each object the state manages, as a cluster's node list), so that
    they travel with that list instead of after it. ``results(ids)`` then gives the answers
    of the ids the list calls for (an error as ``read`` raised it; an id not asked ahead is
    read now, in parallel); an answer nobody takes is dropped unread, its error too: nothing
    is decided from it (a cluster the list lacks is still read by id, and only a not-found
    makes it gone). With ``parallelism`` 1 nothing is asked ahead. Use as a context
    manager: leaving it waits for the reads still in flight."""

    def __init__(self, parallelism: int, read: Callable[[T], R], ids: Iterable[T]) -> None:
        from concurrent.futures import ThreadPoolExecutor  # only when a refresh reads ahead

        self._read = read
        self._parallelism = parallelism
        ahead = list(ids) if parallelism > 1 else []
        self._pool = ThreadPoolExecutor(max(1, min(parallelism, len(ahead))), "read-ahead")
        self._asked = {i: self._pool.submit(read, i) for i in ahead}

    def __enter__(self) -> ReadAhead[T, R]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def results(self, ids: Sequence[T]) -> dict[T, R]:
        """id -> ``read(id)`` for each of ``ids``, in order; the first error raised."""
        later = [i for i in ids if i not in self._asked]
        now = dict(zip(later, in_parallel(self._parallelism, self._read, later), strict=True))
        return {i: now[i] if i in now else self._asked[i].result() for i in ids}


# --- what kinds share ---------------------------------------------------------------------------


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


def status_of(read: Callable[[], str]) -> Callable[[], str]:
    """``read`` (one GET of an object's status) as a wait's status reader: a positive
    not-found is ``waiters.GONE``."""

    def status() -> str:
        try:
            return read()
        except NotFoundError:
            return waiters.GONE

    return status


def scale_step(
    change_fields: Iterable[FieldChange],
    path: str,
    live: LiveObject,
    newest: Callable[[], Sequence[str]],
    *,
    absolute: bool = False,
) -> ScaleStep | None:
    """The step of a change of the node count at ``path``: add the difference, or remove that
    many of the ``newest`` nodes (their ids, newest first). None: the count did not change.
    Never from answers that disagree (``live.doubt``: a ShapeError), except a scale-up of an
    API that takes the new count itself (``absolute``: no node is named, no difference sent)."""
    from reconciler.plan import ScaleStep  # the plan's types, when planning

    count = next((f for f in change_fields if f.path == path), None)
    if count is None:
        return None
    before, after = int(count.before), int(count.after)
    if absolute and after >= before:
        return ScaleStep(add=after - before)
    if live.doubt:
        raise ShapeError(f"{live.address}: {live.doubt}")
    if after >= before:
        return ScaleStep(add=after - before)
    return ScaleStep(remove=tuple(newest()[: before - after]))


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


def cluster_autoscaler(v2: CceV2Client, cluster_id: str) -> ClusterAutoscaler | None:
    """A v2 cluster's autoscaler; None on a positive not-found (it is not deployed)."""
    try:
        return v2.get_autoscaler(cluster_id)
    except NotFoundError:
        return None


def ensure_cluster_autoscaler(v2: CceV2Client, cluster_id: str) -> None:
    """Deploy the cluster autoscaler unless it is (instance groups autoscale through it)."""
    if cluster_autoscaler(v2, cluster_id) is None:
        v2.create_autoscaler(cluster_id)


V2_CLUSTER_KIND = "k8s_cluster"  # the kind add-ons and instance groups live in


def in_v2_cluster(address: Address) -> Address:
    """The v2 cluster an object named ``CLUSTER/NAME`` lives in (``addon.shop/cce-volcano``,
    ``instance_group.prod/pool-a``)."""
    return Address(V2_CLUSTER_KIND, address.name.partition("/")[0])


def in_cluster_id(cluster_id: str, item_id: str) -> str:
    """The cloud id of an object inside a v2 cluster: ``CLUSTER_ID/ID``."""
    return f"{cluster_id}/{item_id}"


def split_in_cluster_id(cloud_id: str, what: str, form: str) -> tuple[str, str]:
    """``(cluster id, id)`` of an :func:`in_cluster_id`; a malformed one (``import ADDR ID``)
    is a usage error saying the ``form`` of ``what``'s ids."""
    cluster_id, _, item_id = cloud_id.partition("/")
    if not cluster_id or not item_id or "/" in item_id:
        raise UsageError(f"{what} id {cloud_id!r} is not {form}")
    return cluster_id, item_id


def v2_client(client: CceClient) -> CceV2Client:
    """The CCE v2 API on the same endpoint, credentials, retry budget and rate limit as
    ``client`` (v1 and v2 share one host and one signing scheme)."""
    return client.v2


# --- the account's registry user (namespaces are created, repositories deleted, for it) --------

REGISTRY_USER = "user"


def registry_user(desired: DesiredState, live: LiveState) -> str | None:
    """The registry user namespaces are created for: the declared one, else the live one."""
    declared = desired.first_of_kind(REGISTRY_USER)
    if declared is not None:
        return declared.name
    found = [cloud_id for kind, cloud_id in live.by_id if kind == REGISTRY_USER]
    return found[0] if found else None


def probe_user_list(
    doctor: Doctor, name: str, path: str, key: str, parse: Callable[[Any], Any]
) -> None:
    """``reconciler doctor``: the first page of a list read per registry user (``found[name]``),
    or a skipped row when there is no user to list it for."""
    from reconciler.client import v1  # when doctor runs: validate needs no client
    from reconciler.probes import SKIPPED, Check

    username, why_not = doctor.found.get(REGISTRY_USER, (None, "listed per registry user"))
    if username is None:
        doctor.add(Check(name, SKIPPED, f"GET {path}", why_not))
        return
    with doctor.answer(name, f"GET {path}"):
        query = v1.registry_list_query(username)
        doctor.found[name] = doctor.first_page(name, path, query, key, parse)


# --- networks ------------------------------------------------------------------------------------


def normal_cidr(text: str) -> str:
    """A CIDR as its network (``172.16.1.0/16`` is ``172.16.0.0/16``); other text unchanged."""
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return text


def cidr_problem(text: str) -> str | None:
    """What is wrong with an IPv4 network in CIDR notation, or None."""
    try:
        ipaddress.IPv4Network(text, strict=True)
    except ipaddress.NetmaskValueError:
        return "the prefix length must be 0-32"
    except ValueError as exc:
        if "host bits set" not in str(exc):
            return "not an IPv4 network"
        return f"host bits are set; did you mean {ipaddress.IPv4Network(text, strict=False)}?"
    return None


# --- CCR Enterprise: the instance every CCR object lives in ---------------------------------------
# The ``instance`` field each CCR kind declares, which instances a refresh lists objects of
# (those the run declares or manages, or every live one for ``export``), the refusal when an
# instance does not exist, the dependency on a declared instance, and cloud ids scoped to an
# instance (``ccr-xxxx/42``).

API_NAME = "CCR Enterprise"
INSTANCE = "ccr_instance"  # the kind of the instance objects live in
CCR_KINDS_PREFIX = "ccr_"
# NOT ESTABLISHED: the instance id format; anything usable as one path segment.
INSTANCE_ID = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def instance_field() -> Field:
    return Field(
        "instance",
        "Instance",
        "The id of the CCR Enterprise instance it lives in (ccr-...).",
        text(INSTANCE_ID),
        required=True,
        change=REPLACE,
        why="another instance is another object",
        doc="an instance id such as `ccr-4lbqm4u4`",
    )


def instance_of(address: Address) -> str:
    """The instance part of a CCR address (``ccr_project.ccr-x/team-a`` -> ``ccr-x``)."""
    return address.name.split("/", 1)[0]


def scoped_id(instance_id: str, object_id: int | str) -> str:
    """A cloud id unique across instances: ``ccr-x/42``."""
    return f"{instance_id}/{object_id}"


def split_scoped(cloud_id: str) -> tuple[str, str]:
    instance_id, _, object_id = cloud_id.partition("/")
    return instance_id, object_id


def instances_to_read(ctx: RefreshContext) -> list[str]:
    """The live instances whose objects a refresh lists: every one for ``export`` (no
    configuration), else those the run declares, manages or has a pending intent in."""
    live = [o.cloud_id for o in ctx.found.get(INSTANCE, [])]
    if ctx.desired is None:
        return live
    wanted = {instance_of(a) for a in ctx.desired.resources if a.kind.startswith(CCR_KINDS_PREFIX)}
    wanted |= {instance_of(a) for a in ctx.state.resources if a.kind.startswith(CCR_KINDS_PREFIX)}
    wanted |= {
        instance_of(p.address)
        for p in ctx.state.pending.values()
        if p.address.kind.startswith(CCR_KINDS_PREFIX)
    }
    return [i for i in live if i in wanted]


def per_instance(ctx: RefreshContext, read: Callable[[CcrClient, str], Iterable[T]]) -> list[T]:
    """``read(client, instance_id)`` for every instance to read, flattened."""
    return [item for i in instances_to_read(ctx) for item in read(ctx.client.ccr, i)]


def live_instance(view: PlanView, instance_id: str) -> LiveObject | None:
    return next((o for o in view.live_objects.get(INSTANCE, []) if o.cloud_id == instance_id), None)


def missing_instance(instance_id: str, view: PlanView) -> str | None:
    """Why nothing can be made in an instance that does not exist, or None."""
    if live_instance(view, instance_id) is not None:
        return None
    return (
        f"CCR Enterprise instance {instance_id} does not exist in this account and region; "
        "instances are billed orders the reconciler never places: create it in the console "
        "(or fix the id)"
    )


def instance_dependency(spec: Spec, desired: DesiredState) -> tuple[Address, ...]:
    """The declared instance ``spec`` lives in, if it is declared."""
    declared = Address(INSTANCE, str(spec.attrs["instance"]))
    return (declared,) if declared in desired.resources else ()
