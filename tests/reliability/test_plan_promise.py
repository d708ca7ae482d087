"""The promise of `plan`: a green plan means a green apply (issue #16, item 6).

Each case: objects created outside the reconciler through the real client (a registry user,
namespaces, repositories, a cluster, with names from small alphabets so they collide with the
declared ones), then maybe a previous apply of another generated configuration (managed state)
and changes made outside after it (a namespace deleted or re-created with the other `public`,
tags pushed or removed, a repository deleted, a cluster deleted or given a node), then the
configuration under test: a user (0..1) whose password may break the cloud's rule or be unset,
namespaces (0..4), repositories (0..6, a few in undeclared namespaces), at most one small v1
cluster, `lifecycle.protect` here and there. Against the fault-free emulator, reset per case,
with a fresh state file per case, `plan --detailed-exitcode --json` is held to what
`apply --auto-approve` then does:

- plan exits 0 or 2 and lists no refusal and no conflict: apply exits 0 (sending nothing when
  plan exited 0) and the next `plan --detailed-exitcode` exits 0;
- plan exits 3, or 6 (only the blast-radius guard), or lists a refusal: apply exits 3 and sends
  no mutating request; when every refusal names its way out (`--replace ADDR`,
  `--allow-deletes N`), plan and apply run again with those flags and the promise holds for them;
- plan exits 1 (an invalid config, a secret not set): apply exits 1 and sends nothing;
- never `internal error`, never a traceback.

15 derandomized examples by default (a few seconds); RECONCILER_LONG=1 (`make test-long`) runs
500 random ones. The counts of cases by outcome are printed (`-s`) and recorded under
RECONCILER_RELIABILITY_REPORT (suite "plan-promise"). The counterexamples found so far are
replayed at the end of this file: those fixed as plain tests, each known bug as an `xfail` test,
its shape excluded from the property with `assume` (KNOWN_BUGS) so the search goes on.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.errors import NotFoundError
from reconciler.kinds.cluster import bcc_config, cluster_body
from reconciler.plan import BLAST_RADIUS
from tests.e2e.conftest import Result, Workspace

from .scenario import LONG_SWEEP
from .test_faults import record

USERNAMES = ("ccetest", "alice1")
# The emulator takes 8-32 characters with an ASCII letter and an ASCII digit
# (reconciler/emulator/registry_v1/models.py); the plan's rule is 8-20 with upper, lower and digit.
GOOD_PASSWORDS = ("Passw0rd-e2e1", "Other-pass9")  # both rules take them
PASSWORDS = GOOD_PASSWORDS + (
    "Pw0-x",  # too short for both
    "no-digits-here",  # no digit
    "lower-case-only1",  # no upper case: only the plan's rule refuses it
    "Abcdefghijklmnopqrstuvw1",  # 24 characters: only the plan's rule refuses it
    "ÄÖÜäöüß1",  # letters, but no ASCII letter
    "Pässwörd\u0663",  # a digit, but no ASCII digit (ARABIC-INDIC DIGIT THREE)
)
NAMESPACES = ("ns-a", "ns-b", "ns-c", "Ns_D.1")
REPOSITORIES = ("api", "web", "lib/core")
TAGS = ("latest", "v1", "v2")
DESCRIPTIONS = (None, "", "payments", "web app", "支付 API", "two\nlines")
CLUSTER_NAMES = ("prod", "stage")
VERSIONS = ("1.20.8", "1.18.9")
NETS = ("172.16.0.0/16", "172.17.0.0/16")
PASSWORD_ENV = "CCR_PASSWORD"  # the configuration under test
PREVIOUS_PASSWORD_ENV = "CCR_PASSWORD_PREVIOUS"  # the previous apply's configuration
EXAMPLES = 500 if LONG_SWEEP else 15
CONFIG_ERROR = re.compile(r"^\S+:\d+:\d+: error: .+$")  # file:line:column diagnostics


# --- the generated cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    username: str
    password: str | None  # None: the environment variable is not set
    protect: bool | None = None


@dataclass(frozen=True)
class Namespace:
    name: str
    public: bool | None = None
    protect: bool | None = None


@dataclass(frozen=True)
class Repository:
    namespace: str
    name: str
    tags: tuple[str, ...] = ("latest",)
    description: str | None = None
    protect: bool | None = None


@dataclass(frozen=True)
class Cluster:
    name: str
    version: str = "1.20.8"
    container_net: str = "172.16.0.0/16"
    count: int = 1
    protect: bool | None = None

    def attrs(self) -> dict[str, Any]:
        """The declared attributes, in the shape `cluster_body` takes (for seeding)."""
        return {
            "name": self.name,
            "version": self.version,
            "mainAvailableZone": "zoneA",
            "containerNet": self.container_net,
            "workers": {
                "count": self.count,
                "instanceType": "10",
                "cpu": 4,
                "memory": 8,
                "imageId": "m-1",
                "subnetUuid": "sbn-1",
                "securityGroupId": "g-1",
            },
        }


@dataclass(frozen=True)
class Config:
    user: User | None = None
    namespaces: tuple[Namespace, ...] = ()
    repositories: tuple[Repository, ...] = ()
    cluster: Cluster | None = None

    def yaml(self, password_env: str) -> str:
        """The YAML body (without `target`); the password is referenced through `password_env`."""
        lines: list[str] = []
        if self.user is not None:
            lines += ["users:", f"  - username: {self.user.username}"]
            lines.append(f"    password: {{env: {password_env}}}")
            lines += _lifecycle(self.user.protect)
        if self.namespaces:
            lines.append("namespaces:")
        for ns in self.namespaces:
            lines.append(f"  - name: {ns.name}")
            if ns.public is not None:
                lines.append(f"    public: {json.dumps(ns.public)}")
            lines += _lifecycle(ns.protect)
        if self.repositories:
            lines.append("repositories:")
        for repo in self.repositories:
            lines += [f"  - namespace: {repo.namespace}", f"    name: {repo.name}"]
            lines.append(f"    tags: [{', '.join(repo.tags)}]")
            if repo.description is not None:
                lines.append(f"    description: {json.dumps(repo.description)}")
            lines += _lifecycle(repo.protect)
        if self.cluster is not None:
            c = self.cluster
            lines += [
                "clusters:",
                f"  - name: {c.name}",
                f'    version: "{c.version}"',
                "    mainAvailableZone: zoneA",
                f"    containerNet: {c.container_net}",
                f'    workers: {{count: {c.count}, instanceType: "10", cpu: 4, memory: 8, '
                "imageId: m-1, subnetUuid: sbn-1, securityGroupId: g-1}",
            ]
            lines += _lifecycle(c.protect)
        return "".join(line + "\n" for line in lines)


def _lifecycle(protect: bool | None) -> list[str]:
    return [] if protect is None else [f"    lifecycle: {{protect: {json.dumps(protect)}}}"]


@dataclass(frozen=True)
class Live:
    """Objects created outside the reconciler before anything runs."""

    user: User | None = None
    namespaces: tuple[Namespace, ...] = ()
    repositories: tuple[Repository, ...] = ()
    cluster: Cluster | None = None


@dataclass(frozen=True)
class Edit:
    """A change made outside the reconciler after the previous apply (if the object exists)."""

    action: str  # one of EDITS
    target: str  # a namespace, "namespace/repository" or a cluster name
    tag: str = "v1"


NAMESPACE_EDITS = ("delete namespace", "flip public")  # flip: delete, create with the other flag
REPOSITORY_EDITS = ("delete repository", "push tag", "remove tag")  # push: may create it
CLUSTER_EDITS = ("delete cluster", "add node")
EDITS = NAMESPACE_EDITS + REPOSITORY_EDITS + CLUSTER_EDITS


@dataclass(frozen=True)
class Case:
    live: Live
    previous: Config | None
    config: Config
    edits: tuple[Edit, ...] = ()


protects = st.sampled_from((None, None, None, False, True))
tag_sets = st.sets(st.sampled_from(TAGS), min_size=1).map(lambda s: tuple(sorted(s)))


# mostly one both rules take; None: the variable is not set
passwords = st.one_of(st.sampled_from(GOOD_PASSWORDS), st.sampled_from((*PASSWORDS, None)))


def users(
    password: st.SearchStrategy[str | None] = passwords, names: tuple[str, ...] = USERNAMES
) -> st.SearchStrategy[User]:
    return st.builds(User, st.sampled_from(names), password, protects)


def namespaces() -> st.SearchStrategy[Namespace]:
    return st.builds(Namespace, st.sampled_from(NAMESPACES), st.none() | st.booleans(), protects)


@st.composite
def repositories(draw: st.DrawFn, declared: list[str]) -> Repository:
    undeclared = not declared or draw(st.integers(0, 15)) == 15  # mostly in a declared one
    namespace = draw(st.sampled_from(NAMESPACES if undeclared else declared))
    return Repository(
        namespace,
        draw(st.sampled_from(REPOSITORIES)),
        draw(tag_sets),
        draw(st.sampled_from(DESCRIPTIONS)),
        draw(protects),
    )


def clusters() -> st.SearchStrategy[Cluster]:
    return st.builds(
        Cluster,
        st.sampled_from(CLUSTER_NAMES),
        st.sampled_from(VERSIONS),
        st.sampled_from(NETS),
        st.integers(0, 2),
        protects,
    )


def sometimes(strategy: st.SearchStrategy[Any], one_in: int) -> st.SearchStrategy[Any]:
    """`strategy` once in `one_in` draws, else None (shrinks to None)."""
    return st.integers(1, one_in).flatmap(lambda n: strategy if n == one_in else st.none())


@st.composite
def configs(draw: st.DrawFn, user: st.SearchStrategy[User | None] | None = None) -> Config:
    declared = draw(st.lists(namespaces(), max_size=4, unique_by=lambda ns: ns.name))
    names = [ns.name for ns in declared]
    most = 6 if names else draw(st.sampled_from((0, 0, 0, 1)))  # no namespace: a config error
    repos = draw(
        st.lists(repositories(names), max_size=most, unique_by=lambda r: (r.namespace, r.name))
    )
    chosen = draw(user if user is not None else st.none() | users())
    return Config(chosen, tuple(declared), tuple(repos), draw(st.none() | clusters()))


@st.composite
def variants(draw: st.DrawFn, base: Config) -> Config:
    """`base` with some objects kept, some changed in place or in a replace-forcing way, some
    dropped, and maybe some new ones: the edits a user makes between two applies."""
    edit = st.sampled_from(("keep", "keep", "change", "drop"))
    user = base.user
    if user is not None:
        how = draw(edit)
        user = None if how == "drop" else (draw(users()) if how == "change" else user)
    kept: list[Namespace] = []
    for ns in base.namespaces:
        how = draw(edit)
        if how != "drop":
            kept.append(ns if how == "keep" else replace(ns, public=not ns.public, protect=None))
    names = {ns.name for ns in kept}
    repos: list[Repository] = []
    for repo in base.repositories:
        how = draw(edit)
        if how == "drop" or repo.namespace not in names:
            continue
        repos.append(
            repo
            if how == "keep"
            else replace(repo, tags=draw(tag_sets), description=draw(st.sampled_from(DESCRIPTIONS)))
        )
    cluster = base.cluster
    if cluster is not None:
        how = draw(edit)
        if how == "change":  # the count in place, or a field that forces a replacement
            cluster = replace(draw(clusters()), name=cluster.name)
        cluster = None if how == "drop" else cluster
    extra = draw(st.none() | configs())
    if extra is not None:
        kept += [ns for ns in extra.namespaces if ns.name not in names]
        taken = {(r.namespace, r.name) for r in repos}
        repos += [r for r in extra.repositories if (r.namespace, r.name) not in taken]
        user = user or extra.user
        cluster = cluster or extra.cluster
    return Config(user, tuple(kept), tuple(repos), cluster)


@st.composite
def lives(draw: st.DrawFn) -> Live:
    user = draw(sometimes(users(st.sampled_from(GOOD_PASSWORDS)), 3))
    cluster = draw(sometimes(clusters(), 3))
    if user is None:
        return Live(cluster=cluster)
    made = draw(st.lists(namespaces(), max_size=2, unique_by=lambda ns: ns.name))
    names = [ns.name for ns in made]
    repos = draw(
        st.lists(repositories(names), max_size=2, unique_by=lambda r: (r.namespace, r.name))
        if names
        else st.just([])
    )
    repos = [r for r in repos if r.namespace in names]
    return Live(user, tuple(made), tuple(repos), cluster)


repository_ids = st.builds(
    lambda ns, name: f"{ns}/{name}", st.sampled_from(NAMESPACES), st.sampled_from(REPOSITORIES)
)
edits = st.one_of(
    st.builds(Edit, st.sampled_from(NAMESPACE_EDITS), st.sampled_from(NAMESPACES)),
    st.builds(Edit, st.sampled_from(REPOSITORY_EDITS), repository_ids, st.sampled_from(TAGS)),
    st.builds(Edit, st.sampled_from(CLUSTER_EDITS), st.sampled_from(CLUSTER_NAMES)),
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    live = draw(lives())
    # mostly a previous config that can apply: the account's one user, or none when it has one
    good = users(st.sampled_from(GOOD_PASSWORDS))
    user = st.none() if live.user else st.one_of(good, sometimes(st.none(), 2))
    previous = draw(st.none() | configs(user))
    if previous is not None and draw(st.booleans()):
        config = draw(variants(previous))
    else:
        # mostly the account's user (or none when it has one), sometimes anyone
        account = live.user or (previous.user if previous else None)
        likely = st.none() | users(names=(account.username,)) if account else users()
        config = draw(
            configs(st.integers(0, 3).flatmap(lambda n: likely if n else st.none() | users()))
        )
    changed = draw(st.lists(edits, max_size=2)) if previous is not None else []
    return Case(live, previous, config, tuple(changed))


# --- running one case ---------------------------------------------------------------------------


@dataclass
class Transcript:
    """What happened, for the failure message: enough to replay the case by hand."""

    lines: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.lines.append(text)

    def run(self, what: str, result: Result) -> None:
        self.note(f"$ reconciler {what}  -> exit {result.code}\n{result.out}{result.err}")

    def __str__(self) -> str:
        return "\n".join(self.lines)


def seed(ws: Workspace, live: Live) -> None:
    """Create `live` through the real client, as someone else would."""
    credentials = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, credentials) as client:
        if live.user is not None:
            client.create_user(live.user.username, live.user.password or "")
            for ns in live.namespaces:
                client.create_namespace(ns.name, public=bool(ns.public), user=live.user.username)
            for repo in live.repositories:
                for tag in repo.tags:
                    client.create_image_meta(repo.namespace, repo.name, tag, repo.description)
        if live.cluster is not None:
            client.create_cluster(cluster_body(live.cluster.attrs(), None))
            client.list_clusters()  # the emulator settles the create on the next read


def edit_outside(ws: Workspace, changes: tuple[Edit, ...]) -> None:
    """Make `changes` through the real client; one whose object does not exist does nothing."""
    credentials = Credentials(ws.emulator.access_key_id, ws.emulator.secret_access_key)
    with CceClient.connect(ws.emulator.url, credentials) as client:
        for change in changes:
            try:
                edit_one(client, change)
            except NotFoundError:
                pass


def edit_one(client: CceClient, change: Edit) -> None:
    namespace, _, repository = change.target.partition("/")
    if change.action in NAMESPACE_EDITS:
        public = client.get_namespace(namespace).public
        client.delete_namespace(namespace)
        if change.action == "flip public":
            user = client.get_user().username
            client.create_namespace(namespace, public=not public, user=user)
    elif change.action == "delete repository":
        client.delete_repository(namespace, repository)
    elif change.action == "push tag":
        client.create_image_meta(namespace, repository, change.tag)
    elif change.action == "remove tag":
        client.delete_image_meta(namespace, repository, change.tag)
    else:
        edit_cluster(client, change)


def edit_cluster(client: CceClient, change: Edit) -> None:
    for cluster in client.list_clusters():
        if cluster.cluster_name != change.target or cluster.status != "RUNNING":
            continue
        if change.action == "delete cluster":
            client.delete_cluster(cluster.cluster_uuid)
        else:
            attrs = Cluster(cluster.cluster_name).attrs()
            order = {"items": [{"config": bcc_config(attrs, 1, None)}]}
            client.scale_up(cluster.cluster_uuid, order)
    client.list_clusters()  # the emulator settles a lifecycle on the next read


def write_config(ws: Workspace, root: Path, config: Config, password_env: str) -> None:
    body = config.yaml(password_env)
    (root / "main.yaml").write_text(f"target:\n  endpoint: {ws.emulator.url}\n{body}")


def no_crash(result: Result, transcript: Transcript) -> None:
    assert "internal error" not in result.err, f"internal error\n{transcript}"
    assert "Traceback" not in result.out + result.err, f"traceback\n{transcript}"


@dataclass
class Runner:
    ws: Workspace
    root: Path
    transcript: Transcript

    def cli(self, *args: str) -> tuple[Result, list[dict[str, Any]]]:
        """Run the CLI on this case's directory; return its result and its mutating requests."""
        mark = self.ws.emulator.next_index()
        result = self.ws.cli(args[0], str(self.root), *args[1:])
        self.transcript.run(" ".join(args), result)
        no_crash(result, self.transcript)
        return result, self.ws.emulator.mutating_requests(since=mark)

    def fail(self, message: str) -> None:
        raise AssertionError(f"{message}\n{self.transcript}")

    def expect(self, condition: bool, message: str) -> None:
        if not condition:
            self.fail(message)

    def converges(self) -> None:
        final, sent = self.cli("plan", "--detailed-exitcode")
        self.expect(final.code == 0 and not sent, "the plan after a green apply is not empty")


def describe(case: Case) -> str:
    """The case as a reader replays it: what was created outside, the previous config and
    its password, the edits made outside after it, the config under test and its password."""
    previous = case.previous.yaml(PREVIOUS_PASSWORD_ENV) if case.previous else "(none)\n"
    return (
        f"created outside first: {case.live}\n"
        f"previous config (applied), {PREVIOUS_PASSWORD_ENV}={_password(case.previous)!r}:\n"
        f"{previous}"
        f"then changed outside: {list(case.edits) or '-'}\n"
        f"config under test, {PASSWORD_ENV}={_password(case.config)!r}:\n"
        f"{case.config.yaml(PASSWORD_ENV)}"
    )


def _password(config: Config | None) -> str | None:
    return config.user.password if config is not None and config.user is not None else None


def check_promise(runner: Runner) -> str:
    """Hold plan to what apply does; return the outcome's name for the counts.

    A refusal that names its way out (`--replace ADDR`, `--allow-deletes N`) is followed by
    another round with those flags given to both plan and apply: the promise holds for them too.
    """
    flags: list[str] = []
    steps: list[str] = []
    for _ in range(3):  # --replace, then --allow-deletes, then nothing is left to ask for
        outcome, more = one_round(runner, flags)
        steps.append(outcome)
        if not more:
            break
        flags += more
    return " -> ".join(steps)


def plan_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line]
    if lines and all(CONFIG_ERROR.match(line) for line in lines):
        unset = all(line.endswith(" is not set") for line in lines)
        return "secret not set" if unset else "invalid config"
    return err.strip()


def one_round(runner: Runner, flags: list[str]) -> tuple[str, list[str]]:
    """plan FLAGS, then apply FLAGS; return the outcome and the flags a refusal asks for."""
    plan, sent = runner.cli("plan", *flags, "--detailed-exitcode", "--json")
    runner.expect(not sent, "plan sent a mutating request")
    runner.expect(plan.code in (0, 1, 2, 3, 6), f"plan exited {plan.code}")
    if plan.code == 1:
        applied, sent = runner.cli("apply", *flags, "--auto-approve")
        runner.expect(
            applied.code == 1 and not sent, "plan exited 1 but apply did not fail cleanly"
        )
        return f"plan exit 1 ({plan_error(plan.err)})", []
    doc = json.loads(plan.out)
    refusals, conflicts = doc["refusals"], doc["conflicts"]
    runner.expect(
        (plan.code in (0, 2)) == (not refusals and not conflicts),
        "plan's exit code and its refusals disagree",
    )
    blast_only = bool(refusals) and all(r["reason"] == BLAST_RADIUS for r in refusals)
    runner.expect(
        (plan.code == 6) == blast_only, "plan's exit code is not 6 for a blast-radius-only refusal"
    )
    applied, sent = runner.cli("apply", *flags, "--auto-approve")
    if plan.code in (0, 2):
        runner.expect(applied.code == 0, "plan was green but apply failed")
        runner.expect(plan.code == 2 or not sent, "plan said no changes but apply sent requests")
        runner.converges()
        return ("no changes" if plan.code == 0 else "applied"), []
    runner.expect(applied.code == 3, "plan refused but apply did not exit 3")
    runner.expect(not sent, "apply refused but sent mutating requests")
    reasons = {r["reason"] for r in refusals} | ({"conflict"} if conflicts else set())
    needs = [r["needs"] for r in refusals]
    way_out = not conflicts and all(needs)
    more = [word for need in needs for word in need.split()] if way_out else []
    return f"refused ({', '.join(sorted(reasons))})", more


def managed_addresses(root: Path) -> set[str]:
    path = root / ".reconciler" / "state.json"
    return set(json.loads(path.read_text())["resources"]) if path.exists() else set()


def run_case(ws: Workspace, case: Case, excluded: Counter[str] | None = None) -> str:
    """Run one case; with `excluded`, skip (and count there) the shapes of known bugs."""
    ws.emulator.reset()
    root = Path(tempfile.mkdtemp(dir=ws.root))  # a fresh state file per example
    transcript = Transcript([describe(case)])
    runner = Runner(ws, root, transcript)
    seed(ws, case.live)
    if case.previous is not None:
        write_config(ws, root, case.previous, PREVIOUS_PASSWORD_ENV)
        runner.cli("apply", "--auto-approve")
        edit_outside(ws, case.edits)
    write_config(ws, root, case.config, PASSWORD_ENV)
    if excluded is not None:
        cloud, managed = ws.emulator.state(), managed_addresses(root)
        known = [bug.__name__ for bug in KNOWN_BUGS if bug(case, cloud, managed)]
        if known:
            excluded[f"excluded: {known[0]}"] += 1
        assume(not known)
    return check_promise(runner)


# --- known bugs: shapes the property skips until they are fixed (none today) -------------------


KNOWN_BUGS: list[Any] = []


# --- the property ---------------------------------------------------------------------------------


def test_a_green_plan_means_a_green_apply(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not LONG_SWEEP,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(cases())
    def promise(case: Case) -> None:
        set_passwords(monkeypatch, case)
        outcomes[run_case(ws, case, outcomes)] += 1

    promise()
    print(f"\nplan promise: {sum(outcomes.values())} cases: {dict(sorted(outcomes.items()))}")
    record({"suite": "plan-promise", **outcomes})


def set_passwords(monkeypatch: pytest.MonkeyPatch, case: Case) -> None:
    for env, config in ((PASSWORD_ENV, case.config), (PREVIOUS_PASSWORD_ENV, case.previous)):
        password = _password(config)
        if password is None:
            monkeypatch.delenv(env, raising=False)
        else:
            monkeypatch.setenv(env, password)


# --- counterexamples the property found -----------------------------------------------------------

# Found while this test was written (plan green, apply failed); fixed since (57dc648) by plan
# refusing them as "invalid" (each kind's `refusal`). Kept as the shortest replays of each.
FIXED = {
    "namespace without a registry user": Case(Live(), None, Config(None, (Namespace("ns-a"),))),
    "too-short password, create": Case(Live(), None, Config(User("ccetest", "Pw0-x"))),
    "too-short password, rotation": Case(
        Live(), Config(User("ccetest", "Passw0rd-e2e1")), Config(User("ccetest", "Pw0-x"))
    ),
    "a second registry user": Case(
        Live(User("alice1", "Other-pass9")), None, Config(User("ccetest", "Passw0rd-e2e1"))
    ),
    "containerNet of a live cluster": Case(
        Live(cluster=Cluster("prod", container_net="172.17.0.0/16")),
        None,
        Config(cluster=Cluster("stage", container_net="172.17.0.0/16")),
    ),
}

# Found later (plan's password rule took any Unicode letter or digit); fixed by ASCII classes.
FIXED["non-ASCII password, create"] = Case(Live(), None, Config(User("ccetest", "ÄÖÜäöüß1")))
FIXED["non-ASCII password, rotation"] = Case(
    Live(), Config(User("ccetest", "Passw0rd-e2e1")), Config(User("ccetest", "Pässwörd\u0663"))
)


@pytest.mark.parametrize("case", FIXED.values(), ids=FIXED.keys())
def test_the_promise_holds_where_it_once_broke(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    set_passwords(monkeypatch, case)
    run_case(ws, case)
