"""The fast reader of plain block YAML against the full loader: whenever it answers, its answer
is the full loader's (values, types, key order, every value's and key's position, the ``${``
strings); whenever a file holds anything it does not know, it leaves the file to the full
loader, which refuses what it refuses at the same place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config.yamlload import (
    EAGER_DEPTH,
    Document,
    LazyPositions,
    LoadError,
    document_of,
    parse_document,
    read_block_yaml,
    read_document,
)
from reconciler.model import Location


def full(text: str) -> Document | None:
    try:
        return document_of("f.yaml", text)
    except LoadError:
        return None


def same_as_full_loader(text: str) -> bool:
    """True when the fast reader answered (and then it must agree); False when it left it."""
    fast = read_block_yaml(text)
    if fast is None:
        return False
    data, values, keys, templates = fast
    expected = full(text)
    assert expected is not None, f"the full loader refuses what the fast reader read:\n{text}"
    assert repr(data) == repr(expected.data), text  # repr: 1, 1.0 and True differ
    assert values == dict(expected.values), text
    assert keys == dict(expected.keys), text
    assert tuple(templates) == expected.templates, text
    lazy = parse_document("f.yaml", text)
    assert isinstance(lazy.values, LazyPositions) and lazy.values.source is not None
    assert lazy.value_at(("nowhere", 0)) == expected.value_at(("nowhere", 0))
    for jpath in expected.values:
        assert lazy.value_at(jpath) == expected.value_at(jpath), (text, jpath)
        assert lazy.key_at(jpath) == expected.key_at(jpath), (text, jpath)
        assert lazy.value_at((*jpath, "x", 1)) == expected.value_at((*jpath, "x", 1))
    assert lazy.values.source is None or max(map(len, expected.values)) <= EAGER_DEPTH
    return True


# pieces of lines, in and around the subset the fast reader knows
INDENTS = st.sampled_from(["", "", "  ", "    ", " ", "   ", "      "])
DASHES = st.sampled_from(["", "", "- ", "-  ", "- - ", "-"])
KEYS = st.sampled_from(
    ["name", "a", "b", "tags", "on", "1", "x.y/z", "<<", "a b", '"q"', "? a", "-k", "é", ""]
)
SEPARATORS = st.sampled_from([": ", ":", ":  ", " : ", "::"])
VALUE_TEXTS = [
    "",
    "x",
    "app00001 images",
    "1",
    "-2",
    "+3",
    "0",
    "-0",
    "+0",
    "00",
    "012",
    "y",
    "n",
    "nope",
    "TRue",
    "nULL",
    "offline",
    "1.20.8",
    "10.0.0.1",
    "172.16.0.0/16",
    "8Gi",
    "1.2e+3",
    "1.2.3e+4",
    "1:2:3",
    "0b101",
    "0xFF",
    "1 2",
    "2001-12-14 21:59:43.10 -5",
    "+.INF",
    "-1_0.5",
    "0x1f",
    "0o17",
    "1_000",
    "1:20",
    "1.5",
    ".inf",
    "-.inf",
    ".nan",
    "1e3",
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "~",
    "null",
    "Null",
    "2021-01-01",
    "2001-12-14t21:59:43.10-05:00",
    "=",
    "${var.x}",
    "pre-${var.y}-post",
    "$${literal}",
    "'q''s'",
    "'${var.q}'",
    "'a: b # c'",
    '"d"',
    '"e\\n"',
    '"a # b"',
    '"unterminated',
    "'open",
    "[a, b]",
    "[ a ,b ]",
    "[]",
    "[ ]",
    "{}",
    "{ }",
    "{a: 1}",
    "[a, 'b']",
    "[a,, b]",
    "[a, ]",
    "[a, [b]]",
    "[${var.l}, 2]",
    "[1, yes, ~]",
    "[a: b]",
    "[a#b]",
    "&anchor x",
    "*anchor",
    "!!str 1",
    "!tag x",
    "|",
    ">-",
    "a: b",
    "a:b",
    "http://h:80/p",
    "a #c",
    "a#c",
    "# c",
    "x  # c",
    "- x",
    "-",
    "?",
    ":x",
    "---",
    "...",
    "é ü",
    "日本",
    "a  b",
    "@x",
    "`x",
    "%x",
    "a,b",
    "{x",
    "]",
    "-x",
    "x:",
    "  x  ",
    "{env: X}",
    "{a: 1, b: 'x'}",
    '{protect: "${var.p}"}',
    "{a:1}",
    "{a: }",
    "{a: b, a: c}",
    "{ a: yes ,b: ~ }",
    "[\"a\", 'b']",
    '["a,b"]',
    "{a: [b]}",
    "{'k': v}",
    "{a: 'it''s'}",
    '{a: "x #y"}',
    "{a: b}}",
    '["a]", b]',
    "{a: 'x', }",
    "{<<: x}",
    "{é: x}",
    "['''']",
    "['a''']",
    '{a: "q"x}',
    "{ }",
    "{a: 1.5, b: -1}",
]
VALUES = st.sampled_from(VALUE_TEXTS)
COMMENTS = st.sampled_from(["", "", "", " # note", "  #note", "#x"])


@st.composite
def line_soup(draw: Any) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(st.sampled_from(["", "   ", "# comment", "  # indented", "---"])))
            continue
        key = draw(KEYS) + draw(SEPARATORS) if kind > 3 else ""
        line = draw(INDENTS) + draw(DASHES) + key + draw(VALUES) + draw(COMMENTS)
        lines.append(line)
    end = draw(st.sampled_from(["\n", "", "\n\n", "\r\n", "\t\n"]))
    return "\n".join(lines) + end


@settings(max_examples=1000)
@given(line_soup())
def test_any_line_soup_is_read_as_the_full_loader_reads_it_or_left_to_it(text: str) -> None:
    same_as_full_loader(text)


@st.composite
def block_document(draw: Any) -> str:
    """Well-formed block structure (mostly) with values from the edges of the subset, then
    perhaps one line moved, re-indented or replaced."""
    lines: list[str] = []

    def mapping(indent: str, depth: int, first_prefix: str = "") -> None:
        for number in range(draw(st.integers(1, 4))):
            prefix = first_prefix if number == 0 else " " * len(first_prefix)
            key = draw(st.sampled_from(["name", "a", "tags", "on", "1", "x.y/z", "k-2"]))
            if depth < 3 and draw(st.integers(0, 3)) == 0:
                lines.append(f"{indent}{prefix}{key}:{draw(COMMENTS)}")
                inner = indent + prefix + draw(st.sampled_from(["", "  ", "    ", " "]))
                if draw(st.booleans()):
                    sequence(inner, depth + 1)
                else:
                    mapping(inner + " " * (inner == indent + prefix), depth + 1)
            else:
                lines.append(f"{indent}{prefix}{key}: {draw(VALUES)}{draw(COMMENTS)}")
            if draw(st.integers(0, 6)) == 0:
                lines.append(draw(st.sampled_from(["", "# between", "      # deep", "  "])))

    def sequence(indent: str, depth: int) -> None:
        for _ in range(draw(st.integers(1, 3))):
            dash = draw(st.sampled_from(["- ", "-   "]))
            if depth < 3 and draw(st.booleans()):
                mapping(indent, depth + 1, dash)
            else:
                lines.append(f"{indent}{dash}{draw(VALUES)}{draw(COMMENTS)}")

    if draw(st.booleans()):
        lines.append("# yaml-language-server: $schema=x")
    mapping("", 0)
    mutation = draw(st.integers(0, 5))
    spot = draw(st.integers(0, len(lines) - 1))
    if mutation == 1:
        lines[spot] = " " + lines[spot]
    elif mutation == 2 and lines[spot].startswith("  "):
        lines[spot] = lines[spot][2:]
    elif mutation == 3:
        lines.insert(spot, lines[spot])  # a duplicate key, mostly
    elif mutation == 4:
        lines[spot] += draw(VALUES)
    return "\n".join(lines) + "\n"


@settings(max_examples=2000)
@given(block_document())
def test_block_documents_are_read_as_the_full_loader_reads_them_or_left_to_it(
    text: str,
) -> None:
    same_as_full_loader(text)


IDENTIFIERS = st.from_regex(r"[a-z][a-zA-Z0-9_-]{0,8}", fullmatch=True)
SCALARS = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.sampled_from(["${var.x}", "a ${var.b}", "yes", "1.0", "0777", "~", "", " x", "a: b"]),
)
VALUES_TREE = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(IDENTIFIERS, inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=800)
@given(
    st.dictionaries(IDENTIFIERS, VALUES_TREE, min_size=1, max_size=5),
    st.sampled_from([None, False]),
    st.sampled_from([2, 4]),
)
def test_what_yaml_writers_write_is_read_as_the_full_loader_reads_it(
    data: dict[str, Any], flow: bool | None, indent: int
) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, indent=indent, sort_keys=False)
    same_as_full_loader(text)


def test_a_configuration_is_read_by_the_fast_reader() -> None:
    text = (
        "# yaml-language-server: $schema=../schemas/config.schema.json\n"
        "target:\n  endpoint: http://127.0.0.1:8080   # the emulator\n"
        "users:\n- username: u\n  password: {env: P}\n"
        * 0
        + "namespaces:\n- name: team-a\n  public: false\n"
        "repositories:\n"
        "  - namespace: team-a\n    name: 'api'\n    tags: [v1, latest]\n"
        '    description: "the ${var.env} API"\n'
        "clusters:\n- name: c\n  workers:\n    count: ${var.workers}\n    cpu: 4\n"
    )
    assert same_as_full_loader(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key
        "a: &x [1]\nb: *x\n",  # alias
        "a: !!binary aGk=\n",  # tag
        "a: 1\n---\nb: 2\n",  # several documents
        "a:\n\tb: 1\n",  # tab
        "a: |\n  text\n",  # block scalar
        "a: one\n  two\n",  # multi-line plain scalar
        "<<: {a: 1}\n",  # merge key
        "- a\n",  # not a mapping
        "",  # empty
        "# only a comment\n",
        "a: 1\r\nb: 2\r\n",  # CRLF
    ],
)
def test_what_the_fast_reader_does_not_know_goes_to_the_full_loader(text: str) -> None:
    assert read_block_yaml(text) is None


def test_a_duplicate_key_in_a_large_file_is_still_refused_at_its_line(tmp_path: Path) -> None:
    entries = [f"- namespace: ns\n  name: app{i:05d}\n  tags: [v1]\n" for i in range(10_000)]
    entries[7_000] = "- namespace: ns\n  name: app07000\n  name: again\n  tags: [v1]\n"
    path = tmp_path / "big.yaml"
    path.write_text("repositories:\n" + "".join(entries), encoding="utf-8")
    with pytest.raises(LoadError) as failed:
        read_document(str(path))
    line = 2 + 3 * 7_000 + 2
    assert [str(d) for d in failed.value.diagnostics] == [
        f'{path}:{line}:3: error: duplicate key "name": also at line {line - 1}, column 3'
    ]


def test_positions_of_a_fast_read_file_name_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "# c\nrepositories:\n- namespace: ns\n  name: api\n  tags: [v1,  v2]\n  lifecycle:\n",
        encoding="utf-8",
    )
    assert read_block_yaml(path.read_text(encoding="utf-8")) is not None
    document = read_document(str(path))
    assert document.value_at(("repositories", 0)) == Location(str(path), 3, 3)
    assert document.value_at(("repositories", 0, "tags", 1)) == Location(str(path), 5, 15)
    assert document.key_at(("repositories", 0, "name")) == Location(str(path), 4, 3)
    assert document.value_at(("repositories", 0, "lifecycle")) == Location(str(path), 6, 13)


REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    path
    for folder in ("examples", "tests/config/corpus")
    for path in (REPOSITORY / folder).rglob("*.y*ml")
)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPOSITORY)))
def test_the_shipped_files_read_as_the_full_loader_reads_them(path: Path) -> None:
    same_as_full_loader(path.read_bytes().decode("utf-8", errors="replace"))


def test_most_shipped_examples_take_the_fast_reader() -> None:
    examples = [p for p in SHIPPED if "examples" in p.parts]
    fast = [p for p in examples if read_block_yaml(p.read_text(encoding="utf-8")) is not None]
    assert len(fast) * 2 > len(examples), [str(p) for p in set(examples) - set(fast)]


def test_the_first_characters_it_resolves_are_pyyamls() -> None:
    """The block reader resolves a plain scalar without PyYAML unless it starts with one of
    these characters: the set must be PyYAML's own (the empty text aside, never a scalar here)."""
    from reconciler.config import yamlload
    from reconciler.config.yamlfull import IMPLICIT_FIRST_CHARACTERS

    assert yamlload._NEEDS_RESOLVING == IMPLICIT_FIRST_CHARACTERS - {""}


@pytest.mark.parametrize("value", VALUE_TEXTS)
def test_each_value_is_read_as_the_full_loader_reads_it(value: str) -> None:
    """Every value of the generators once, as a mapping value, a list item and in a flow list:
    the block reader resolves most plain scalars itself and must type each one as PyYAML does."""
    for text in (f"a: {value}\n", f"a:\n- {value}\n", f"a: [{value}]\n"):
        same_as_full_loader(text)
