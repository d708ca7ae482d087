"""Rules of the suite itself: `make test` cannot fail by chance, `make test-long` explores."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import settings

from tests.conftest import LONG

ROOT = Path(__file__).resolve().parents[1]


def test_make_test_draws_the_same_examples_on_every_run_and_replays_no_database() -> None:
    if LONG:
        assert not settings.default.derandomize and settings.default.database is None
    else:
        assert settings.default.derandomize and settings.default.database is None


def test_make_test_long_explores_every_property_test_randomly() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest-long:", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"RECONCILER_LONG=1 \S+ -m pytest .*-m property tests", recipe), recipe


def test_every_hypothesis_test_is_marked_for_test_long(request) -> None:  # type: ignore[no-untyped-def]
    from tests.reliability import test_fuzz_cli

    assert (
        test_fuzz_cli.test_mutated_valid_configs._hypothesis_internal_use_settings.derandomize
        != LONG
    )
    # the collection hook marks them; the marker is registered (no "unknown marker" warning)
    assert "property" in "".join(request.config.getini("markers"))
