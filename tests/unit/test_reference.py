"""The reference tables of docs/configuration.md and the README are generated from the kinds'
field tables (``reconciler.kinds.reference``): committed regions that are not what it writes fail
here, as does a region that is not closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.kinds import REGISTRY
from reconciler.kinds.reference import FILES, kind_table, rewritten

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", FILES)
def test_the_generated_regions_are_up_to_date(name: str) -> None:
    text = (REPO / name).read_text(encoding="utf-8")
    assert "<!-- generated: " in text
    assert rewritten(text) == text, "regenerate with: python -m reconciler.kinds.reference"


def test_every_declared_kind_has_its_table_in_the_configuration_reference() -> None:
    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for kind in REGISTRY:
        if kind.section is not None:
            assert f"<!-- generated: kind {kind.name} (" in text, kind.name


def test_a_table_says_what_a_change_and_a_removal_do() -> None:
    from reconciler.kinds import kind_named

    rows = {
        line.split(" | ")[0].strip("| `"): line
        for line in kind_table(kind_named("namespace")).splitlines()[2:]
    }
    assert rows["public"].endswith("| replaces it | back to `false`: a replacement |")
    assert "a new address" in rows["name"]


def test_an_unclosed_region_is_an_error() -> None:
    with pytest.raises(ValueError, match="no '<!-- end generated -->'"):
        rewritten("<!-- generated: removals (python -m reconciler.kinds.reference) -->\n| x |\n")


def test_the_changes_table_puts_each_key_in_its_column() -> None:
    from reconciler.kinds import kind_named
    from reconciler.kinds.reference import changes_table

    rows = changes_table([kind_named("k8s_cluster"), kind_named("instance_group")]).split("\n")
    cluster = rows[2].split(" | ")
    group = rows[3].split(" | ")
    assert "`forbidDelete`" in cluster[1] and "`clusterAutoscaler`" in cluster[1]
    assert cluster[2].startswith("`k8sVersion` (the v2 API cannot upgrade")
    assert "`vpcID`" in cluster[3] and "`vpcID`" not in cluster[1] + cluster[2]
    assert "`labels`, `taints`, `annotations` (PUT .../instancegroup/{id}/configure" in group[1]
    assert "`autoscaler.enabled`" not in group[1]  # a mapping changed whole is one entry
    assert group[2] == "-" and "`imageID`" in group[3]
