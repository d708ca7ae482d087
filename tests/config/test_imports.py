"""The ``imports:`` section: existing objects adopted by id as declared addresses (written by
`import-terraform`). What it becomes, and every mistake at its file:line:column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.config import config_digest, load_config, load_desired_state
from reconciler.errors import ConfigError
from reconciler.model import Address

Write = Callable[[dict[str, str | bytes]], Path]

BASE = """target:
  endpoint: local
k8s_clusters:
  - name: prod
    k8sVersion: "1.28.8"
    vpcID: vpc-a1b2c3d4e5f6
    lbServiceVPCSubnetID: sbn-lb
namespaces:
  - name: team-a
"""


def errors_of(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_desired_state([str(root)])
    return [line for line in caught.value.diagnostics if ": error: " in line]


def test_imports_become_address_to_id(write_files: Write) -> None:
    root = write_files(
        {
            "main.yaml": BASE,
            "imports.yaml": "imports:\n  - to: k8s_cluster.prod\n    id: cce-3u5pz6kx\n"
            "  - to: namespace.team-a\n    id: team-a\n",
        }
    )
    loaded = load_config([str(root)])
    desired = loaded.desired
    assert desired.imports == {
        Address("k8s_cluster", "prod"): "cce-3u5pz6kx",
        Address("namespace", "team-a"): "team-a",
    }
    (root / "imports.yaml").unlink()
    without = load_desired_state([str(root)])
    assert without.imports == {}
    # a saved plan sees the change
    assert config_digest(desired, loaded.target) != config_digest(without, loaded.target)


@pytest.mark.parametrize(
    ("imports", "message"),
    [
        (
            "  - to: k8s_cluster.staging\n    id: cce-1\n",
            "imports.yaml:2:9: error: imports: k8s_cluster.staging is not declared under "
            "k8s_clusters; an import adopts an object as a declared address",
        ),
        (
            "  - to: bucket.logs\n    id: b-1\n",
            "imports.yaml:2:9: error: imports: 'bucket.logs' is not an address; expected "
            "KIND.NAME with KIND one of",
        ),
        (
            "  - to: k8s_cluster.prod\n    id: cce-1\n  - to: k8s_cluster.prod\n    id: cce-2\n",
            "imports.yaml:4:9: error: imports: k8s_cluster.prod imported twice: also at "
            "imports.yaml:2:9",
        ),
        (
            "  - to: k8s_cluster.prod\n    id: cce-1\n  - to: namespace.team-a\n    id: team-a\n"
            "  - to: namespace.team-b\n    id: team-a\n",
            "imports.yaml:7:9: error: imports: namespace team-a is imported twice: also at "
            "imports.yaml:5:9",
        ),
        (
            "  - to: k8s_cluster.prod\n",
            'imports.yaml:2:5: error: imports [0] is missing required key "id"',
        ),
        (
            '  - to: k8s_cluster.prod\n    id: ""\n',
            "imports.yaml:3:9: error: imports [0].id must not be empty",
        ),
    ],
)
def test_mistakes_are_reported_where_they_are(
    write_files: Write, imports: str, message: str
) -> None:
    extra = "  - name: team-b\n" if "team-b" in imports else ""
    root = write_files({"main.yaml": BASE + extra, "imports.yaml": "imports:\n" + imports})
    found = [line.replace(f"{root}/", "") for line in errors_of(root)]
    assert any(line.startswith(message) for line in found), found
