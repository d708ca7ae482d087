"""watch.policy: what a watch run applies, what it holds and why, and what it remembers."""

from __future__ import annotations

from reconciler.diff import FieldChange
from reconciler.errors import AuthError, FatalServerError, TransientServerError
from reconciler.kinds import build_spec
from reconciler.model import Action, Address, DesiredState, Spec
from reconciler.plan import Change, Plan
from reconciler.state import ResourceState, State
from reconciler.watch.policy import (
    AUTOSCALED,
    BACKOFF,
    BLAST,
    DRIFTED,
    MODE,
    PARKED,
    PENDING,
    RECENT,
    REFUSED,
    WAITING,
    EnvironmentMemory,
    Mode,
    decide,
    narrowed,
)

NS = Address("namespace", "a")
REPO = Address("repository", "a/app")
OTHER = Address("namespace", "b")
TAGS = FieldChange("tags", ["latest"], ["latest", "v1"])
INTERVAL = 60.0


def update(address: Address, *, drift: bool = False, **kw: object) -> Change:
    return Change(
        address,
        Action.UPDATE,
        "r",
        {"tags": ["latest"]},
        {"tags": ["latest", "v1"]},
        fields=(TAGS,),
        cloud_id=str(address),
        drift=(TAGS,) if drift else (),
        **kw,  # type: ignore[arg-type]
    )


def desired(*specs: Spec) -> DesiredState:
    return DesiredState({s.address: s for s in specs})


def managed(*addresses: Address) -> State:
    return State(resources={a: ResourceState(a.kind, str(a)) for a in addresses})


def run(
    plan: Plan,
    mode: Mode = Mode.ENFORCE,
    memory: EnvironmentMemory | None = None,
    want: DesiredState | None = None,
    now: float = 1000.0,
    **kw: object,
):  # type: ignore[no-untyped-def]
    return decide(
        plan,
        managed(NS, REPO, OTHER),
        want or desired(),
        mode,
        memory or EnvironmentMemory(),
        now=now,
        interval=INTERVAL,
        inputs="config-1",
        **kw,  # type: ignore[arg-type]
    )


def test_a_resource_may_narrow_the_mode_never_widen_it() -> None:
    assert narrowed(Mode.ENFORCE, "observe") is Mode.OBSERVE
    assert narrowed(Mode.WARN, "enforce") is Mode.WARN
    assert narrowed(Mode.OBSERVE, None) is Mode.OBSERVE


def test_observe_applies_nothing_and_reports_drift_and_pending() -> None:
    plan = Plan((update(NS, drift=True), update(OTHER)))
    decision = run(plan, Mode.OBSERVE)
    assert decision.apply.changes == ()
    assert {a: (r.status, r.hold) for a, r in decision.reports.items()} == {
        NS: (DRIFTED, MODE),
        OTHER: (PENDING, MODE),
    }


def test_lifecycle_reconcile_observe_holds_only_that_resource() -> None:
    observed = build_spec("namespace", {"name": "a", "lifecycle": {"reconcile": "observe"}})
    want = desired(observed, build_spec("namespace", {"name": "b"}))
    decision = run(Plan((update(NS, drift=True), update(OTHER))), want=want)
    assert [c.address for c in decision.apply.changes] == [OTHER]
    assert decision.reports[NS].held == "lifecycle.reconcile observe: reported, not applied"


def test_a_refused_change_holds_what_waits_for_it_and_nothing_else() -> None:
    refused = update(NS, refused="replacement must be allowed with --replace namespace.a")
    waiting = update(REPO, depends_on=(NS,))
    decision = run(Plan((refused, waiting, update(OTHER))))
    assert [c.address for c in decision.apply.changes] == [OTHER]
    assert decision.reports[NS].hold == REFUSED
    assert (decision.reports[REPO].hold, decision.reports[REPO].held) == (
        WAITING,
        "waits for namespace.a, which is held",
    )


def test_the_blast_radius_guard_holds_the_whole_run() -> None:
    deletes = tuple(
        Change(a, Action.DELETE, "gone", {"x": 1}, None, cloud_id=str(a)) for a in (NS, REPO, OTHER)
    )
    decision = run(Plan(deletes))
    assert decision.apply.changes == () and decision.blast is not None
    assert {r.hold for r in decision.reports.values()} == {BLAST}


def test_failures_back_off_exponentially_and_auth_or_quota_errors_park() -> None:
    memory = EnvironmentMemory()
    error = TransientServerError("busy", status=500, code="InternalError")
    for count, delay in ((1, 60), (2, 120), (3, 240)):
        failure = memory.fail(NS, error, 0.0, INTERVAL, 200.0, "config-1")
        assert (failure.count, failure.retry_at) == (count, min(delay, 200.0))
    assert run(Plan((update(NS),)), memory=memory, now=100.0).reports[NS].hold == BACKOFF
    assert run(Plan((update(NS),)), memory=memory, now=180.0).apply.changes  # within half one

    memory = EnvironmentMemory()
    memory.fail(NS, AuthError("denied", status=403, code="AccessDenied"), 0.0, 60, 600, "config-1")
    memory.fail(
        OTHER, FatalServerError("q", code="Cce.namespaceOverQuota"), 0.0, 60, 600, "config-1"
    )
    later = run(Plan((update(NS), update(OTHER))), memory=memory, now=10_000.0)
    assert {r.hold for r in later.reports.values()} == {PARKED}
    changed = decide(
        Plan((update(NS),)),
        managed(NS),
        desired(),
        Mode.ENFORCE,
        memory,
        now=10_000.0,
        interval=INTERVAL,
        inputs="config-2",
    )
    assert [c.address for c in changed.apply.changes] == [NS]  # the inputs changed: tried again


def test_a_drift_repaired_less_than_half_an_interval_ago_waits_for_the_next_run() -> None:
    memory = EnvironmentMemory(repaired_at={NS: 990.0})
    held = run(Plan((update(NS, drift=True),)), memory=memory, now=1000.0)
    assert held.reports[NS].hold == RECENT
    assert run(Plan((update(NS, drift=True),)), memory=memory, now=1050.0).apply.changes


def test_an_autoscaled_field_is_never_repaired() -> None:
    decision = run(Plan((update(NS, drift=True),)), autoscaled=lambda c: frozenset({"tags"}))
    assert decision.apply.changes == ()
    assert decision.reports[NS].hold == AUTOSCALED


def test_new_is_said_once_until_it_changes_or_is_forgotten() -> None:
    memory = EnvironmentMemory()
    assert memory.is_new("drift", NS, "tags")
    assert not memory.is_new("drift", NS, "tags")
    assert memory.is_new("drift", NS, "tags,public")
    memory.forget("drift", NS)
    assert memory.is_new("drift", NS, "tags,public")
