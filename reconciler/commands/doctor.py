"""`reconciler doctor [PATH]`: read-only checks of the target before the first real run.

For: telling a user, before any plan or apply, whether the endpoint of the configuration at
PATH accepts the credentials (a signed GET), whether this machine's clock is close enough to
the server's ``Date`` for signatures to be accepted, and whether each answer the reconciler
reads has the shape the client expects, for every API the configuration uses: the kinds'
probes (``Kind.probes``, ``reconciler.probes``) of the v1 registry, v1 clusters, CCE v2
clusters, instance groups and add-ons, and the day-2 APIs the declarations use (the cluster
autoscaler, node-upgrade versions); and, when the configuration declares CCR Enterprise
objects, the same of the CCR endpoint: a signed list of instances, each declared instance
found, and the first page of every list a refresh reads there. The probes of a kind the
configuration does not declare are listed as skipped, saying so; a configuration that declares
nothing is checked against every CCE API. A mismatch names the key and shows the keys the
answer had, so that a wrong guess about the real API (docs/api-contract.md) is seen before a
plan decides anything from it. The single GETs of a namespace and of an image tag, which the
client avoids because their shapes are unconfirmed, are shown as notes.
Not for: changing anything. Only GETs are sent, and each list is read one page deep.

Exit 0 when every check passed (warnings and notes included), 1 on a mismatch or a failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import click

from reconciler.client import ccr
from reconciler.client.answers import Origin, Reader
from reconciler.client.ccr_types import (
    CcrInstance,
    PrivateNetworks,
    Project,
    PublicNetwork,
    Registry,
    Robot,
)
from reconciler.client.v1 import CceClient
from reconciler.commands.common import config_choice_options, paths_argument, state_options
from reconciler.errors import EXIT_ERROR, EXIT_OK
from reconciler.kinds import REGISTRY
from reconciler.kinds.base import CCR_KINDS_PREFIX, Kind, instance_of
from reconciler.model import ConfigChoice, DesiredState
from reconciler.options import RunOptions, StateChoice
from reconciler.probes import (
    FAILED,
    FAILING,
    MISMATCH,
    NOT_USED,
    NOTE,
    OK,
    SKIPPED,
    WARNING,
    Check,
    Doctor,
    Phase,
    check_clock,
)
from reconciler.session import load, open_client, open_store, read_state

CCR_FIRST_PAGE = {"pageNo": "1", "pageSize": str(ccr.MAX_PAGE_SIZE)}

__all__ = ["Check", "Doctor", "check_clock", "command", "run_checks"]


# --- CCR Enterprise (its own endpoint) -----------------------------------------------------


def ccr_instances_declared(desired: DesiredState) -> list[str]:
    """The CCR Enterprise instances the configuration uses, in order."""
    found = (instance_of(a) for a in desired.resources if a.kind.startswith(CCR_KINDS_PREFIX))
    return list(dict.fromkeys(found))


def ccr_first_page(
    doctor: Doctor, name: str, path: str, list_key: str, parse: Callable[[Reader], Any]
) -> tuple[int, list[Any]] | None:
    """The first page of a CCR list (``pageNo``/``pageSize``, the total at the top), read
    the way the client reads it."""
    result: tuple[int, list[Any]] | None = None
    with doctor.answer(name, f"GET {path}"):
        response = doctor.client.ccr.transport.request("GET", path, dict(CCR_FIRST_PAGE))

        def read(data: Any) -> tuple[int, list[Any]]:
            page = Reader(data, Origin("GET", path, response.status, response.request_id))
            total = page.integer("total")
            return total, [parse(i) for i in page.objects(list_key, null_is_empty=total == 0)]

        result = doctor.shaped(
            name, response, read, path, lambda r: f"{list_key}: {len(r[1])} of {r[0]} listed"
        )
    return result


def ccr_object(
    doctor: Doctor, name: str, path: str, parse: Callable[[Reader], Any], summary: str
) -> None:
    with doctor.answer(name, f"GET {path}"):
        response = doctor.client.ccr.transport.request("GET", path)
        origin = Origin("GET", path, response.status, response.request_id)
        doctor.shaped(name, response, lambda d: parse(Reader(d, origin)), path, lambda _: summary)


def check_ccr(doctor: Doctor, instances: list[str]) -> None:
    """The CCR Enterprise endpoint: credentials (a signed list of instances), each declared
    instance found, and the first page of every list a refresh reads in the first one."""
    if not instances:
        return  # a configuration without CCR objects is not checked against CCR
    listed = ccr_first_page(doctor, "ccr instances", ccr.PREFIX, "instances", CcrInstance.read)
    if listed is None or doctor.stopped:
        return
    total, found = listed
    ids = {i.instance_id for i in found}
    for instance_id in instances:
        if instance_id in ids:
            doctor.add(Check("ccr instance", OK, "CCR Enterprise", f"{instance_id} exists"))
        elif total > len(found):
            detail = f"{instance_id} is not on the first page of {total}; plan reads them all"
            doctor.add(Check("ccr instance", WARNING, "CCR Enterprise", detail))
        else:
            detail = f"{instance_id} does not exist in this account and region"
            doctor.add(Check("ccr instance", FAILED, "CCR Enterprise", detail))
    first = next((i for i in instances if i in ids), None)
    if first is None:
        return
    base = f"{ccr.PREFIX}/{first}"
    lists = (
        ("ccr projects", "projects", "projects", Project.read),
        ("ccr robots", "robots", "robots", Robot.read),
        ("ccr registries", "registries", "items", Registry.read),
    )
    for name, tail, key, parse in lists:
        if not doctor.stopped:
            ccr_first_page(doctor, name, f"{base}/{tail}", key, parse)
    if not doctor.stopped:
        ccr_object(doctor, "ccr public", f"{base}/publiclinks", PublicNetwork.read, "read")
        ccr_object(doctor, "ccr private", f"{base}/privatelinks", PrivateNetworks.read, "read")


def used_kinds(kinds: Sequence[Kind], desired: DesiredState | None) -> set[str]:
    """The kinds whose APIs the configuration uses: the declared ones and what they are read
    with (namespaces are listed per registry user); every kind for an empty configuration. The
    first kind that reaches the target (credentials, clock) runs whenever none used does."""
    names = {k.name for k in kinds}
    if desired is None or not desired.resources:
        return names
    used = {a.kind for a in desired.resources}
    for kind in kinds:
        if kind.name in used:
            used |= set(kind.read_with)
    reaching = [k.name for k in kinds if any(p.phase is Phase.REACH for p in k.probes())]
    if reaching and not used & set(reaching):
        used.add(reaching[0])
    return used & names


def run_probes(doctor: Doctor, kinds: Sequence[Kind]) -> None:
    """The probes of every kind the configuration uses (``doctor.desired``), phase by phase,
    the kinds in registry order within a phase; each probe of an unused kind is a ``skipped``
    row saying so."""
    used = used_kinds(kinds, doctor.desired)
    probes = sorted(
        ((probe, index, kind) for index, kind in enumerate(kinds) for probe in kind.probes()),
        key=lambda entry: (entry[0].phase, entry[1]),
    )
    for probe, _, kind in probes:
        if doctor.stopped:
            break
        if kind.name in used:
            probe.run(doctor)
        else:
            doctor.add(Check(probe.name, SKIPPED, "", f"{NOT_USED} (no {kind.plural})"))


def run_checks(
    client: CceClient, ccr_instances: list[str] | None = None, desired: DesiredState | None = None
) -> list[Check]:
    """The probes (``Kind.probes``) of every kind the configuration uses, phase by phase (the
    others listed as skipped); then the CCR Enterprise endpoint of the instances the
    configuration uses (it answers on its own: a refused CCE endpoint does not stop it when the
    CCR endpoint is another)."""
    doctor = Doctor(client, desired=desired)
    run_probes(doctor, REGISTRY)
    if not doctor.stopped or client.ccr.transport is not client.transport:
        doctor.stopped = False  # the CCR endpoint answers on its own
        check_ccr(doctor, ccr_instances or [])
    return doctor.checks


# --- output ------------------------------------------------------------------------------------


def render_text(endpoint: str, checks: list[Check]) -> str:
    lines = [f"Checking {endpoint} (read-only: GET requests only)", ""]
    for check in checks:
        rid = f" [request id {check.request_id}]" if check.request_id else ""
        lines.append(
            f"  {check.status:<9} {check.name:<15} {check.request:<28} {check.detail}{rid}"
        )
        if check.keys is not None and check.status in (MISMATCH, NOTE):
            lines.append(
                f"  {'':<9} {'':<15} keys in the answer: {', '.join(check.keys) or '(none)'}"
            )
    failing = [c for c in checks if c.status in FAILING]
    lines.append("")
    if any(c.status == MISMATCH for c in failing):
        lines.append(
            f"{len(failing)} problem(s): plan and apply would stop on these answers "
            "(see docs/api-contract.md for the shapes the client expects)."
        )
    elif failing:
        lines.append(
            f"{len(failing)} problem(s): the target did not answer as a CCE endpoint should "
            "(check the endpoint, the BCE_* keys and this machine's clock)."
        )
    else:
        lines.append("All checks passed.")
    return "\n".join(lines)


def to_json(endpoint: str, checks: list[Check]) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "ok": not any(c.status in FAILING for c in checks),
        "checks": [asdict(c) for c in checks],
    }


@click.command(name="doctor")
@paths_argument
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@config_choice_options
@state_options
def command(paths: tuple[str, ...], as_json: bool, choice: ConfigChoice, state: StateChoice) -> int:
    """Check the target before a first run: credentials, clock, answer shapes. Read-only."""
    desired, context = load(paths, choice, state)
    read_state(open_store(context), context.target)  # a state applied elsewhere: not here
    with open_client(context, RunOptions(retry_budget=2)) as client:
        endpoint = client.transport.endpoint
        if client.ccr.transport.endpoint != endpoint:
            endpoint += f" and {client.ccr.transport.endpoint}"
        checks = run_checks(client, ccr_instances_declared(desired), desired)
    if as_json:
        click.echo(json.dumps(to_json(endpoint, checks), indent=2, sort_keys=True))
    else:
        click.echo(render_text(endpoint, checks))
    return EXIT_ERROR if any(c.status in FAILING for c in checks) else EXIT_OK
