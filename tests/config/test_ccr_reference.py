"""``python -m reconciler.kinds.reference --check`` says when a CCR Enterprise kind's table is
stale, and rewriting it writes what the kind's field table says (the committed regions are
checked for every kind in tests/unit/test_reference.py)."""

from __future__ import annotations

from pathlib import Path

from reconciler.kinds.reference import main


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
