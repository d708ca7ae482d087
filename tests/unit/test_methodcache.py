"""The methods dataclasses generates are compiled once and found in the cache by later runs,
as the same code; a damaged or foreign cache file is ignored; nothing is written where Python
may not write byte-code."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN = """
import json, sys
from dataclasses import FrozenInstanceError, dataclass, field
from pathlib import Path
from reconciler import methodcache

methodcache.install(Path(sys.argv[1]))

@dataclass(frozen=True, order=True)
class Point:
    x: int
    y: int = 0
    tags: tuple = field(default_factory=tuple, compare=False)

a, b = Point(1, 2), Point(1, 2, ("t",))
try:
    a.x = 3
    frozen = False
except FrozenInstanceError:
    frozen = True
found, compiled = methodcache.stats()
print(json.dumps({
    "found": found, "compiled": compiled, "equal": a == b, "hash": hash(a) == hash(b),
    "repr": repr(b), "less": Point(0) < a, "frozen": frozen,
}))
"""


def run(cache: Path, *, write: bool = True) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(cache)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


BEHAVIOUR = {
    "equal": True,
    "hash": True,
    "repr": "Point(x=1, y=2, tags=('t',))",
    "less": True,
    "frozen": True,
}


def test_a_second_run_finds_every_method_compiled_and_the_class_is_the_same(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "methods.marshal"
    first = run(cache)
    assert first["found"] == 0 and isinstance(first["compiled"], int) and first["compiled"] >= 5
    assert cache.exists()
    second = run(cache)
    assert second["found"] == first["compiled"] and second["compiled"] == 0
    assert {k: first[k] for k in BEHAVIOUR} == {k: second[k] for k in BEHAVIOUR} == BEHAVIOUR


@pytest.mark.parametrize(
    "content",
    [b"", b"not a cache", importlib.util.MAGIC_NUMBER + b"\xff\x00damaged", b"\x00\x00\r\n" * 9],
)
def test_a_damaged_or_foreign_file_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    cache = tmp_path / "methods.marshal"
    cache.write_bytes(content)
    first = run(cache)
    assert first["found"] == 0 and {k: first[k] for k in BEHAVIOUR} == BEHAVIOUR
    assert run(cache)["compiled"] == 0  # rewritten whole


def test_nothing_is_written_where_python_writes_no_byte_code(tmp_path: Path) -> None:
    cache = tmp_path / "methods.marshal"
    assert {k: v for k, v in run(cache, write=False).items() if k in BEHAVIOUR} == BEHAVIOUR
    assert not cache.exists()
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        run(read_only / "methods.marshal")  # cannot write: no cache, no error
    finally:
        read_only.chmod(0o700)
