"""A kind is one module: this test module declares a new kind, a registry webhook, with its field
table and its calls to an in-test service, registers it (``reconciler.kinds.register``), and
runs validate, plan, apply, export and schema through the CLI on a configuration that declares
it. No file of the package knows the kind: its section, schema, spec, attributes, what each
change does, its references, export and dependency order all come from the table below."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import kinds
from reconciler.client.v1 import CceClient
from reconciler.kinds.base import Kind, LiveObject, Operations, RefreshContext
from reconciler.kinds.fields import (
    IN_PLACE,
    REFUSED,
    REPLACE,
    Field,
    Section,
    boolean,
    choice,
    text,
)
from reconciler.model import Address
from reconciler.plan import Change
from reconciler.state import ResourceState

from .conftest import Result, Workspace

NAME = "^[A-Za-z][A-Za-z0-9_.-]{0,64}$"  # as a namespace's (its hint is known)
URL = "^https://[^\\s]+$"


class WebhookService:
    """The cloud side, in the test: webhooks by id, as an API would keep them."""

    def __init__(self) -> None:
        self.hooks: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.ids = itertools.count(1)
        self.lock = threading.Lock()

    def list(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(h) for h in self.hooks.values()]

    def get(self, hook_id: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.hooks.get(hook_id)
            return dict(found) if found else None

    def create(self, body: dict[str, Any]) -> str:
        with self.lock:
            hook_id = f"wh-{next(self.ids)}"
            self.hooks[hook_id] = {**body, "id": hook_id}
            self.calls.append(("create", hook_id))
            return hook_id

    def update(self, hook_id: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.hooks[hook_id].update(body)
            self.calls.append(("update", hook_id))

    def delete(self, hook_id: str) -> None:
        with self.lock:
            self.hooks.pop(hook_id, None)
            self.calls.append(("delete", hook_id))


SERVICE = WebhookService()


class WebhookKind(Kind):
    name = "webhook"
    section = Section("webhooks", "Webhooks", "Registry webhooks: a URL called on image events.")
    identity = ("namespace", "name")
    title = "Webhook"
    summary = "A registry webhook (address webhook.<namespace>/<name>)."
    fields = (
        Field(
            "namespace",
            "Namespace",
            "The namespace whose events it reports; declared under namespaces.",
            text(NAME),
            required=True,
            address_only=True,
            refers_to="namespace",
        ),
        Field("name", "Name", "The webhook's name.", text(NAME), required=True),
        Field(
            "url",
            "URL",
            "Where events are posted, https only.",
            text(URL),
            required=True,
            change=IN_PLACE,
        ),
        Field(
            "events",
            "Events",
            "push, delete or both.",
            {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"enum": ["push", "delete"]},
            },
            required=True,
            change=IN_PLACE,
            normalize=sorted,
        ),
        Field(
            "enabled",
            "Enabled",
            "Whether events are posted.",
            boolean(),
            default=True,
            change=IN_PLACE,
        ),
        Field(
            "region",
            "Region",
            "Where the webhook runs.",
            choice("bj", "gz"),
            default="bj",
            change=REPLACE,
        ),
        Field(
            "owner",
            "Owner",
            "Who answers for it.",
            text(),
            change=REFUSED,
            why="the API keeps a webhook's owner for life",
        ),
        Field(
            "token",
            "Token",
            "Sent with each call, by reference.",
            secret=True,
            change=IN_PLACE,
            placeholder="WEBHOOK_TOKEN",
        ),
    )

    def live_object(self, hook: dict[str, Any]) -> LiveObject:
        attrs = {
            key: hook[key]
            for key in ("name", "url", "enabled", "region", "owner")
            if hook.get(key) is not None
        }
        attrs["events"] = sorted(hook["events"])
        address = Address(self.name, f"{hook['namespace']}/{hook['name']}")
        return LiveObject(address, hook["id"], attrs)

    def read_all(self, ctx: RefreshContext) -> list[LiveObject]:
        return [self.live_object(h) for h in SERVICE.list()]

    def read_one(self, client: CceClient, address: Address, cloud_id: str) -> LiveObject | None:
        found = SERVICE.get(cloud_id)
        return self.live_object(found) if found else None

    def create(self, ops: Operations, change: Change, entry: ResourceState) -> ResourceState:
        namespace = self.identity_of(change.address)["namespace"]
        body = {
            **(change.after or {}),
            "namespace": namespace,
            "token": ops.secret(change, "token"),
        }
        hook_id = SERVICE.create(body)
        ops.record_cloud_id(hook_id)
        return entry.evolve(cloud_id=hook_id)

    def update(self, ops: Operations, change: Change, entry: ResourceState) -> None:
        body = dict(change.after or {})
        if "token" in change.rotate_secrets:
            body["token"] = ops.secret(change, "token")
        SERVICE.update(entry.cloud_id, body)

    def delete(self, ops: Operations, address: Address, cloud_id: str) -> None:
        SERVICE.delete(cloud_id)


CONFIG = """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: team-a
webhooks:
  - namespace: team-a
    name: deploy
    url: https://ci.example.com/hook
    events: [push]
    owner: alice
    token: {env: WEBHOOK_TOKEN}
"""
ADDRESS = "webhook.team-a/deploy"


@pytest.fixture
def webhooks(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookService]:
    """The kind registered for one test, its service empty, its token set."""
    global SERVICE
    SERVICE = WebhookService()
    monkeypatch.setenv("WEBHOOK_TOKEN", "token-1")
    kinds.register(WebhookKind())
    yield SERVICE
    kinds.unregister(WebhookKind.name)


def changes(result: Result) -> dict[str, str]:
    assert result.code in (0, 2, 3), result.out + result.err
    return {c["address"]: c["action"] for c in json.loads(result.out)["changes"]}


def test_validate_reads_the_new_section_with_file_line_column_messages(
    ws: Workspace, webhooks: WebhookService
) -> None:
    config = ws.write(CONFIG)
    checked = ws.cli("validate", str(config))
    assert checked.code == 0, checked.err
    assert checked.out.strip() == "valid: 1 user, 1 namespace, 1 webhook (1 file)"

    broken = CONFIG.replace(
        "namespace: team-a\n    name: deploy", "namespace: taem-a\n    name: deploy"
    )
    broken = broken.replace("https://ci.example.com/hook", "http://ci.example.com/hook")
    broken = broken.replace("[push]", "[push, pull]")
    result = ws.cli("validate", str(ws.write(broken)))
    assert result.code == 1
    lines = [line.replace(f"{ws.root}/", "") for line in result.err.splitlines()]
    assert lines == [
        'main.yaml:9:16: error: webhook "taem-a/deploy" refers to namespace "taem-a", which is '
        'not declared under namespaces; did you mean "team-a"?',
        'main.yaml:11:10: error: webhook "taem-a/deploy" url "http://ci.example.com/hook" is '
        f"invalid: expected to match {URL}",
        'main.yaml:12:20: error: webhook "taem-a/deploy" events[1] "pull" is invalid: expected '
        "push or delete",
    ]


def test_plan_apply_update_replace_refuse_rotate_and_delete(
    ws: Workspace, webhooks: WebhookService, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ws.write(CONFIG)
    planned = ws.cli("plan", str(config), "--json")
    assert changes(planned)[ADDRESS] == "create"

    applied = ws.cli("apply", str(config), "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    # the namespace its field refers to is created first (``Field.refers_to``: a dependency)
    progress = applied.out + applied.err
    assert progress.index("namespace.team-a: created") < progress.index(f"{ADDRESS}: creating")
    (hook,) = webhooks.list()
    assert hook["url"] == "https://ci.example.com/hook" and hook["token"] == "token-1"
    assert (hook["enabled"], hook["region"], hook["owner"]) == (True, "bj", "alice")

    again = ws.cli("plan", str(config), "--detailed-exitcode")
    assert again.code == 0 and "No changes." in again.out, again.out + again.err
    assert webhooks.calls == [("create", hook["id"])]

    ws.write(CONFIG.replace("[push]", "[push, delete]"))
    assert changes(ws.cli("plan", str(config), "--json"))[ADDRESS] == "update"
    assert ws.cli("apply", str(config), "--auto-approve").code == 0
    assert webhooks.get(hook["id"])["events"] == ["delete", "push"]  # type: ignore[index]

    moved = CONFIG.replace("[push]", "[push, delete]\n    region: gz")
    ws.write(moved)
    refused = ws.cli("apply", str(config), "--auto-approve")
    assert refused.code == 3 and f"--replace {ADDRESS}" in refused.out + refused.err
    replaced = ws.cli("apply", str(config), "--auto-approve", "--replace", ADDRESS)
    assert replaced.code == 0, replaced.out + replaced.err
    (hook,) = webhooks.list()
    assert hook["region"] == "gz" and ("delete", "wh-1") in webhooks.calls

    ws.write(moved.replace("owner: alice", "owner: bob"))
    refused = ws.cli("apply", str(config), "--auto-approve")
    assert refused.code == 3
    assert "owner cannot be changed: the API keeps a webhook's owner for life" in (
        refused.out + refused.err
    )
    ws.write(moved)

    ws.cli("plan", str(config))  # a plan alone sends nothing
    calls = len(webhooks.calls)
    monkeypatch.setenv("WEBHOOK_TOKEN", "token-2")
    rotated = ws.cli("apply", str(config), "--auto-approve")
    assert rotated.code == 0, rotated.out + rotated.err
    assert webhooks.get(hook["id"])["token"] == "token-2"  # type: ignore[index]
    assert webhooks.calls[calls:] == [("update", hook["id"])]

    ws.write(CONFIG.split("webhooks:")[0])
    assert changes(ws.cli("plan", str(config), "--json"))[ADDRESS] == "delete"
    assert ws.cli("apply", str(config), "--auto-approve").code == 0
    assert webhooks.list() == []


def test_export_writes_the_new_section_and_schema_describes_it(
    ws: Workspace, webhooks: WebhookService, tmp_path: Path
) -> None:
    config = ws.write(CONFIG)
    assert ws.cli("apply", str(config), "--auto-approve").code == 0
    out = tmp_path / "exported"
    exported = ws.cli(
        "export", str(config), "--kind", "webhook", "--kind", "namespace", "--out", str(out)
    )
    assert exported.code == 0, exported.err
    written = yaml.safe_load((out / "webhooks.yaml").read_text())
    assert written == {
        "webhooks": [
            {
                "namespace": "team-a",
                "name": "deploy",
                "url": "https://ci.example.com/hook",
                "events": ["push"],
                "enabled": True,
                "region": "bj",
                "owner": "alice",
                "token": {"env": "WEBHOOK_TOKEN"},
            }
        ]
    }

    schemas = tmp_path / "schemas"
    assert ws.cli("schema", "--out", str(schemas)).code == 0
    config_schema = json.loads((schemas / "config.schema.json").read_text())
    assert config_schema["properties"]["webhooks"]["items"] == {"$ref": "webhook.schema.json"}
    webhook = json.loads((schemas / "webhook.schema.json").read_text())
    assert webhook["required"] == ["namespace", "name", "url", "events"]
    assert webhook["properties"]["token"]["$ref"] == "secret-ref.schema.json"
    assert list(webhook["properties"])[-1] == "lifecycle"


def test_without_the_registration_the_section_is_unknown(ws: Workspace) -> None:
    result = ws.cli("validate", str(ws.write(CONFIG)))
    assert result.code == 1 and 'unknown key "webhooks"' in result.err
