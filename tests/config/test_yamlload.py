"""The position-aware YAML reader: values, positions, and every kind of hostile input."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.config.yamlfull import MAX_ALIAS_NODES
from reconciler.config.yamlload import (
    MAX_FILE_BYTES,
    Diagnostic,
    LoadError,
    read_document,
)
from reconciler.model import Location


def load(tmp_path: Path, content: str | bytes, name: str = "c.yaml") -> Any:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return read_document(str(path))


def problems(tmp_path: Path, content: str | bytes) -> list[str]:
    with pytest.raises(LoadError) as failed:
        load(tmp_path, content)
    return [str(d).replace(str(tmp_path) + "/", "") for d in failed.value.diagnostics]


def test_values_are_plain_python(tmp_path: Path) -> None:
    doc = load(
        tmp_path,
        "a:\n  s: text\n  i: 10\n  b: true\n  n: null\n  f: 1.5\n  l: [x, 2]\n  d: 2021-01-01\n",
    )
    assert doc.data == {
        "a": {
            "s": "text",
            "i": 10,
            "b": True,
            "n": None,
            "f": 1.5,
            "l": ["x", 2],
            "d": "2021-01-01",
        }
    }


def test_positions_of_values_and_keys_are_one_based(tmp_path: Path) -> None:
    doc = load(tmp_path, "namespaces:\n  - name: team-a\n    public: true\n")
    path = str(tmp_path / "c.yaml")
    assert doc.value_at(("namespaces", 0)) == Location(path, 2, 5)
    assert doc.value_at(("namespaces", 0, "public")) == Location(path, 3, 13)
    assert doc.key_at(("namespaces", 0, "public")) == Location(path, 3, 5)


def test_value_at_falls_back_to_the_nearest_ancestor(tmp_path: Path) -> None:
    doc = load(tmp_path, "namespaces:\n  - name: team-a\n")
    assert doc.value_at(("namespaces", 0, "lifecycle", "protect")) == doc.value_at(
        ("namespaces", 0)
    )


def test_keys_are_strings_even_when_they_look_like_other_types(tmp_path: Path) -> None:
    assert load(tmp_path, "on: 1\n10: 2\nnull: 3\n").data == {"on": 1, "10": 2, "null": 3}


def test_merge_keys_are_expanded_and_explicit_keys_win(tmp_path: Path) -> None:
    doc = load(tmp_path, "base: &b {cpu: 4, memory: 8}\nw:\n  <<: *b\n  memory: 16\n")
    assert doc.data["w"] == {"memory": 16, "cpu": 4}


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    doc = load(tmp_path, "a: &t [latest, v1]\nb: *t\n")
    assert doc.data == {"a": ["latest", "v1"], "b": ["latest", "v1"]}


def test_a_bom_is_ignored(tmp_path: Path) -> None:
    assert load(tmp_path, b"\xef\xbb\xbfa: 1\n").data == {"a": 1}


def test_billion_laughs_is_refused_fast(tmp_path: Path) -> None:
    lines = ['l0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    started = time.monotonic()
    found = problems(tmp_path, "\n".join(lines) + "\n")
    assert time.monotonic() - started < 2
    assert len(found) == 1 and "an alias bomb?" in found[0]


def test_alias_expansion_limit_is_counted_in_nodes(tmp_path: Path) -> None:
    items = ", ".join(["x"] * 99)
    fine = f"a: &a [{items}]\n" + "".join(f"b{i}: *a\n" for i in range(MAX_ALIAS_NODES // 100))
    assert load(tmp_path, fine).data["b0"][0] == "x"
    too_many = fine + "".join(f"c{i}: *a\n" for i in range(2))
    assert "alias bomb" in problems(tmp_path, too_many)[0]


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    assert problems(tmp_path, "a: &x\n  - *x\n") == [
        "c.yaml:1:4: error: recursive alias: a node that contains itself is not allowed"
    ]


def test_recursive_merge_is_refused(tmp_path: Path) -> None:
    assert "recursive alias" in problems(tmp_path, "a: &x\n  b: 1\n  <<: *x\n")[0]


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    assert "nested too deeply" in problems(tmp_path, "a: " + "[" * 100 + "]" * 100 + "\n")[0]
    assert "nested too deeply" in problems(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n")[0]


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    assert problems(tmp_path, "a: 1\nb: 2\na: 3\n") == [
        'c.yaml:3:1: error: duplicate key "a": also at line 1, column 1'
    ]


def test_every_duplicate_key_is_reported(tmp_path: Path) -> None:
    assert len(problems(tmp_path, "a: {x: 1, x: 2}\nb: {y: 1, y: 2}\n")) == 2


def test_complex_keys_are_refused(tmp_path: Path) -> None:
    assert problems(tmp_path, "? [a, b]\n: 1\n") == [
        "c.yaml:1:3: error: a mapping key must be a plain string, not a list"
    ]


def test_merge_of_a_scalar_is_refused(tmp_path: Path) -> None:
    assert "merge key" in problems(tmp_path, "a:\n  <<: 1\n")[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "",
            "c.yaml:1:1: error: file is empty: expected a mapping with target, users, namespaces, repositories or clusters",
        ),
        (
            "# only a comment\n",
            "c.yaml:1:1: error: file is empty: expected a mapping with target, users, namespaces, repositories or clusters",
        ),
        (
            "---\n",
            "c.yaml:1:1: error: file is empty: expected a mapping with target, users, namespaces, repositories or clusters",
        ),
        (
            "just text\n",
            "c.yaml:1:1: error: the top level must be a mapping, not a scalar ('just text')",
        ),
        ("- a\n", "c.yaml:1:1: error: the top level must be a mapping, not a list"),
        ("null\n", "c.yaml:1:1: error: the top level must be a mapping, not null"),
        (
            "a: 1\n---\nb: 2\n",
            "c.yaml:2:1: error: more than one YAML document in this file; put each document in its own file",
        ),
        (
            "a:\n\t- 1\n",
            "c.yaml:2:1: error: invalid YAML: tab character; indent with spaces (YAML does not allow tabs here)",
        ),
        (
            "a: b: c\n",
            'c.yaml:1:5: error: invalid YAML: a "key: value" where a plain value was expected: '
            'check the indentation of this line, or quote a value that holds ": "',
        ),
        (
            "namespaces:\n  - name: a\n    public: true\n   - name: b\n",
            "c.yaml:4:4: error: invalid YAML: this line's indentation does not match the lines "
            "above it: indent it as its siblings (the list or mapping it would continue starts "
            "at line 2, column 3)",
        ),
        (
            "users:\n  - username: x\n password: y\n",
            "c.yaml:3:2: error: invalid YAML: this line's indentation does not match the lines "
            "above it: indent it as its siblings (the list or mapping it would continue starts "
            "at line 1, column 1)",
        ),
        (
            "namespaces:\n  - name: team-a\n  public: false\n",
            "c.yaml:3:3: error: invalid YAML: this line's indentation does not match the lines "
            "above it: indent it as its siblings (the list or mapping it would continue starts "
            "at line 2, column 3)",
        ),
        (
            "a: 'open\n",
            "c.yaml:2:1: error: invalid YAML: found unexpected end of stream (while scanning a quoted scalar at line 1, column 4)",
        ),
        ("a: \x1b[0m\n", "c.yaml:1:4: error: character U+001B is not allowed in YAML"),
        (b"a: \xff\n", "c.yaml:1:4: error: file is not valid UTF-8 (byte 0xff)"),
        (b"a: 1\nb: \xc3\xa9\xc3\n", "c.yaml:2:5: error: file is not valid UTF-8 (byte 0xc3)"),
        (
            b"a: 1\n\x00\x01\x02",
            "c.yaml:2:1: error: file contains binary data (a NUL byte); expected YAML text",
        ),
        (
            "a: !!python/object:os.system x\n",
            "c.yaml:1:4: error: unsupported YAML tag !!python/object:os.system",
        ),
    ],
)
def test_bad_input_gets_one_clear_message(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    assert problems(tmp_path, content) == [expected]


def test_a_file_over_10_mb_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "c.yaml"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    started = time.monotonic()
    with pytest.raises(LoadError) as failed:
        read_document(str(big))
    assert time.monotonic() - started < 1
    assert failed.value.diagnostics == [
        Diagnostic(
            str(big), 1, 1, f"file is too large ({MAX_FILE_BYTES + 1} bytes); the limit is 10 MB"
        )
    ]


def test_an_unreadable_path_is_a_diagnostic(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as failed:
        read_document(str(tmp_path / "missing.yaml"))
    assert str(failed.value.diagnostics[0]).endswith(
        "missing.yaml: error: cannot read: No such file or directory"
    )


def test_diagnostics_format_and_order() -> None:
    later = Diagnostic("a.yaml", 10, 2, "x")
    earlier = Diagnostic("a.yaml", 9, 30, "y")
    whole = Diagnostic("a.yaml", 0, 0, "z")
    assert sorted([later, earlier, whole]) == [whole, earlier, later]
    assert str(later) == "a.yaml:10:2: error: x"
    assert str(whole) == "a.yaml: error: z"
