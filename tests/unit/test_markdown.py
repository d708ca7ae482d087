"""The Markdown view of a plan, read back with a CommonMark parser as GitHub would read it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler.diff import FieldChange
from reconciler.markdown import GITHUB_COMMENT_LIMIT, code, escape, plan_to_markdown
from reconciler.model import Action, Address, PlanMode, SecretRef
from reconciler.plan import BLAST_RADIUS, Change, Conflict, Plan, PlanContext, Refusal

MD = MarkdownIt("commonmark")
SECRET_VALUE = "s3cr3t-Passw0rd"


def repo(name: str, **attrs: Any) -> Change:
    after = {"namespace": "team-a", "name": name, "tags": ["latest"], **attrs}
    return Change(Address("repository", f"team-a/{name}"), Action.CREATE, "declared", None, after)


def user_create() -> Change:
    return Change(
        Address("user", "ccetest"),
        Action.CREATE,
        "declared, not in the cloud",
        None,
        {"username": "ccetest"},
        secrets={"password": SecretRef(env="CCR_PASSWORD")},
    )


def password_rotation() -> Change:
    return Change(
        Address("user", "ccetest"),
        Action.UPDATE,
        "password changed",
        {"username": "ccetest"},
        {"username": "ccetest"},
        fields=(FieldChange("password", SECRET_VALUE, "other-" + SECRET_VALUE, sensitive=True),),
        secrets={"password": SecretRef(file="/home/ci/secrets/registry-password.txt")},
        rotate_secrets=("password",),
    )


def tag_update() -> Change:
    return Change(
        Address("repository", "team-a/api"),
        Action.UPDATE,
        "tags differ",
        {"tags": ["latest", "v1"]},
        {"tags": ["latest", "v2"]},
        fields=(FieldChange("tags", ["latest", "v1"], ["latest", "v2"]),),
        cloud_id="team-a/api",
    )


def paragraphs(text: str) -> list[str]:
    tokens = MD.parse(text)
    return [
        tokens[i + 1].content
        for i, t in enumerate(tokens)
        if t.type == "paragraph_open" and tokens[i + 1].type == "inline"
    ]


def details_summaries(tokens: list[Token]) -> list[str]:
    found = []
    for t in tokens:
        if t.type == "html_block":
            found += re.findall(r"<summary>(.*?)</summary>", t.content)
    return found


def code_blocks(tokens: list[Token]) -> list[str]:
    return [t.content for t in tokens if t.type == "fence"]


def test_the_summary_is_the_first_paragraph_with_the_context() -> None:
    plan = Plan(
        (
            repo("api"),
            repo("worker"),
            tag_update(),
            Change(Address("namespace", "x"), Action.NOOP, "up to date", {}, {}),
        ),
        context=PlanContext(
            "prod", "https://cce.bj.baidubce.com", "postgresql://ci:hunter2@db/rec"
        ),
    )
    text = plan_to_markdown(plan)
    tokens = MD.parse(text)
    assert tokens[0].type == "paragraph_open"
    first = paragraphs(text)[0]
    assert first.startswith(
        "**Plan:** 2 to create, 1 to update, 0 to replace, 0 to delete, 0 to forget, 1 unchanged."
    )
    assert "environment `prod`" in first and "target `https://cce.bj.baidubce.com`" in first
    assert "hunter2" not in text and "postgresql://ci:***@db/rec" in first


def test_each_resource_has_a_collapsible_diff_block() -> None:
    text = plan_to_markdown(Plan((repo("api"), tag_update(), user_create())))
    tokens = MD.parse(text)
    assert details_summaries(tokens) == [
        "+ repository.team-a/api will be created",
        "~ repository.team-a/api will be updated in place",
        "+ user.ccetest will be created",
    ]
    blocks = code_blocks(tokens)
    assert all(t.info == "diff" for t in tokens if t.type == "fence")
    assert '+ name = "api"' in blocks[0]
    assert '- tags = ["latest", "v1"]' in blocks[1] and '+ tags = ["latest", "v2"]' in blocks[1]
    assert text.count("<details>") == text.count("</details>") == 3


def test_secrets_are_masked_and_their_references_not_shown() -> None:
    text = plan_to_markdown(Plan((user_create(),)))
    assert "+ password = (sensitive)" in code_blocks(MD.parse(text))[0]
    assert "CCR_PASSWORD" not in text
    rotated = plan_to_markdown(Plan((password_rotation(),)))
    assert "~ password = (sensitive)" in code_blocks(MD.parse(rotated))[0]
    assert SECRET_VALUE not in rotated and "registry-password.txt" not in rotated


def test_a_secret_in_attributes_is_masked_too() -> None:
    change = Change(
        Address("cluster", "prod"),
        Action.DELETE,
        "not declared",
        {"name": "prod", "workers": {"adminPassword": SECRET_VALUE, "count": 2}},
        None,
        secrets={"workers.adminPassword": SecretRef(env="NODE_ADMIN_PASSWORD")},
    )
    text = plan_to_markdown(Plan((change,)))
    assert SECRET_VALUE not in text
    assert "- workers.adminPassword = (sensitive)" in text


def test_no_changes() -> None:
    noop = Change(Address("namespace", "team-a"), Action.NOOP, "up to date", {}, {})
    text = plan_to_markdown(Plan((noop,)))
    assert paragraphs(text)[0] == "**No changes.** The cloud matches the configuration."
    assert "<details>" not in text


def test_refusals_say_what_they_need_and_conflicts_are_not_repeated() -> None:
    conflict = Conflict(
        Address("namespace", "team-b"), "namespace.team-b already exists; import it"
    )
    plan = Plan(
        (repo("api"),),
        conflicts=(conflict,),
        warnings=("cluster.prod is slow",),
        refusals=(
            Refusal("conflict", conflict.message, conflict.address),
            Refusal(BLAST_RADIUS, "blast-radius guard: deletes 5", needs="--allow-deletes 5"),
        ),
    )
    text = plan_to_markdown(plan)
    html = MD.render(text)
    assert "Apply will refuse this plan:" in html
    assert "<code>--allow-deletes 5</code>" in html
    assert "<strong>blast-radius</strong>" in html
    assert html.count("already exists; import it") == 1
    assert "cluster.prod is slow" in html
    assert text.index("Apply will refuse") < text.index("<details>")


def test_refused_changes_of_an_older_saved_plan_are_listed() -> None:
    change = Change(
        Address("namespace", "team-a"),
        Action.REPLACE,
        "public cannot be changed in place",
        {"public": False},
        {"public": True},
        fields=(FieldChange("public", False, True),),
        forces=("public",),
        refused="replacing it needs --replace namespace.team-a",
    )
    text = plan_to_markdown(Plan((change,)))
    assert "needs \\-\\-replace namespace\\.team\\-a" in text
    summary = details_summaries(MD.parse(text))[0]
    assert summary == "-/+ namespace.team-a must be replaced (refused at apply)"
    assert "+ public = true  # forces replacement" in text


def test_drift_shows_paths_before_and_after() -> None:
    change = Change(
        Address("repository", "team-a/api"),
        Action.UPDATE,
        "description changed outside the reconciler",
        {"description": "hotfix"},
        {"description": "payment API"},
        fields=(FieldChange("description", "hotfix", "payment API"),),
        drift=(FieldChange("description", "payment API", "hotfix"),),
    )
    text = plan_to_markdown(Plan((change,)))
    assert "Changed outside the reconciler since the last apply" in text
    summaries = details_summaries(MD.parse(text))
    assert summaries[0] == "~ repository.team-a/api: 1 field changed outside the reconciler"
    drift_block = code_blocks(MD.parse(text))[0]
    assert '- description = "payment API"' in drift_block
    assert '+ description = "hotfix"' in drift_block
    assert text.index("Changed outside") < text.index("will be updated in place")


def test_refresh_only_shows_drift_and_no_changes() -> None:
    change = Change(
        Address("namespace", "team-a"),
        Action.UPDATE,
        "drift",
        {"public": True},
        {"public": False},
        fields=(FieldChange("public", True, False),),
        drift=(FieldChange("public", False, True),),
    )
    text = plan_to_markdown(Plan((change,)), mode=PlanMode.REFRESH_ONLY)
    assert paragraphs(text)[0].startswith("**Refresh-only:** 1 object(s) changed")
    assert "will be updated" not in text


def test_a_5000_resource_plan_fits_and_says_it_folded() -> None:
    changes = tuple(repo(f"r{i:04d}", description="x" * 40) for i in range(5000))
    text = plan_to_markdown(Plan(changes), plan_file="plan.bin")
    assert len(text) <= GITHUB_COMMENT_LIMIT
    last = paragraphs(text)[-1]
    assert re.fullmatch(
        r"_5000 resources folded \(\d+ of them not listed\) to fit GitHub's comment limit; "
        r"run `reconciler show plan.bin` for the full plan._",
        last,
    )
    assert "more not shown" in text
    assert paragraphs(text)[0].startswith("**Plan:** 5000 to create")


def test_the_longest_block_is_folded_first() -> None:
    big = repo("big", tags=[f"v{i}" for i in range(20000)])
    small = [repo(f"small{i}") for i in range(5)]
    text = plan_to_markdown(Plan((small[0], big, *small[1:])))
    assert len(text) <= GITHUB_COMMENT_LIMIT
    summaries = details_summaries(MD.parse(text))
    assert len(summaries) == 5 and not any("team-a/big" in s for s in summaries)
    html = MD.render(text)
    assert "<code>repository.team-a/big</code> will be created (folded)" in html
    assert "1 resource folded to fit GitHub" in text


def test_the_limit_is_kept_for_small_limits_too() -> None:
    changes = tuple(repo(f"r{i}") for i in range(200))
    for limit in (1000, 5000, 20000):
        assert len(plan_to_markdown(Plan(changes), limit)) <= limit


HOSTILE = "```\n</details></code><script>alert(1)</script> **bold** [x](http://e.vil) @everyone `"


def test_a_hostile_description_stays_inside_its_code_block() -> None:
    text = plan_to_markdown(Plan((repo("api", description=HOSTILE), repo("web"))))
    tokens = MD.parse(text)
    assert len(details_summaries(tokens)) == 2
    assert len(code_blocks(tokens)) == 2
    assert "<script>" in code_blocks(tokens)[0]  # as text, inside the code block
    html = MD.render(text)
    assert "<script>" not in html and "<strong>bold</strong>" not in html
    assert html.count("<details>") == html.count("</details>") == 2


def test_hostile_names_and_messages_are_escaped() -> None:
    name = "team-a/</summary><img src=x onerror=alert(1)>"
    change = Change(Address("repository", name), Action.CREATE, "declared", None, {"name": "x"})
    plan = Plan(
        (change,),
        warnings=("<img src=x> **loud** _under_ [link](http://e.vil) # head\n- item",),
        conflicts=(Conflict(Address("namespace", "a_b_c"), "`tick` <b>bold</b>"),),
    )
    text = plan_to_markdown(plan)
    html = MD.render(text)
    assert "<img" not in html and "<b>" not in html and "<strong>loud</strong>" not in html
    assert "<em>" not in html and "<a href" not in html and "<h1>" not in html
    assert "&lt;img src=x&gt; **loud** _under_ [link](http://e.vil) # head - item" in html
    assert details_summaries(MD.parse(text)) == [
        "+ repository.team-a/&lt;/summary&gt;&lt;img src=x onerror=alert(1)&gt; will be created"
    ]


@pytest.mark.parametrize(
    "text", ["plain", "a*b_c", "`x`", "``", "<tag>", "\\", "line\nbreak", "# head", "1. item"]
)
def test_escape_and_code_round_trip_through_the_parser(text: str) -> None:
    flat = " ".join(text.split())
    assert MD.render(escape(text)).strip() == f"<p>{_html(flat)}</p>"
    assert MD.render(code(text)).strip() == f"<p><code>{_html(flat)}</code></p>"


def _html(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
