"""The GitOps examples run for real: the shell steps of examples/gitops' GitHub Actions workflow
and GitLab pipeline, exactly as written, in bash, against the session emulator and a throwaway
PostgreSQL state (the fixture of tests/state).

The test plays the CI service and nothing else. ``GitHubRunner`` picks the job an event starts
(the job's ``if:``), gives each step the workflow's ``env:`` with the ``${{ }}`` expressions
filled in from a fixed table (an expression the table lacks fails the test, so the workflow
cannot quietly depend on something the test does not provide), honours ``if: !cancelled()``,
and stands in for the ``uses:`` actions (checkout copies a prepared checkout; setup-python is
the ``reconciler`` wrapper on PATH; upload-artifact copies files into an artifact store).
``GitLabRunner`` does the same for ``rules:``, ``variables:``, ``before_script`` + ``script``
(one shell, as the GitLab runner does) and ``artifacts:``. Stubs on PATH: ``pip`` (logs what
it was asked to install), ``gh`` and ``curl`` (the few GitHub / GitLab API calls the files
make: post the comment, find the reviewed plans, download them). Either way the emulator is
reached through the files' own ``--var endpoint=$CCE_ENDPOINT``, with ``CCE_ENDPOINT`` set
the way a user would set it (a repository variable, a CI/CD variable).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler.client.credentials import Credentials
from reconciler.client.v1 import CceClient
from reconciler.emulator.testing import EmulatorHandle
from reconciler.kinds import names as kind_names
from reconciler.planfile import read as read_plan
from reconciler.state.postgres import PostgresStateStore
from tests.state.conftest import PgServer, pg_server

from .conftest import PASSWORD, ROOT

__all__ = ["pg_server"]

GITOPS = ROOT / "examples" / "gitops"
WORKFLOW = GITOPS / ".github" / "workflows" / "reconcile.yml"
GITLAB = GITOPS / ".gitlab-ci.yml"
CONFIG = ROOT / "examples" / "environments"
ENVIRONMENTS = ("dev", "staging", "prod")
REPOSITORY = "example/infra"
STEP_TIMEOUT = 180  # seconds for one step: a few reconciler runs against a local emulator
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepRun:
    name: str
    code: int | None  # None: skipped
    output: str = ""


@dataclass
class JobRun:
    job: str
    workdir: Path
    steps: list[StepRun] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(s.code for s in self.steps)

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if s.name == name)

    def log(self) -> str:
        return "\n".join(f"--- {s.name} (exit {s.code})\n{s.output}" for s in self.steps)


def step_name(step: dict[str, Any]) -> str:
    return str(step.get("name") or step.get("uses") or step["run"].splitlines()[0])


def expand(value: Any, table: dict[str, str]) -> str:
    """An ``env:`` value with its ``${{ }}`` expressions replaced from ``table``."""

    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression not in table:
            raise AssertionError(
                f"the workflow reads ${{{{ {expression} }}}}; the test gives no value"
            )
        return table[expression]

    return EXPRESSION.sub(one, str(value))


def job_runs_on(condition: str, event: str) -> bool:
    """A job's ``if:``: only ``github.event_name == '...'`` joined by ``||`` is understood."""
    matched = False
    for alternative in condition.split("||"):
        found = re.fullmatch(r"\s*github\.event_name == '(\w+)'\s*", alternative)
        assert found, f"the test cannot evaluate the job condition {condition!r}"
        matched |= found.group(1) == event
    return matched


def step_runs(condition: str | None, failed: bool) -> bool:
    """A step's ``if:``; without one a step runs only while every earlier step succeeded."""
    text = EXPRESSION.sub(r"\1", condition or "success()").strip()
    rules = {"success()": not failed, "!cancelled()": True, "always()": True, "failure()": failed}
    assert text in rules, f"the test cannot evaluate the step condition {condition!r}"
    return rules[text]


def run_bash(script: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """``bash -euo pipefail -c SCRIPT``; on timeout the whole process group is killed."""
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        raise AssertionError(f"step timed out after {STEP_TIMEOUT}s:\n{script}\n{out}") from None
    return proc.returncode, out


GH_STUB = '''#!{python}
"""gh, as far as reconcile.yml uses it; every call is logged to calls.jsonl."""
import json, os, shutil, sys
from pathlib import Path

root = Path(os.environ["GH_STUB_DIR"])
args = sys.argv[1:]
with open(root / "calls.jsonl", "a") as log:
    log.write(json.dumps(args) + "\\n")


def option(name):
    return args[args.index(name) + 1] if name in args else None


def lookup(folder, key):
    path = root / folder / key
    return path.read_text().strip() if key and path.exists() else ""


if args[:2] == ["pr", "comment"]:
    assert "--edit-last" in args and "--create-if-none" in args, args
    (root / "comments").mkdir(exist_ok=True)
    shutil.copyfile(option("--body-file"), root / "comments" / (args[2] + ".md"))
elif args[:1] == ["api"] and args[1].endswith("/pulls"):
    print(lookup("pulls", args[1].split("/")[-2]))  # merge commit -> pull request head
elif args[:2] == ["run", "list"]:
    print(lookup("runs", option("--commit")))  # head commit -> its successful run
elif args[:2] == ["run", "download"]:
    source = root / "artifacts" / args[2] / option("--name")
    if not source.is_dir():
        sys.exit("no artifact named " + str(option("--name")))
    for item in source.iterdir():
        shutil.copy(item, Path(option("--dir") or ".") / item.name)
else:
    sys.exit("gh stub: not expected from reconcile.yml: " + " ".join(args))
'''


def install_tools(root: Path, stub: Path, api_tool: str, api_stub: str) -> None:
    """``root/bin``: ``reconciler`` (this checkout's package), ``python3``, a ``pip`` that logs
    to ``stub/pip.log`` and the API tool's stub; ``root/home`` is the runner's HOME."""
    tools = {
        "reconciler": f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m reconciler "$@"\n',
        "python3": f'#!/bin/sh\nexec "{sys.executable}" "$@"\n',
        "pip": f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{stub}/pip.log"\n',
        api_tool: api_stub.replace("{python}", sys.executable),
    }
    for folder in (root / "bin", root / "home", stub):
        folder.mkdir(parents=True)
    for name, text in tools.items():
        path = root / "bin" / name
        path.write_text(text)
        path.chmod(0o755)


def runner_basics(root: Path) -> dict[str, str]:
    """What every CI runner's shell has, whatever the workflow says."""
    return {
        "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(root / "home"),
        "LANG": "C.UTF-8",
        "CI": "true",
        "RUNNER_TEMP": str(root / "home"),
    }


class GitHubRunner:
    """Plays GitHub Actions for reconcile.yml: one fresh checkout per job, steps in order."""

    def __init__(self, root: Path, checkout: Path, expressions: dict[str, str]) -> None:
        self.root = root
        self.checkout = checkout  # what actions/checkout gives: the repository at HEAD
        self.expressions = expressions
        self.workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
        self.stub = root / "github"  # GH_STUB_DIR: comments, artifacts, runs, pulls
        self.runs = 0
        install_tools(root, self.stub, "gh", GH_STUB)

    def run(self, event: str, sha: str, **values: str) -> JobRun:
        jobs = [
            (name, job)
            for name, job in self.workflow["jobs"].items()
            if job_runs_on(job["if"], event)
        ]
        assert len(jobs) == 1, f"{event} should start one job, starts {[n for n, _ in jobs]}"
        name, job = jobs[0]
        self.runs += 1
        run_id = str(4200 + self.runs)
        workdir = self.root / f"run-{run_id}-{name}"
        workdir.mkdir()
        table = {**self.expressions, "github.event_name": event, **values}
        env = self._runner_env(event, sha, run_id, workdir)
        env |= {k: expand(v, table) for k, v in self.workflow.get("env", {}).items()}
        env |= {k: expand(v, table) for k, v in job.get("env", {}).items()}
        result = JobRun(name, workdir)
        for step in job["steps"]:
            if not step_runs(step.get("if"), result.failed):
                result.steps.append(StepRun(step_name(step), None))
                continue
            step_env = env | {k: expand(v, table) for k, v in step.get("env", {}).items()}
            if "uses" in step:
                self._action(step, workdir, run_id)
                result.steps.append(StepRun(step_name(step), 0))
                continue
            code, output = run_bash(step["run"], workdir, step_env)
            result.steps.append(StepRun(step_name(step), code, output))
        if event == "pull_request" and not result.failed:
            self._record("runs", sha, run_id)  # `gh run list --status success` finds it
        return result

    def _runner_env(self, event: str, sha: str, run_id: str, workdir: Path) -> dict[str, str]:
        return {
            **runner_basics(self.root),
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_SHA": sha,
            "GITHUB_RUN_ID": run_id,
            "GITHUB_WORKSPACE": str(workdir),
            "GITHUB_STEP_SUMMARY": str(workdir.with_name(workdir.name + ".summary.md")),
            "GITHUB_OUTPUT": str(workdir.with_name(workdir.name + ".output")),
            "GH_STUB_DIR": str(self.stub),
        }

    def _action(self, step: dict[str, Any], workdir: Path, run_id: str) -> None:
        action = str(step["uses"]).split("@")[0]
        if action == "actions/checkout":
            shutil.copytree(self.checkout, workdir, dirs_exist_ok=True)
        elif action == "actions/setup-python":
            pass  # the `reconciler` wrapper on PATH runs this checkout's package
        elif action == "actions/upload-artifact":
            store = self.stub / "artifacts" / run_id / step["with"]["name"]
            store.mkdir(parents=True)
            for pattern in str(step["with"]["path"]).split():
                for path in workdir.glob(pattern):
                    shutil.copy(path, store / path.name)
        else:
            raise AssertionError(f"the test does not stand in for {action}")

    def _record(self, folder: str, key: str, value: str) -> None:
        (self.stub / folder).mkdir(exist_ok=True)
        (self.stub / folder / key).write_text(value)

    def merged(self, merge_sha: str, head_sha: str) -> None:
        """The merge commit ``merge_sha`` came from the pull request at ``head_sha``."""
        self._record("pulls", merge_sha, head_sha)

    def comment(self, number: int) -> str:
        return (self.stub / "comments" / f"{number}.md").read_text()

    def gh_calls(self) -> list[list[str]]:
        lines = (self.stub / "calls.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]


GITLAB_TOKEN = "glpat-stub"
GITLAB_API = "https://gitlab.example/api/v4"
PROJECT_ID = "7"

CURL_STUB = """#!{python}
\"\"\"curl, as far as .gitlab-ci.yml uses it: the GitLab API of one project; calls.jsonl logs it.\"\"\"
import io, json, os, re, sys, zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit, parse_qs

root = Path(os.environ["GITLAB_STUB_DIR"])
args = sys.argv[1:]
with open(root / "calls.jsonl", "a") as log:
    log.write(json.dumps(args) + "\\n")
method, headers, data, out, url = "GET", [], None, None, None
rest = list(args)
while rest:
    arg = rest.pop(0)
    if arg in ("-X", "--header", "--data-urlencode", "-o"):
        value = rest.pop(0)
        method = value if arg == "-X" else method
        headers += [value] if arg == "--header" else []
        data = value if arg == "--data-urlencode" else data
        out = value if arg == "-o" else out
    elif arg.startswith("http"):
        url = arg
    elif not re.fullmatch("-[fsSL]+", arg):
        sys.exit("curl stub: unexpected option " + arg)


def fail(status):
    print("curl: (22) The requested URL returned error: %d" % status, file=sys.stderr)
    sys.exit(22)


def answer(value):
    if out:
        Path(out).write_bytes(value)
    else:
        sys.stdout.write(value.decode())


if "PRIVATE-TOKEN: {token}" not in headers:
    fail(401)
parts = urlsplit(url)
prefix = "/api/v4/projects/{project}/"
if not parts.path.startswith(prefix):
    fail(404)
path = parts.path[len(prefix):]
notes = re.fullmatch(r"merge_requests/(\\d+)/notes(?:/(\\d+))?", path)
commit = re.fullmatch(r"repository/commits/([^/]+)/merge_requests", path)
artifacts = re.fullmatch(r"jobs/artifacts/([^/]+)/download", path)
if notes:
    store = root / "notes" / (notes.group(1) + ".json")
    store.parent.mkdir(exist_ok=True)
    saved = json.loads(store.read_text()) if store.exists() else []
    if method == "GET":
        answer(json.dumps(saved[::-1]).encode())  # newest first
    else:
        assert data and data.startswith("body@"), data
        body = Path(data[len("body@"):]).read_text()
        if method == "POST" and not notes.group(2):
            saved.append({"id": len(saved) + 1, "body": body})
        elif method == "PUT" and notes.group(2):
            [note] = [n for n in saved if n["id"] == int(notes.group(2))]
            note["body"] = body
        else:
            fail(405)
        store.write_text(json.dumps(saved))
        answer(b"{}")
elif commit:
    found = root / "merged" / commit.group(1)
    iid = found.read_text() if found.exists() else None
    answer(json.dumps([{"iid": int(iid), "state": "merged"}] if iid else []).encode())
elif artifacts:
    ref = re.fullmatch(r"refs/merge-requests/(\\d+)/(head|merge)", unquote(artifacts.group(1)))
    pipeline = "mr-%s-%s" % ref.groups() if ref else "?"  # only branch pipelines here
    folder = root / "artifacts" / pipeline / parse_qs(parts.query)["job"][0]
    if not folder.is_dir():
        fail(404)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for item in folder.iterdir():
            zipped.write(item, item.name)
    answer(archive.getvalue())
else:
    sys.exit("curl stub: not expected from .gitlab-ci.yml: " + url)
""".replace("{token}", GITLAB_TOKEN).replace("{project}", PROJECT_ID)


def rule_matches(rule: dict[str, Any], variables: dict[str, str]) -> bool:
    """A ``rules:`` entry: ``$A == "x"`` / ``$A == $B`` joined by ``&&`` and ``||``. A rule's
    ``changes:`` is taken as matched (every run here changes the configuration)."""
    assert set(rule) <= {"if", "changes"}, rule
    alternatives = str(rule["if"]).split("||")
    return any(all(_term(t, variables) for t in a.split("&&")) for a in alternatives)


def _term(term: str, variables: dict[str, str]) -> bool:
    found = re.fullmatch(r'\s*\$(\w+) == (?:"([^"]*)"|\$(\w+))\s*', term)
    assert found, f"the test cannot evaluate the rule term {term!r}"
    name, literal, other = found.groups()
    right = literal if other is None else variables.get(other)
    return variables.get(name) == right


class GitLabRunner:
    """Plays GitLab CI for .gitlab-ci.yml: the pipeline's one job, its before_script and
    script in one shell, its artifacts kept for the merge request's ref."""

    def __init__(self, root: Path, checkout: Path, project_variables: dict[str, str]) -> None:
        self.root = root
        self.checkout = checkout
        self.project_variables = project_variables
        self.pipeline: dict[str, Any] = yaml.safe_load(GITLAB.read_text())
        self.stub = root / "gitlab"
        self.runs = 0
        install_tools(root, self.stub, "curl", CURL_STUB)

    def run(self, source: str, sha: str, **predefined: str) -> JobRun:
        variables = {
            "CI_PIPELINE_SOURCE": source,
            "CI_COMMIT_SHA": sha,
            "CI_DEFAULT_BRANCH": "main",
            **predefined,
        }
        workflow = self.pipeline["workflow"]["rules"]
        assert any(rule_matches(rule, variables) for rule in workflow), variables
        jobs = [
            (name, job)
            for name, job in self.pipeline.items()
            if isinstance(job, dict) and "script" in job
            if any(rule_matches(rule, variables) for rule in job["rules"])
        ]
        assert len(jobs) == 1, f"{source} should start one job, starts {[n for n, _ in jobs]}"
        name, job = jobs[0]
        self.runs += 1
        workdir = self.root / f"pipeline-{self.runs}-{name}"
        shutil.copytree(self.checkout, workdir)
        env = {
            **runner_basics(self.root),
            "GITLAB_CI": "true",
            "CI_API_V4_URL": GITLAB_API,
            "CI_PROJECT_ID": PROJECT_ID,
            "CI_PROJECT_DIR": str(workdir),
            "CI_JOB_NAME": name,
            "GITLAB_STUB_DIR": str(self.stub),
            **variables,
            **{k: str(v) for k, v in self.pipeline.get("variables", {}).items()},
            **{k: str(v) for k, v in job.get("variables", {}).items()},
            **self.project_variables,  # a project's CI/CD variables win over the file's
        }
        lines = [*self.pipeline["default"]["before_script"], *job["script"]]
        code, output = run_bash("\n".join(lines), workdir, env)
        result = JobRun(name, workdir, [StepRun("script", code, output)])
        iid = predefined.get("CI_MERGE_REQUEST_IID")
        if iid and code == 0:  # the ref's last successful pipeline: its artifacts are found
            store = self.stub / "artifacts" / f"mr-{iid}-head" / name
            shutil.rmtree(store, ignore_errors=True)
            store.mkdir(parents=True)
            for pattern in job["artifacts"]["paths"]:
                for path in workdir.glob(pattern):
                    shutil.copy(path, store / path.name)
        return result

    def merged(self, merge_sha: str, iid: int) -> None:
        (self.stub / "merged").mkdir(exist_ok=True)
        (self.stub / "merged" / merge_sha).write_text(str(iid))

    def notes(self, iid: int) -> list[str]:
        saved = json.loads((self.stub / "notes" / f"{iid}.json").read_text())
        return [note["body"] for note in saved]


@dataclass(frozen=True)
class Cloud:
    """What both CI services are given: a checkout of the configuration repository, the
    emulator, and a fresh PostgreSQL database for the state."""

    checkout: Path
    emulator: EmulatorHandle
    state_url: str


@pytest.fixture
def cloud(tmp_path: Path, emulator: EmulatorHandle, pg_server: PgServer) -> Cloud:
    database = f"gitops_{uuid.uuid4().hex[:10]}"
    pg_server.create_database(database)
    checkout = tmp_path / "checkout"
    shutil.copytree(CONFIG, checkout / "infra", ignore=shutil.ignore_patterns(".reconciler"))
    shutil.copytree(GITOPS / ".github", checkout / ".github")
    shutil.copy(GITLAB, checkout / ".gitlab-ci.yml")
    # the example declares no registry user (one per account): the account already has one
    with client_for(emulator) as client:
        client.create_user("shopadmin", PASSWORD)
    return Cloud(checkout, emulator, pg_server.url(database))


@pytest.fixture
def runner(tmp_path: Path, cloud: Cloud) -> GitHubRunner:
    if shutil.which("jq") is None:
        pytest.skip("jq (on every GitHub-hosted runner) is needed by the drift step")
    return GitHubRunner(
        tmp_path / "github-actions",
        cloud.checkout,
        {
            "secrets.RECONCILER_STATE": cloud.state_url,
            "secrets.BCE_ACCESS_KEY_ID": cloud.emulator.access_key_id,
            "secrets.BCE_SECRET_ACCESS_KEY": cloud.emulator.secret_access_key,
            "vars.CCE_ENDPOINT": cloud.emulator.url,
            "github.repository": REPOSITORY,
            "github.token": "stub-token",
        },
    )


@pytest.fixture
def gitlab(tmp_path: Path, cloud: Cloud) -> GitLabRunner:
    return GitLabRunner(
        tmp_path / "gitlab-ci",
        cloud.checkout,
        {  # the project's CI/CD variables
            "RECONCILER_STATE": cloud.state_url,
            "BCE_ACCESS_KEY_ID": cloud.emulator.access_key_id,
            "BCE_SECRET_ACCESS_KEY": cloud.emulator.secret_access_key,
            "GITLAB_API_TOKEN": GITLAB_TOKEN,
            "CCE_ENDPOINT": cloud.emulator.url,
        },
    )


def client_for(emulator: EmulatorHandle) -> CceClient:
    creds = Credentials(emulator.access_key_id, emulator.secret_access_key)
    return CceClient.connect(emulator.url, creds)


def remove_a_tag_by_hand(emulator: EmulatorHandle) -> None:
    """Someone deletes prod's ``stable`` tag of payments' api in the console."""
    with client_for(emulator) as client:
        client.delete_image_meta("payments-prod", "api", "stable")


def sections(body: str) -> list[list[Token]]:
    """The comment's block tokens, one list per environment (they are separated by ``---``)."""
    parts: list[list[Token]] = [[]]
    for token in MarkdownIt("commonmark").parse(body):
        if token.type == "hr":
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def summaries(section: list[Token]) -> list[str]:
    """``+ namespace.payments-dev will be created``: the summary of each <details> block."""
    found = []
    for token in section:
        if token.type == "html_block" and token.content.startswith("<details>"):
            match = re.match(r"<details><summary>(.*?)</summary>", token.content)
            assert match, token.content
            found.append(match.group(1))
    return found


def assert_plan_comment(body: str, plans: dict[str, Path]) -> None:
    """The summary line first in each environment's part, then one details block per change."""
    parts = sections(body)
    assert len(parts) == len(plans), body
    for (env, plan_file), part in zip(plans.items(), parts, strict=True):
        assert [t.type for t in part[:2]] == ["paragraph_open", "inline"], part[:2]
        first = part[1]
        assert first.children is not None
        inline = [t for t in first.children if t.type != "text" or t.content]  # drop empty text
        assert [t.type for t in inline[:3]] == ["strong_open", "text", "strong_close"]
        assert inline[1].content == "Plan:"
        assert first.content.splitlines()[1].startswith(f"environment `{env}`"), first.content
        changes = read_plan(str(plan_file)).plan.actionable
        assert changes, f"{env}: the first plan should create the environment"
        listed = [s.split(" ")[1] for s in summaries(part)]
        assert sorted(listed) == sorted(str(c.address) for c in changes), body
        assert sum(t.type == "fence" and t.info == "diff" for t in part) == len(changes)
    html = MarkdownIt("commonmark").render(body)
    total = sum(len(summaries(part)) for part in parts)
    assert html.count("<details>") == html.count("</details>") == total


def exit_codes(run: JobRun) -> dict[str, str]:
    return {env: (run.workdir / f"plan-{env}.exit").read_text().strip() for env in ENVIRONMENTS}


def pull_request(runner: GitHubRunner, number: int, head_sha: str) -> JobRun:
    return runner.run(
        "pull_request", sha=head_sha, **{"github.event.pull_request.number": str(number)}
    )


def test_pull_request_merge_and_nightly_jobs_against_the_emulator(
    runner: GitHubRunner, cloud: Cloud
) -> None:
    # --- a pull request: validate, plan each environment, one comment, the plans as artifact
    pr = pull_request(runner, 15, "head-1")
    assert not pr.failed, pr.log()
    assert [s.name for s in pr.steps if s.code is None] == []
    assert exit_codes(pr) == {"dev": "2", "staging": "2", "prod": "2"}
    assert "dev: valid" in pr.step("validate").output
    assert "cce-reconciler[postgres]" in (runner.stub / "pip.log").read_text()
    plans = {env: pr.workdir / f"plan-{env}.bin" for env in ENVIRONMENTS}
    assert_plan_comment(runner.comment(15), plans)
    assert sorted(p.name for p in (runner.stub / "artifacts" / "4201" / "plans").iterdir()) == [
        f"plan-{env}.{ext}" for env in sorted(ENVIRONMENTS) for ext in ("bin", "md")
    ]

    # --- the merge: a fresh runner applies exactly the reviewed plans
    shutil.rmtree(pr.workdir)  # nothing of the pull request's runner is left but the artifact
    runner.merged("merge-1", "head-1")
    merge = runner.run("push", sha="merge-1")
    assert not merge.failed, merge.log()
    applied = merge.step("apply").output
    assert applied.count("Apply complete:") == 3, applied
    assert "stale" not in applied and "planning again" not in applied, applied
    assert ["run", "download", "4201", "--name", "plans", "--dir", "."] in runner.gh_calls()
    for env in ENVIRONMENTS:  # one PostgreSQL workspace per environment
        managed = PostgresStateStore(cloud.state_url, env, kinds=kind_names()).read().resources
        assert f"cluster.shop-{env}" in {str(a) for a in managed}

    # --- the next pull request with the same configuration: nothing to do anywhere
    again = pull_request(runner, 16, "head-2")
    assert not again.failed, again.log()
    assert exit_codes(again) == {"dev": "0", "staging": "0", "prod": "0"}
    firsts = [part[1].content.splitlines()[0] for part in sections(runner.comment(16))]
    assert firsts == ["**No changes.** The cloud matches the configuration."] * 3

    # --- a pull request apply would refuse: the check fails, the plans are posted anyway
    for team in ("team-payments.yaml", "team-search.yaml"):
        (runner.checkout / "infra" / team).rename(runner.root / team)
    refused = pull_request(runner, 17, "head-3")
    assert refused.step("plan").code == 1, refused.log()
    assert exit_codes(refused) == {"dev": "6", "staging": "6", "prod": "3"}
    assert refused.step("comment").code == 0, refused.log()
    dev, staging, prod = runner.comment(17).split("\n\n---\n\n")
    assert "--allow-deletes" in dev and "--allow-deletes" in staging, dev
    assert "protected" in prod, prod
    for team in ("team-payments.yaml", "team-search.yaml"):
        (runner.root / team).rename(runner.checkout / "infra" / team)

    # --- every night: no drift, then a tag removed by hand is named and fails the job
    quiet = runner.run("schedule", sha="merge-1")
    assert not quiet.failed, quiet.log()
    assert "prod: nothing changed outside the reconciler" in quiet.step("drift check").output
    remove_a_tag_by_hand(cloud.emulator)
    drift = runner.run("schedule", sha="merge-1")
    check = drift.step("drift check")
    assert check.code == 2, drift.log()
    assert "~ repository.payments-prod/api" in check.output
    assert 'tags: ["latest", "stable"] -> ["latest"]' in check.output
    expected = "::error title=drift in prod::repository.payments-prod/api: tags changed outside"
    assert expected in check.output, check.output


# How often the lock table has been read. A run refused the lock reads the table to name the
# holder; nothing else reads it while the lock is held (PostgreSQL flushes a backend's table
# statistics when it closes its connection, as a refused run does at once).
LOCK_TABLE_READS = """
    SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0)
    FROM pg_stat_user_tables WHERE relname = 'reconciler_locks'
"""


@contextmanager
def lock_held_by_another_run(url: str, workspace: str, grace: float) -> Iterator[None]:
    """Another run holds ``workspace``'s state lock until a run has been refused it and ``grace``
    seconds more have passed (never released by a clock alone: a slow machine would reach the
    lock after the release and never wait)."""
    held = threading.Event()

    def reads(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute(LOCK_TABLE_READS).fetchone()
        return int(row[0]) if row else 0

    def hold() -> None:
        with (
            PostgresStateStore(url, workspace, kinds=kind_names()).lock("apply"),
            psycopg.connect(url) as watcher,
        ):
            held.set()
            watcher.autocommit = True
            before = reads(watcher)
            for _ in range(1200):  # at most 2 minutes, then let the run go on regardless
                if reads(watcher) > before:
                    time.sleep(grace)
                    return
                time.sleep(0.1)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(30), "the test could not take the lock"
    try:
        yield
    finally:
        holder.join(150)


def test_a_push_without_a_reviewed_plan_plans_again_and_a_stale_one_applies_nothing(
    runner: GitHubRunner, cloud: Cloud
) -> None:
    reviewed = pull_request(runner, 21, "head-a")
    assert exit_codes(reviewed) == {"dev": "2", "staging": "2", "prod": "2"}, reviewed.log()

    # a push straight to main (no pull request): planned here, and waits for a held lock
    with lock_held_by_another_run(cloud.state_url, "dev", grace=1.5):
        direct = runner.run("push", sha="direct-1")
    assert not direct.failed, direct.log()
    assert "no reviewed plan for direct-1" in direct.step("download the reviewed plans").output
    applied = direct.step("apply").output
    assert applied.count("planning again on direct-1") == 3, applied
    assert applied.count("Apply complete:") == 3, applied
    assert "Waiting for the state lock" in applied, applied

    # the pull request's plans were made before that apply: stale, nothing is applied
    runner.merged("merge-a", "head-a")
    merge = runner.run("push", sha="merge-a")
    assert merge.step("apply").code == 5, merge.log()
    stale = merge.step("apply").output
    assert "::error title=apply dev::the reviewed plan is stale" in stale, stale
    assert "Apply complete" not in stale and "apply staging" not in stale, stale


def run_steps(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_the_workflow_steps_are_plain_shell_with_the_agreed_commands() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"pull_request", "push", "schedule", "workflow_dispatch"}
    assert workflow["defaults"]["run"]["shell"] == "bash"
    jobs = workflow["jobs"]
    for name, job in jobs.items():
        for script in run_steps(job):
            assert "${{" not in script, f"{name}: a step reads an expression, not a variable"
    plan, apply, drift = ("\n".join(run_steps(jobs[n])) for n in ("plan", "apply", "drift"))
    assert 'reconciler validate "$CONFIG_DIR" --all-envs' in plan
    assert '--out "plan-$env.bin" --detailed-exitcode --lock-timeout 10m' in plan
    assert 'gh pr comment "$PR_NUMBER" --edit-last --create-if-none --body-file plan.md' in plan
    assert 'reconciler apply --plan "plan-$env.bin" --lock-timeout 10m' in apply
    assert "--refresh-only --detailed-exitcode --lock-timeout 10m" in drift
    assert jobs["drift"]["env"]["DRIFT_ENV"] == "prod"


def merge_request(gitlab: GitLabRunner, iid: int, head_sha: str) -> JobRun:
    return gitlab.run(
        "merge_request_event",
        sha=head_sha,
        CI_MERGE_REQUEST_IID=str(iid),
        CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
    )


def test_the_gitlab_pipeline_plans_applies_the_reviewed_plans_and_finds_drift(
    gitlab: GitLabRunner, cloud: Cloud
) -> None:
    mr = merge_request(gitlab, 5, "mr-head-1")
    assert not mr.failed, mr.log()
    assert exit_codes(mr) == {"dev": "2", "staging": "2", "prod": "2"}
    [note] = gitlab.notes(5)
    assert note.endswith("\n<!-- reconciler-plan -->\n")
    assert_plan_comment(note, {env: mr.workdir / f"plan-{env}.bin" for env in ENVIRONMENTS})
    again = merge_request(gitlab, 5, "mr-head-1")  # a second push: the note is rewritten
    assert not again.failed, again.log()
    assert len(gitlab.notes(5)) == 1

    gitlab.merged("merge-5", 5)
    merge = gitlab.run("push", sha="merge-5", CI_COMMIT_BRANCH="main")
    assert not merge.failed, merge.log()
    output = merge.steps[0].output
    assert output.count("Apply complete:") == 3, output
    assert "WARNING" not in output and "stale" not in output, output

    nightly = gitlab.run("schedule", sha="merge-5", CI_COMMIT_BRANCH="main")
    assert not nightly.failed, nightly.log()
    remove_a_tag_by_hand(cloud.emulator)
    drift = gitlab.run("schedule", sha="merge-5", CI_COMMIT_BRANCH="main")
    assert drift.steps[0].code == 2, drift.log()
    expected = "ERROR: drift in prod: repository.payments-prod/api: tags changed outside"
    assert expected in drift.steps[0].output, drift.log()

    # a merge request with a mistake: the job fails, the note still shows every environment
    staging = gitlab.checkout / "infra" / "environments" / "staging.yaml"
    staging.write_text(staging.read_text().replace("workers: 2", "workers: many"))
    broken = merge_request(gitlab, 6, "mr-head-2")
    assert broken.steps[0].code == 1, broken.log()
    assert exit_codes(broken) == {"dev": "0", "staging": "1", "prod": "2"}  # prod: the drift
    [note] = gitlab.notes(6)
    dev, failed, prod = note.split("\n\n---\n\n")
    assert dev.startswith("**No changes.**") and prod.startswith(
        "**Plan:** 0 to create, 1 to update"
    )
    assert failed.startswith("**Plan failed** for environment `staging`"), failed
    assert "environments/staging.yaml:" in failed and "workers" in failed, failed


def test_the_gitlab_jobs_run_the_same_commands_as_the_github_ones() -> None:
    pipeline = yaml.safe_load(GITLAB.read_text())
    scripts = {name: "\n".join(pipeline[name]["script"]) for name in ("plan", "apply", "drift")}
    assert 'reconciler validate "$CONFIG_DIR" --all-envs' in scripts["plan"]
    assert '--out "plan-$env.bin" --detailed-exitcode --lock-timeout 10m' in scripts["plan"]
    assert 'reconciler apply --plan "plan-$env.bin" --lock-timeout 10m' in scripts["apply"]
    assert "--refresh-only --detailed-exitcode --lock-timeout 10m" in scripts["drift"]
    assert pipeline["drift"]["variables"]["DRIFT_ENV"] == "prod"
    assert pipeline["apply"]["resource_group"]
