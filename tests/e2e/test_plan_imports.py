"""A plan imports only what planning needs: a valid configuration in sync with the cloud is
planned without jsonschema (the schema's fast check proves it valid) and without deepdiff
(nothing differs; a changed string, number or list of them is named without it), while a
changed field still names its path and an invalid value still gets jsonschema's worded error.
Nor does it import the wire types of APIs no declared kind uses, the saved plan's module without
``--out``, PyYAML for a file in plain block style, or urllib3 and certifi (the transport is the
standard library's http.client; certifi's CA bundle only for an https endpoint). ``ssl`` cannot
be kept out: http.client imports it at its top."""

from __future__ import annotations

import subprocess
import sys

from .conftest import Workspace

CONFIG = """users:
  - username: ccetest
    password: {env: CCR_PASSWORD}
namespaces:
  - name: team-a
repositories:
  - namespace: team-a
    name: api
    tags: [latest]
    description: payment API
"""
# jsonschema and deepdiff: the fast path and a plain difference need neither; the wire types of the
# CCR and v2 APIs: no kind of theirs is declared; the saved plan's module: no --out; PyYAML:
# the block reader reads a plain file, and the full loader is for any other; urllib3 (and
# requests over it) and certifi: the emulator's endpoint is http://, with no proxy; the IDNA
# codec: an ASCII host name is looked up as bytes
HEAVY = (
    "yaml",
    "jsonschema",
    "deepdiff",
    "reconciler.client.ccr_types",
    "reconciler.client.v2_types",
    "reconciler.planfile",
    "urllib3",
    "requests",
    "encodings.idna",
    "certifi",
)


def plan_in_child(ws: Workspace) -> tuple[int, str, set[str]]:
    """``reconciler plan`` in a fresh process: exit code, output, the heavy modules it loaded."""
    code = (
        "import sys\n"
        "from reconciler.cli import main\n"
        "try:\n"
        f"    main(['plan', {str(ws.root)!r}, '--no-color', '--detailed-exitcode'])\n"
        "except SystemExit as exc:\n"
        "    status = exc.code\n"
        f"print('LOADED', *sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=ws.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    loaded = next(line for line in done.stdout.splitlines() if line.startswith("LOADED"))
    return done.returncode, done.stdout + done.stderr, set(loaded.split()[1:])


def test_a_plan_in_sync_loads_neither_jsonschema_nor_deepdiff(ws: Workspace) -> None:
    ws.write(CONFIG)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0

    code, out, loaded = plan_in_child(ws)
    assert code == 0, out
    assert "No changes" in out
    assert loaded == set()


def test_a_change_and_an_invalid_value_still_get_their_full_answers(ws: Workspace) -> None:
    ws.write(CONFIG)
    assert ws.cli("apply", str(ws.root), "--auto-approve").code == 0

    ws.write(CONFIG.replace("payment API", "payments API"))
    code, out, loaded = plan_in_child(ws)
    assert code == 2, out
    assert 'description: "payment API" -> "payments API"' in out
    assert loaded == set()  # a changed string is named without deepdiff

    ws.write(CONFIG.replace("tags: [latest]", "tags: latest"))
    code, out, loaded = plan_in_child(ws)
    assert code == 1, out
    assert "main.yaml:" in out and "tags" in out and "Traceback" not in out
    assert "jsonschema" in loaded

    ws.write(CONFIG.replace("tags: [latest]", "tags: [latest, 1.20]"))  # a float: PyYAML says so
    code, out, loaded = plan_in_child(ws)
    assert code == 1, out
    assert "main.yaml:" in out and "1.2" in out and "Traceback" not in out
    assert "yaml" in loaded
