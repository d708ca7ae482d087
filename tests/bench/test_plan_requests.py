"""Issue 5: a plan over 10,000 declared resources costs the list pages, not one GET each.

The session emulator is seeded in-process through its model (one user, 100 namespaces, one
cluster with two workers, 9,898 repositories), a matching state file is written, and the real
``reconciler plan`` runs against it; the emulator's request log is the count.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from bench import workload
from bench.run import list_pages
from reconciler.cli import main
from reconciler.emulator.testing import EmulatorHandle

SIZE = 10_000


def run_plan(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(["plan", *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue() + err.getvalue()


def test_a_plan_over_10000_resources_sends_only_the_list_pages(
    emulator: EmulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BCE_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("BCE_SECRET_ACCESS_KEY", emulator.secret_access_key)
    monkeypatch.setenv(workload.PASSWORD_ENV, workload.PASSWORD)
    shape = workload.Shape.of(SIZE)
    cluster_ids = workload.seed_model(emulator.running.store, shape)
    ws = workload.Workspace(tmp_path)
    desired = workload.build_config_and_state(ws, shape, emulator.url, cluster_ids)
    assert len(desired.resources) == SIZE
    first = emulator.next_index()

    code, out = run_plan(str(ws.config), "--state", str(ws.state), "--detailed-exitcode")

    sent = emulator.requests_log(since=first)
    assert code == 0, out
    assert "No changes" in out
    assert [e for e in sent if e["method"] != "GET"] == []
    # one user read, 1 namespace page, 10 image pages (1,000 each), 1 cluster page, 1 node list
    assert len(sent) == list_pages(shape) == 14
    by_path = sorted({e["path"] for e in sent})
    assert by_path == [
        "/v1/cluster",
        "/v1/image",
        "/v1/image/namespace",
        "/v1/image/user",
        "/v1/node",
    ]


def test_the_page_count_grows_with_pages_not_resources() -> None:
    small, large = workload.Shape.of(1_000), workload.Shape.of(SIZE)
    assert list_pages(small) == 5
    assert list_pages(large) == 14  # 10x the resources, 9 more requests
