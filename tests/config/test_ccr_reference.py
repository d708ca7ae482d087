"""The CCR Enterprise kinds' reference tables in docs/configuration.md are what their field
tables say (``python -m reconciler.kinds.reference`` rewrites them)."""

from __future__ import annotations

from pathlib import Path

from reconciler.kinds import table_kinds
from reconciler.kinds.reference import main, rewritten

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_committed_tables_are_what_the_field_tables_make() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert rewritten(text) == text, "run: python -m reconciler.kinds.reference"
    for kind in table_kinds():
        assert (
            f"<!-- generated: kind {kind.name} (python -m reconciler.kinds.reference) -->" in text
        )


def test_check_mode_says_when_a_table_is_stale(tmp_path: Path) -> None:
    stale = tmp_path / "doc.md"
    stale.write_text(
        "<!-- generated: kind ccr_project (python -m reconciler.kinds.reference) -->\n"
        "| old |\n<!-- end generated -->\n",
        encoding="utf-8",
    )
    assert main(["--check", str(stale)]) == 1
    assert main([str(stale)]) == 0
    assert "`autoScan`" in stale.read_text(encoding="utf-8")
    assert main(["--check", str(stale)]) == 0
