"""A Terraform state (format version 4) of the ``baidubce/baiducloud`` provider, converted into
what declares and adopts the same objects here. Pure: state text in, a :class:`Conversion` out.

For: reading ``terraform.tfstate`` or ``terraform state pull`` output (:func:`read_state`, with
a clear error for text that is not JSON, another format or version, or an empty state); naming
each resource instance as Terraform does (``module.app["k"].baiducloud_ccev2_cluster.this[0]``);
asking the kind whose ``terraform`` type matches to read each instance (``Kind.from_terraform``)
and to declare it (``Kind.export_entry``, checked against the shipped schema); the ``imports``
that adopt each object by the id Terraform recorded; and the report: every instance not
converted and why, the secrets left behind as ``{env: ...}`` placeholders, recorded values not
valid here, what the provider stores that has no field here, and the ``terraform state rm``
commands that hand each converted address over.

An address here is the object's name (``k8s_cluster.prod-a``), never Terraform's: count
indexes, for_each keys and module paths do not leak into names, so renumbering in Terraform
changes nothing here. Two instances that name the same object here are an error naming both.
Not for: writing files (``reconciler.export``), reading the cloud, or editing Terraform's state.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.config.fastpath import fast_check
from reconciler.config.schema import validator
from reconciler.errors import TerraformStateError
from reconciler.kinds import REGISTRY, Kind
from reconciler.kinds.base import LiveObject, NotConvertible, TerraformSecret, terraform_value
from reconciler.model import Address

STATE_VERSION = 4
SENSITIVE = "(sensitive)"
# Attribute names that hold a secret whatever the type (never printed in the report).
SECRET_NAMES = frozenset({"admin_pass", "admin_password", "password"})
# What a data source of the provider holds that a user should know is not copied.
DATA_SOURCE_NOTES = {
    "baiducloud_cce_kubeconfig": (
        "its `data` is a kubeconfig with credentials, not copied: `reconciler kubeconfig "
        "ADDR` writes one for a managed cluster"
    ),
}
LONGEST_VALUE = 120  # characters of a recorded value shown in the report


# --- the state file ------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """One resource instance of a v4 state, with the address Terraform prints for it."""

    address: str
    resource: str  # the address without the instance key, for messages
    mode: str  # "managed" or "data"
    type: str
    attributes: Mapping[str, Any] = field(repr=False)  # may hold secrets in clear
    status: str = ""  # "" (ready) or "tainted"
    deposed: str = ""  # the deposed key of an object replaced with create_before_destroy
    sensitive: tuple[str, ...] = ()  # attribute paths Terraform marks sensitive ("a.0.b")


@dataclass(frozen=True)
class TerraformState:
    """The parts of a v4 state this conversion reads."""

    source: str
    terraform_version: str
    serial: int
    instances: tuple[Instance, ...]


def read_state(text: str, source: str) -> TerraformState:
    """Parse ``text`` (a state file, or ``terraform state pull`` output) or raise
    :class:`TerraformStateError` saying what is wrong and where."""
    if not text.strip():
        raise TerraformStateError(f"{source}: is empty, not a Terraform state")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TerraformStateError(
            f"{source}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg}); give a terraform.tfstate "
            "file or the output of `terraform state pull`"
        ) from None
    if not isinstance(data, dict):
        raise TerraformStateError(
            f"{source}: a Terraform state is a JSON object, not {_kind(data)}"
        )
    _check_version(data, source)
    resources = data.get("resources")
    if not isinstance(resources, list):
        raise TerraformStateError(f'{source}: "resources" is missing or not a list')
    instances = tuple(
        instance
        for index, resource in enumerate(resources)
        for instance in _instances(resource, f"{source}: resources[{index}]")
    )
    if not instances:
        raise TerraformStateError(
            f"{source}: the state holds no resources (Terraform manages nothing here yet); "
            "nothing to convert"
        )
    serial = data.get("serial")
    return TerraformState(
        source,
        str(data.get("terraform_version") or "unknown"),
        serial if isinstance(serial, int) else 0,
        instances,
    )


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def _check_version(data: Mapping[str, Any], source: str) -> None:
    if "format_version" in data and "values" in data:
        raise TerraformStateError(
            f"{source}: this is `terraform show -json` output, not a state; give the "
            "terraform.tfstate file or the output of `terraform state pull`"
        )
    version = data.get("version")
    if version == STATE_VERSION and not isinstance(version, bool):
        return
    if isinstance(version, int) and not isinstance(version, bool) and version < STATE_VERSION:
        raise TerraformStateError(
            f"{source}: state format version {version}, written by Terraform before 0.12; this "
            f"reads version {STATE_VERSION}: let Terraform 0.12 or later upgrade it (`terraform "
            "state pull` prints it upgraded) and convert that"
        )
    shown = json.dumps(version) if version is not None else "missing"
    raise TerraformStateError(
        f'{source}: "version" is {shown}; this reads Terraform state format version '
        f"{STATE_VERSION} (Terraform 0.12 and later)"
    )


def _instances(resource: Any, where: str) -> Iterator[Instance]:
    if not isinstance(resource, dict):
        raise TerraformStateError(f"{where}: a resource is a JSON object, not {_kind(resource)}")
    mode, rtype, name = resource.get("mode"), resource.get("type"), resource.get("name")
    if mode not in ("managed", "data") or not isinstance(rtype, str) or not isinstance(name, str):
        raise TerraformStateError(
            f'{where}: a resource needs "mode" (managed or data), "type" and "name"'
        )
    module = resource.get("module") or ""
    if not isinstance(module, str):
        raise TerraformStateError(f'{where}: "module" is not a string')
    prefix = f"{module}." if module else ""
    base = f"{prefix}{'data.' if mode == 'data' else ''}{rtype}.{name}"
    entries = resource.get("instances")
    if not isinstance(entries, list):
        raise TerraformStateError(f'{where} ({base}): "instances" is missing or not a list')
    for index, entry in enumerate(entries):
        yield _instance(entry, base, mode, rtype, f"{where}.instances[{index}] ({base})")


def _instance(entry: Any, base: str, mode: str, rtype: str, where: str) -> Instance:
    if not isinstance(entry, dict):
        raise TerraformStateError(f"{where}: an instance is a JSON object, not {_kind(entry)}")
    address = base + _index(entry.get("index_key"), where)
    status = entry.get("status") or ""
    if status not in ("", "tainted"):
        raise TerraformStateError(
            f'{where}: "status" is {json.dumps(status)}; only "tainted" is valid'
        )
    deposed = entry.get("deposed") or ""
    if deposed and (not isinstance(deposed, str) or len(deposed) != 8):
        raise TerraformStateError(f'{where}: "deposed" must be an 8-character key')
    attributes = entry.get("attributes")
    if not isinstance(attributes, dict):
        attributes = {}  # a legacy attributes_flat instance: reported as not convertible
    return Instance(
        address,
        base,
        mode,
        rtype,
        attributes,
        status,
        deposed,
        tuple(_sensitive_paths(entry.get("sensitive_attributes"))),
    )


def _index(key: Any, where: str) -> str:
    """Terraform's instance key: ``[0]`` for count, ``["k"]`` for for_each (HCL-quoted)."""
    if key is None:
        return ""
    if isinstance(key, float) and key.is_integer():  # Terraform reads a float as an int
        key = int(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return f"[{key}]"
    if isinstance(key, str):
        return f"[{hcl_quoted(key)}]"
    raise TerraformStateError(f'{where}: "index_key" must be a number or a string')


def hcl_quoted(text: str) -> str:
    """A string as Terraform quotes an instance key (``addrs.StringKey``'s HCL quoting)."""
    out = []
    for i, char in enumerate(text):
        escaped = {"\n": r"\n", "\r": r"\r", "\t": r"\t", '"': r"\"", "\\": "\\\\"}.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char in "$%":
            out.append(char * 2 if text[i + 1 : i + 2] == "{" else char)
        elif not char.isprintable():  # as Go's unicode.IsPrint
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _sensitive_paths(paths: Any) -> Iterator[str]:
    """``sensitive_attributes`` (lists of get_attr / index steps) as dotted paths."""
    for path in paths if isinstance(paths, list) else ():
        steps = []
        for step in path if isinstance(path, list) else ():
            value = step.get("value") if isinstance(step, dict) else None
            if isinstance(value, dict):  # an index step: {"value": 0, "type": "number"}
                value = value.get("value")
            steps.append(str(value))
        if steps:
            yield ".".join(steps)


# --- the conversion ------------------------------------------------------------------------


@dataclass(frozen=True)
class Converted:
    """One Terraform instance declared here: its YAML entry and the id that adopts it."""

    terraform_address: str
    address: Address
    cloud_id: str
    entry: Mapping[str, Any]
    placeholders: tuple[str, ...] = ()  # the variables of the secrets' {env: ...} placeholders


@dataclass(frozen=True)
class Skipped:
    terraform_address: str
    reason: str


@dataclass(frozen=True)
class Note:
    """One line of the report about a converted instance."""

    address: Address
    text: str


@dataclass(frozen=True)
class Conversion:
    state: TerraformState
    converted: tuple[Converted, ...]
    skipped: tuple[Skipped, ...]
    secrets: tuple[Note, ...]  # never copied: the placeholder written, or that none could be
    left_out: tuple[Note, ...]  # recorded values not valid here
    no_field: tuple[Note, ...]  # stored by the provider, no field here yet
    notes: tuple[Note, ...]  # what a kind derived

    def entries(self) -> dict[str, list[Mapping[str, Any]]]:
        """The YAML entries by kind name, in each kind's address order."""
        out: dict[str, list[Mapping[str, Any]]] = {}
        for item in sorted(self.converted, key=lambda c: c.address):
            out.setdefault(item.address.kind, []).append(item.entry)
        return out

    def imports(self) -> list[dict[str, str]]:
        """The ``imports`` entries that adopt each converted object by its id."""
        ordered = sorted(self.converted, key=lambda c: (_kind_index(c.address.kind), c.address))
        return [{"to": str(c.address), "id": c.cloud_id} for c in ordered]

    def state_rm_commands(self) -> list[str]:
        """What hands each converted address over, for the user to run after the adoption."""
        return [f"terraform state rm {shlex.quote(c.terraform_address)}" for c in self.converted]

    def placeholders(self) -> list[str]:
        """The environment variables the secrets' placeholders name, sorted."""
        return sorted({name for c in self.converted for name in c.placeholders})


def _kind_index(kind: str) -> int:
    return next(i for i, k in enumerate(REGISTRY) if k.name == kind)


class _Converter:
    """Holds one conversion's findings; ``run`` walks the kinds in dependency order."""

    def __init__(self, state: TerraformState) -> None:
        self.state = state
        self.converted: list[Converted] = []
        self.skipped: list[Skipped] = []
        self.secrets: list[Note] = []
        self.left_out: list[Note] = []
        self.no_field: list[Note] = []
        self.notes: list[Note] = []
        self.found: dict[str, list[LiveObject]] = {}

    def run(self) -> Conversion:
        by_type = {k.terraform.name: k for k in REGISTRY if k.terraform is not None}
        wanted = [i for i in self.state.instances if self._convertible(i, by_type)]
        for kind in REGISTRY:
            mine = [i for i in wanted if kind.terraform and i.type == kind.terraform.name]
            self.found[kind.name] = [
                live for instance in mine if (live := self._convert(kind, instance)) is not None
            ]
        self._check_collisions()
        return Conversion(
            self.state,
            tuple(self.converted),
            tuple(self.skipped),
            tuple(self.secrets),
            tuple(self.left_out),
            tuple(self.no_field),
            tuple(self.notes),
        )

    def _skip(self, instance: Instance, reason: str) -> bool:
        name = instance.address
        if instance.deposed:
            name += f" (deposed object {instance.deposed})"
        self.skipped.append(Skipped(name, reason))
        return False

    def _convertible(self, instance: Instance, by_type: Mapping[str, Kind]) -> bool:
        if instance.mode == "data":
            hint = DATA_SOURCE_NOTES.get(instance.type)
            return self._skip(
                instance,
                "a data source: Terraform only reads it, there is nothing to adopt"
                + (f"; {hint}" if hint else ""),
            )
        if instance.type not in by_type:
            kinds = ", ".join(sorted(by_type))
            return self._skip(instance, f"unsupported type {instance.type} (this converts {kinds})")
        if instance.deposed:
            return self._skip(
                instance,
                "a deposed object left by a create_before_destroy replacement: Terraform "
                "destroys it at its next apply, so it is not adopted",
            )
        if instance.status == "tainted":
            return self._skip(
                instance,
                "tainted in Terraform (its create failed, or `terraform taint` marked it): "
                "Terraform would replace it, so it is not adopted; let Terraform replace it "
                "first, or declare a new one here",
            )
        if not instance.attributes:
            return self._skip(
                instance,
                'no "attributes" (a state from Terraform 0.11 or older): refresh it with '
                "Terraform 0.12 or later first",
            )
        return True

    def _convert(self, kind: Kind, instance: Instance) -> LiveObject | None:
        try:
            record = kind.from_terraform(instance.attributes, self.found)
        except NotConvertible as exc:
            self._skip(instance, str(exc))
            return None
        live = record.live
        entry = kind.export_entry(live)
        if entry is None:
            self._skip(instance, f"{kind.plural} cannot be declared by export")
            return None
        assert kind.terraform is not None
        secrets = self._secrets(kind, instance, live.address, entry)
        left_out, problems = _fit_schema(kind, entry)
        if problems:
            self._skip(instance, f"cannot declare it as {live.address}: " + "; ".join(problems))
            return None
        self.secrets.extend(secrets)
        self.left_out.extend(Note(live.address, text) for text in left_out)
        self.notes.extend(Note(live.address, text) for text in record.notes)
        self.no_field.extend(self._no_field(kind, instance, live.address))
        placeholders = tuple(
            secret.placeholder
            for secret in kind.terraform.secrets.values()
            if secret.attribute and secret.placeholder and _has(entry, secret.attribute)
        )
        self.converted.append(
            Converted(instance.address, live.address, live.cloud_id, entry, placeholders)
        )
        return live

    def _secrets(
        self, kind: Kind, instance: Instance, address: Address, entry: dict[str, Any]
    ) -> list[Note]:
        """Put a placeholder where a secret was, and say so; never copy the value."""
        assert kind.terraform is not None
        declared = dict(kind.terraform.secrets)
        for path in instance.sensitive:
            if not any(_matches(path, pattern) for pattern in declared):
                declared[path] = TerraformSecret()
        notes = []
        for pattern, secret in declared.items():
            for path, value in _expand(instance.attributes, pattern):
                notes.extend(self._secret_note(address, entry, path, value, secret))
        return notes

    def _secret_note(
        self,
        address: Address,
        entry: dict[str, Any],
        path: str,
        value: Any,
        secret: TerraformSecret,
    ) -> list[Note]:
        held = value not in (None, "")
        if secret.attribute is None or secret.placeholder is None:
            if not held:
                return []
            return [
                Note(
                    address, f"{path}: a secret Terraform keeps in clear; no field here, not copied"
                )
            ]
        if not held and not _has(entry, secret.attribute):
            return []
        if held:
            _put(entry, secret.attribute, {"env": secret.placeholder})
        placed = _get(entry, secret.attribute)
        where = "keeps it in clear" if held else "holds no value"
        return [
            Note(
                address,
                f"{secret.attribute}: {_placeholder_text(placed)} (Terraform {where} at "
                f"{path}; not copied)",
            )
        ]

    def _no_field(self, kind: Kind, instance: Instance, address: Address) -> Iterator[Note]:
        assert kind.terraform is not None
        hidden = (*kind.terraform.secrets, *instance.sensitive)
        for path, unset in kind.terraform.no_field.items():
            value = terraform_value(instance.attributes, path)
            if _is_set(value) and value != unset:
                shown = _shown(_redacted(value, path, hidden))
                yield Note(address, f"{path} = {shown}")

    def _check_collisions(self) -> None:
        seen: dict[Address, Converted] = {}
        by_id: dict[tuple[str, str], Converted] = {}
        for item in self.converted:
            first = seen.setdefault(item.address, item)
            if first is not item:
                raise TerraformStateError(
                    f"{self.state.source}: {first.terraform_address} and "
                    f"{item.terraform_address} would both be {item.address} here (an address "
                    "here is the object's name); rename one of them, or remove one from the "
                    "state file, and convert again"
                )
            twin = by_id.setdefault((item.address.kind, item.cloud_id), item)
            if twin is not item:
                raise TerraformStateError(
                    f"{self.state.source}: {twin.terraform_address} and {item.terraform_address} "
                    f"both record the object {item.cloud_id}; remove one from the state file"
                )


def convert(state: TerraformState) -> Conversion:
    """Every instance of ``state`` converted or skipped with its reason; raise
    :class:`TerraformStateError` when two instances name the same object here or nothing at
    all can be converted."""
    conversion = _Converter(state).run()
    if not conversion.converted:
        reasons = "\n  ".join(f"{s.terraform_address}: {s.reason}" for s in conversion.skipped)
        raise TerraformStateError(
            f"{state.source}: none of its {len(state.instances)} resource instance(s) can be "
            f"converted:\n  {reasons}"
        )
    return conversion


# --- entries against the schema ------------------------------------------------------------


def _fit_schema(kind: Kind, entry: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Leave out each recorded value the schema rejects (the plan then shows the cloud's):
    ``(left out, problems)``. A problem left after that (a required field, or one left out)
    means the entry cannot be written."""
    document = {kind.config_section: [entry]}
    fast = fast_check()
    if fast is not None and fast(document):
        return [], []
    check = validator()
    dropped: dict[str, str] = {}
    for error in sorted(check.iter_errors(document), key=str):
        path = ".".join(str(p) for p in list(error.absolute_path)[2:])
        if path and _has(entry, path):
            value = _get(entry, path)
            _drop(entry, path.split("."))
            dropped[path] = (
                f"{path}: Terraform recorded {_shown(value)}, which is not valid here ({error.message})"
            )
    problems = []
    for error in check.iter_errors(document):
        where = [str(p) for p in list(error.absolute_path)[2:]]
        missing = error.message.split("'")[1] if error.validator == "required" else None
        path = ".".join([*where, missing] if missing else where)
        problems.append(dropped.pop(path, None) or (f"{path}: " if path else "") + error.message)
    return [f"{text}; left out" for text in dropped.values()], problems


# --- small helpers on attribute trees ------------------------------------------------------


def _matches(path: str, pattern: str) -> bool:
    steps, wanted = path.split("."), pattern.split(".")
    return len(steps) == len(wanted) and all(
        w in ("*", s) for s, w in zip(steps, wanted, strict=True)
    )


def _expand(attributes: Mapping[str, Any], pattern: str) -> Iterator[tuple[str, Any]]:
    """Each concrete path matching ``pattern`` (``*``: every list element) and its value."""

    def walk(value: Any, steps: Sequence[str], done: list[str]) -> Iterator[tuple[str, Any]]:
        if not steps:
            yield ".".join(done), value
            return
        step, rest = steps[0], steps[1:]
        if step == "*" and isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, rest, [*done, str(index)])
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            yield from walk(value[int(step)], rest, [*done, step])
        elif isinstance(value, Mapping) and step in value:
            yield from walk(value[step], rest, [*done, step])

    yield from walk(attributes, pattern.split("."), [])


def _is_set(value: Any) -> bool:
    """Set by someone: not null, "", 0, false or empty, and (for nested blocks) holding a set
    leaf. SDK v1 stores every unset leaf of a nested block as such a zero value."""
    if isinstance(value, Mapping):
        return any(_is_set(v) for v in value.values())
    if isinstance(value, list):
        return any(_is_set(v) for v in value)
    return value not in (None, "", 0, False)


def _redacted(value: Any, path: str, secrets: Sequence[str]) -> Any:
    if (
        any(_matches(path, pattern) for pattern in secrets)
        or path.rsplit(".", 1)[-1] in SECRET_NAMES
    ):
        return SENSITIVE if _is_set(value) else value
    if isinstance(value, Mapping):
        return {k: _redacted(v, f"{path}.{k}", secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, f"{path}.{i}", secrets) for i, v in enumerate(value)]
    return value


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 3] + "..."


def _placeholder_text(value: Any) -> str:
    if isinstance(value, Mapping) and "env" in value:
        return f"{{env: {value['env']}}}"
    return SENSITIVE


def _has(entry: Mapping[str, Any], dotted: str) -> bool:
    value: Any = entry
    for step in dotted.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return False
        value = value[step]
    return True


def _get(entry: Mapping[str, Any], dotted: str) -> Any:
    value: Any = entry
    for step in dotted.split("."):
        value = value[step]
    return value


def _put(entry: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    target = entry
    for step in parents:
        target = target.setdefault(step, {})
    target[last] = value


def _drop(entry: dict[str, Any], steps: Sequence[str]) -> None:
    *parents, last = steps
    target: Any = entry
    for step in parents:
        target = target[step]
    del target[last]
