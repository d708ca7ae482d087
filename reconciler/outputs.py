"""What a managed object exposes after apply: the engine of ``reconciler output`` and
``reconciler kubeconfig``.

For: the outputs of a managed address, from state (cloud id, kind, ownership, protection,
taint and the attributes last applied, secrets left out) plus, for clusters only, live facts
read by id (status, node ids, master and worker counts: one read per cluster asked for); and a
running cluster's kubeconfig, fetched by type and written to a file only its owner can read.

Not for: printing (``commands/output.py``, ``commands/kubeconfig.py``), planning, or writing
state. Nothing here logs or returns a secret except the kubeconfig text, which goes to the file
(or stream) the user named and nowhere else.

What differs between kinds of cluster is each kind's ``Kind.cluster_access``
(:class:`~reconciler.kinds.base.ClusterAccess`); a kind without one has no live outputs and no
kubeconfig.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import waiters
from reconciler.config.files import YAML_SUFFIXES
from reconciler.errors import NotFoundError, ReconcilerError, StateError, UsageError
from reconciler.kinds import REGISTRY, address_order, kind_named
from reconciler.kinds.base import ClusterAccess
from reconciler.model import Address
from reconciler.safefiles import replace_file
from reconciler.state import ResourceState, State
from reconciler.state.local import STATE_DIR

if TYPE_CHECKING:
    from reconciler.client.v1 import CceClient

# Fields every managed object has, from its state entry.
STATE_FIELDS = ("id", "kind", "ownership", "protected", "tainted")
# Attribute names that would hold a secret; state never stores one, and output never shows one.
SECRET_WORDS = ("password", "secret", "token")
HASH_PREFIX = "pbkdf2_sha256$"
# ``--type``: where the kubeconfig's server address points. ``vpc`` is ``intraVpc`` as the v2
# API spells it.
KUBECONFIG_TYPES = ("public", "internal", "intraVpc", "vpc")
KUBECONFIG_DIR = "kubeconfig"


def access_of(address: Address) -> ClusterAccess | None:
    return kind_named(address.kind).cluster_access


def clusters() -> list[str]:
    """The kinds that have a kubeconfig."""
    return [k.name for k in REGISTRY if k.cluster_access is not None]


# --- reading state ------------------------------------------------------------------------


def managed_addresses(state: State) -> list[Address]:
    """Every managed address, in dependency order then by name."""
    return sorted(state.resources, key=address_order)


def managed_entry(state: State, address: Address, where: str = "") -> ResourceState:
    """The state entry of ``address``, or a StateError saying why there is none."""
    entry = state.resources.get(address)
    if entry is not None:
        return entry
    in_state = f" ({where})" if where else ""
    if any(p.address == address for p in state.pending.values()):
        raise StateError(
            f"{address} is not in state{in_state} yet: a change to it by an interrupted run is "
            "pending; run `reconciler apply` to finish it"
        )
    known = [str(a) for a in managed_addresses(state)]
    listing = f"managed addresses: {', '.join(known)}" if known else "the state manages nothing"
    raise StateError(f"{address} is not in state{in_state}; {listing}")


def public_attrs(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without anything that is or would hold a secret (recursively)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if any(word in key.lower() for word in SECRET_WORDS):
            continue
        if isinstance(value, Mapping):
            value = public_attrs(value)
        elif isinstance(value, str) and value.startswith(HASH_PREFIX):
            continue
        out[key] = value
    return out


def state_outputs(entry: ResourceState) -> dict[str, Any]:
    """The engine's fields, then the applied attributes (no secret hashes, no secrets)."""
    values: dict[str, Any] = {
        "id": entry.cloud_id,
        "kind": entry.kind,
        "ownership": entry.ownership,
        "protected": entry.protect,
        "tainted": entry.tainted,
    }
    for key, value in public_attrs(entry.applied).items():
        values.setdefault(key, value)
    return values


# --- outputs ------------------------------------------------------------------------------


def live_fields(address: Address) -> tuple[str, ...]:
    """The outputs of ``address`` read live by id: a cluster's (``Kind.cluster_access``), or what its
    kind names (``Kind.live_outputs``: a CCR instance's endpoint, a repository's pull path)."""
    access = access_of(address)
    return access.live_fields if access else kind_named(address.kind).live_outputs


def reads_live(address: Address, field: str | None = None) -> bool:
    """True when showing ``field`` (all fields: None) of ``address`` needs a read by id."""
    live = live_fields(address)
    return bool(live) and (field is None or field in live)


def field_names(address: Address, entry: ResourceState) -> list[str]:
    """Every field ``output ADDR FIELD`` accepts for ``address``, without reading the cloud."""
    names = [name for name, _ in flatten(state_outputs(entry), leaves_only=False)]
    return names + [name for name in live_fields(address) if name not in names]


def _live_facts(client: CceClient, address: Address, cloud_id: str) -> dict[str, Any] | None:
    access = access_of(address)
    if access is not None:
        return access.facts(client, cloud_id)
    kind = kind_named(address.kind)
    try:
        live = kind.read_one(client, address, cloud_id)
    except NotFoundError:
        return None
    if live is None:
        return None
    found = {"status": live.status, **live.details}
    return {name: found.get(name) for name in kind.live_outputs}


def outputs_of(
    address: Address, entry: ResourceState, client: CceClient | None
) -> tuple[dict[str, Any], bool]:
    """The outputs of one object, and whether it was found live. ``client`` None: state only.
    An object not found by its id gets its live fields as null."""
    values = state_outputs(entry)
    fields = live_fields(address)
    if not fields or client is None:
        return values, True
    facts = _live_facts(client, address, entry.cloud_id)
    if facts is None:
        values.update(dict.fromkeys(fields))
        return values, False
    values.update(facts)
    return values, True


def lookup(values: Mapping[str, Any], field: str) -> Any:
    """``field`` of ``values``: a top-level name or a dotted path (``workers.count``); a name
    holding a dot is matched whole first. KeyError if there is none."""
    if field in values:
        return values[field]
    parts = field.split(".")
    for cut in range(1, len(parts)):
        inner = values.get(".".join(parts[:cut]))
        if isinstance(inner, Mapping):
            with suppress(KeyError):
                return lookup(inner, ".".join(parts[cut:]))
    raise KeyError(field)


def flatten(
    values: Mapping[str, Any], prefix: str = "", leaves_only: bool = True
) -> Iterator[tuple[str, Any]]:
    """``(dotted name, value)`` for every field; nested mappings are walked (and, unless
    ``leaves_only``, listed themselves first). An empty mapping is a leaf."""
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            if not leaves_only:
                yield name, value
            yield from flatten(value, f"{name}.", leaves_only)
        else:
            yield name, value


def raw_text(value: Any) -> str:
    """A value as ``--raw`` prints it: a string as is, a number or boolean as JSON spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise UsageError("--raw prints only a string, number or boolean; use --json for this value")


# --- kubeconfig ---------------------------------------------------------------------------


def cluster_access(address: Address) -> ClusterAccess:
    access = access_of(address)
    if access is None:
        raise UsageError(
            f"{address} is a {address.kind}, not a cluster: a kubeconfig exists only for "
            f"{' and '.join(f'{kind}.NAME' for kind in clusters())}"
        )
    return access


def fetch_kubeconfig(
    client: CceClient, address: Address, entry: ResourceState, kind: str | None = None
) -> str:
    """The kubeconfig of the running cluster ``address`` (its status is read first). ``kind``
    is a ``--type`` (None: the kind's default)."""
    access = cluster_access(address)
    status = access.status(client, entry.cloud_id)()
    if status == waiters.GONE:
        raise ReconcilerError(
            f"{address} ({entry.cloud_id}) no longer exists in the cloud; "
            "run `reconciler plan` to see what apply would do"
        )
    if status != access.running:
        raise ReconcilerError(
            f"{address} ({entry.cloud_id}) is {status}, not {access.running}: its kubeconfig "
            "can be fetched once it runs"
        )
    return access.fetch(client, entry.cloud_id, access.api_types[kind or access.default_type])


def default_kubeconfig_path(config_root: str, address: Address) -> Path:
    """``.reconciler/kubeconfig/ADDR.yaml`` beside the config, with the state (git-ignored)."""
    return Path(config_root) / STATE_DIR / KUBECONFIG_DIR / f"{address}.yaml"


def read_as_config(path: Path, config_paths: Sequence[str]) -> bool:
    """True when ``reconciler plan`` over ``config_paths`` (default ``.``) would read ``path``
    as configuration: a visible ``*.yaml`` inside a config folder (hidden ones are skipped)."""
    if path.suffix not in YAML_SUFFIXES:
        return False
    for given in config_paths or (".",):
        folder = Path(os.path.abspath(given))
        if folder.is_dir() and path.is_relative_to(folder):
            if not any(part.startswith(".") for part in path.relative_to(folder).parts):
                return True
    return False


def write_private(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` readable by its owner only (0600), atomically: a new file is
    created 0600 beside it and renamed over it, so an existing file's looser mode never
    applies, no reader sees half a file, and a symbolic link at ``path`` is refused rather than
    written through. Returns the absolute path."""
    target = Path(os.path.abspath(path))
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        replace_file(target, text.encode("utf-8"), mode=0o600)
    except OSError as exc:
        raise ReconcilerError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target
