"""The tool's own files and outputs under attack or trouble, through the real CLI:

- a symbolic link (or a hard link) planted where the tool keeps its lock, state, journal,
  temporary file, saved plan, export or kubeconfig is refused, and the file it points at keeps
  every byte;
- a workspace name cannot lead the state out of ``.reconciler/workspaces/``;
- a saved plan edited after it was made is refused (exit 5) before any request that changes
  anything; a stored state whose target was removed is refused before any request;
- a journal a killed run left is gone once the next run has folded it;
- a refused lock names its holder even while the holder is still writing its name;
- output that cannot be written (a full disk) ends with a clear error, not an internal one;
- a worker count beyond the bound is refused at validate with file:line:column.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.kinds import names as kind_names
from reconciler.state import LockInfo
from reconciler.state.journal import IntentRecord, JournalHeader, dumps
from reconciler.state.local import LocalStateStore
from tests.e2e.conftest import ROOT, Workspace

PRECIOUS = "the user's own file; the tool must never write here\n"
NAMESPACES = """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: team-a
"""


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    """A file of the user's, outside the configuration, that a link points at."""
    path = tmp_path / "elsewhere" / "precious.txt"
    path.parent.mkdir()
    path.write_text(PRECIOUS)
    return path


def applied(ws: Workspace, body: str = NAMESPACES) -> None:
    config = ws.root / "config"
    config.mkdir(exist_ok=True)
    (config / "main.yaml").write_text(f"target:\n  endpoint: {ws.emulator.url}\n{body}")
    result = ws.cli("apply", str(config), "--auto-approve")
    assert result.code == 0, result.out + result.err


def config_of(ws: Workspace) -> Path:
    return ws.root / "config"


def state_dir(ws: Workspace) -> Path:
    return config_of(ws) / ".reconciler"


# --- 4. never through a symbolic link, never truncating a file the tool did not make -------------


@pytest.mark.parametrize(
    ("name", "command", "message"),
    [
        ("state.json.lock", "apply", "cannot lock state {dir}/state.json.lock: is a symbolic link"),
        ("state.json", "plan", "cannot read state {dir}/state.json: is a symbolic link"),
        ("state.json.journal", "plan", "cannot read journal {dir}/state.json.journal: is a sym"),
    ],
    ids=["lock", "state", "journal"],
)
def test_a_link_where_the_state_files_live_is_refused(
    ws: Workspace, precious: Path, name: str, command: str, message: str
) -> None:
    applied(ws)
    link = state_dir(ws) / name
    link.unlink(missing_ok=True)
    link.symlink_to(precious)
    since = ws.emulator.next_index()
    args = ("--auto-approve",) if command == "apply" else ()
    result = ws.cli(command, str(config_of(ws)), *args)
    assert result.code == 1, result.out + result.err
    assert message.format(dir=state_dir(ws)) in result.err
    assert precious.read_text() == PRECIOUS  # today: the lock's target is emptied
    assert ws.emulator.mutating_requests(since) == []


def test_a_hard_link_at_the_lock_is_refused_not_truncated(ws: Workspace, precious: Path) -> None:
    applied(ws)
    lock = state_dir(ws) / "state.json.lock"
    lock.unlink(missing_ok=True)
    os.link(precious, lock)
    result = ws.cli("apply", str(config_of(ws)), "--auto-approve")
    assert result.code == 1, result.out
    assert "is not a plain file of this tool" in result.err
    assert precious.read_text() == PRECIOUS


def test_a_link_at_the_temporary_state_file_is_refused(
    ws: Workspace, precious: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary name is random; made predictable here, a link planted there is refused."""
    applied(ws)
    monkeypatch.setattr("reconciler.safefiles.random_suffix", lambda: "planted")
    (state_dir(ws) / ".state.json.planted.tmp").symlink_to(precious)
    (config_of(ws) / "main.yaml").write_text(
        (config_of(ws) / "main.yaml").read_text() + "  - name: team-b\n"
    )
    result = ws.cli("apply", str(config_of(ws)), "--auto-approve")
    assert result.code == 1, result.out
    assert "is a symbolic link" in result.err
    assert precious.read_text() == PRECIOUS


@pytest.mark.parametrize("what", ["plan", "export", "kubeconfig"])
def test_outputs_are_never_written_through_a_link(ws: Workspace, precious: Path, what: str) -> None:
    applied(ws)
    out = ws.root / "out"
    out.mkdir()
    config = str(config_of(ws))
    if what == "plan":
        (out / "plan.bin").symlink_to(precious)
        result = ws.cli("plan", config, "--out", str(out / "plan.bin"))
    elif what == "export":
        (out / "namespaces.yaml").symlink_to(precious)
        result = ws.cli("export", config, "--out", str(out), "--force")  # even when forced
    else:
        applied(ws, NAMESPACES + CLUSTER)
        (out / "kubeconfig").symlink_to(precious)
        result = ws.cli(
            "kubeconfig", "cluster.prod", "-c", config, "--out", str(out / "kubeconfig")
        )
    assert result.code == 1, result.out + result.err
    assert "is a symbolic link; refusing to follow it" in result.err
    assert precious.read_text() == PRECIOUS  # today: overwritten


CLUSTER = """clusters:
  - name: prod
    version: "1.20.8"
    mainAvailableZone: zoneA
    containerNet: 172.16.0.0/16
    workers: {count: 1, instanceType: "10", cpu: 4, memory: 8, imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}
"""


# --- 5. workspace names are validated like environment names -------------------------------------


@pytest.mark.parametrize("name", ["../../x", "/abs/dir", "a/b", ".hidden", ""])
def test_a_workspace_name_cannot_lead_the_state_elsewhere(ws: Workspace, name: str) -> None:
    config = ws.root / "config"
    config.mkdir()
    (config / "main.yaml").write_text(f"target:\n  endpoint: {ws.emulator.url}\n{NAMESPACES}")
    before = sorted(p for p in ws.root.rglob("*"))
    result = ws.cli("apply", str(config), "--auto-approve", "--workspace", name)
    assert result.code == 1, result.out
    assert f"workspace name {name!r} is invalid" in result.err
    assert sorted(p for p in ws.root.rglob("*")) == before  # today: state written outside
    assert ws.emulator.requests_log() == []


# --- 7. the smaller ones --------------------------------------------------------------------------


def test_a_saved_plan_edited_after_it_was_made_is_refused(ws: Workspace) -> None:
    applied(ws)
    config = config_of(ws)
    (config / "main.yaml").write_text((config / "main.yaml").read_text() + "  - name: team-b\n")
    plan_file = ws.root / "plan.bin"
    assert ws.cli("plan", str(config), "--out", str(plan_file)).code == 0
    text = plan_file.read_text()
    assert text.count('"address": "namespace.team-b"') == 2  # the change and its declaration
    plan_file.write_text(text.replace("team-b", "team-z"))  # a namespace not in the config
    since = ws.emulator.next_index()
    result = ws.cli("apply", "--plan", str(plan_file))
    assert result.code == 5, result.out + result.err
    assert "changed after it was made" in result.err
    assert ws.emulator.mutating_requests(since) == []  # today: team-z is created
    assert "team-z" not in json.dumps(ws.emulator.state()["namespaces"])


def test_a_state_whose_target_was_removed_is_refused(ws: Workspace) -> None:
    applied(ws)
    path = state_dir(ws) / "state.json"
    document = json.loads(path.read_text())
    del document["target"]
    path.write_text(json.dumps(document))
    since = ws.emulator.next_index()
    result = ws.cli("plan", str(config_of(ws)))
    assert result.code == 1, result.out
    assert "records no target" in result.err
    assert ws.emulator.requests_log(since) == []  # today: read against any target


def test_a_killed_runs_journal_is_gone_once_folded(ws: Workspace) -> None:
    """A run killed after its create landed left an intent; the next apply adopts the object
    and has nothing else to do: the journal must not stay behind."""
    applied(ws)
    config = config_of(ws)
    (config / "main.yaml").write_text((config / "main.yaml").read_text() + "  - name: team-b\n")
    credentials = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, credentials) as client:
        client.create_namespace("team-b", public=False, user="ccetest")  # the killed run's
    store = LocalStateStore(state_dir(ws) / "state.json", kinds=kind_names())
    state = store.read()
    entry = state.resources[next(a for a in state.resources if a.kind == "namespace")]
    from reconciler.model import Address

    intent = IntentRecord(
        "killed-run-1",
        Address("namespace", "team-b"),
        "create",
        None,
        entry.evolve(cloud_id="team-b", applied={"name": "team-b", "public": False}),
    )
    journal = store.journal_path
    journal.write_text(dumps(JournalHeader.of(state)) + "\n" + dumps(intent) + "\n")
    result = ws.cli("apply", str(config), "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert "Recovered: namespace.team-b" in result.out
    assert not journal.exists()  # today: left behind
    assert "namespace.team-b" in json.loads((state_dir(ws) / "state.json").read_text())["resources"]


def test_a_refused_lock_names_its_holder_while_it_writes_its_name(ws: Workspace) -> None:
    """The holder locks first and writes its name right after: a run refused in between waits
    for the name instead of saying "held by another process"."""
    applied(ws)
    lock = state_dir(ws) / "state.json.lock"
    holder = LockInfo("4d1b0c7e-holder", "alice@ci", 4242, "apply", "2026-01-01T00:00:00Z")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.ftruncate(fd, 0)

        def name_myself() -> None:
            time.sleep(0.3)
            os.pwrite(fd, json.dumps(holder.__dict__).encode(), 0)

        writer = threading.Thread(target=name_myself)
        writer.start()
        result = ws.cli("apply", str(config_of(ws)), "--auto-approve")
        writer.join()
    finally:
        os.close(fd)
    assert result.code == 4, result.out + result.err
    assert "lock 4d1b0c7e-holder held by alice@ci (pid 4242, apply" in result.err


def test_output_on_a_full_disk_ends_with_a_clear_error(ws: Workspace) -> None:
    applied(ws)
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "plan", str(config_of(ws))],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=ws.subprocess_env(),
            cwd=ROOT,
            timeout=120,
        )
    assert done.returncode == 1
    assert "error: cannot write the output: No space left on device" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_a_worker_count_beyond_the_bound_is_refused_at_validate(ws: Workspace) -> None:
    config = ws.root / "config"
    config.mkdir()
    body = CLUSTER.replace("count: 1,", "count: 1000001,")
    (config / "main.yaml").write_text(f"target:\n  endpoint: {ws.emulator.url}\n{body}")
    result = ws.cli("validate", str(config))
    assert result.code == 1, result.out
    assert "main.yaml:8:" in result.err and "1000001" in result.err, result.err
    assert ws.emulator.requests_log() == []
