"""Plan fixtures: each folder holds desired.yaml, state.json (optional), live.json and the
expected text (expected.txt) and JSON summary (expected.json) of the plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.config import load_desired_state
from reconciler.kinds import names as kind_names
from reconciler.model import Address
from reconciler.planner import make_plan
from reconciler.render import plan_to_json, render_plan

from .livefixture import live_from, state_from

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
SECRETS = {"CCR_PASSWORD": "Passw0rd-new"}


def run_case(case: str) -> tuple[str, dict]:
    folder = FIXTURES / case
    desired = load_desired_state([str(folder / "desired.yaml")])
    state = state_from(folder / "state.json")
    live = live_from(json.loads((folder / "live.json").read_text()))
    options = (
        json.loads((folder / "options.json").read_text())
        if (folder / "options.json").exists()
        else {}
    )
    secrets = {(Address.parse(a, kind_names()), k): v for a, k, v in options.get("secrets", [])}
    plan = make_plan(
        desired,
        state,
        live,
        secrets,
        targets=[Address.parse(t, kind_names()) for t in options.get("targets", [])],
        allow_replace=[Address.parse(t, kind_names()) for t in options.get("replace", [])],
    )
    return render_plan(plan), plan_to_json(plan)


@pytest.mark.parametrize("case", CASES)
def test_plan_fixture(case: str) -> None:
    text, doc = run_case(case)
    folder = FIXTURES / case
    assert text.strip() == (folder / "expected.txt").read_text().strip()
    expected = json.loads((folder / "expected.json").read_text())
    assert doc["summary"] == expected["summary"]
    actions = {c["address"]: c["action"] for c in doc["changes"]}
    assert actions == expected["actions"]
