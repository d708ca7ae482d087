"""``@frozen_record`` is ``@dataclass(frozen=True)``, processed when the class is first used:
before that the class has no generated method, after it everything a dataclass has."""

from __future__ import annotations

import dataclasses
import sys
import threading
from dataclasses import field
from typing import Any

import pytest

from reconciler.records import blank, frozen_record


def _records() -> tuple[type, type]:
    @frozen_record(order=True)
    class Point:
        x: str
        y: int = 0
        extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @frozen_record
    class Labelled(Point):
        label: str = "l"

    return Point, Labelled


def test_a_record_is_processed_when_first_made_not_when_defined() -> None:
    point, _ = _records()
    assert "__eq__" not in point.__dict__ and "__repr__" not in point.__dict__

    p = point("a", 1)

    assert "__eq__" in point.__dict__ and "__hash__" in point.__dict__
    assert p == point("a", 1) and hash(p) == hash(point("a", 1)) and p < point("b")
    assert repr(p).endswith("Point(x='a', y=1, extra={})")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = "b"  # type: ignore[misc]


def test_a_record_behaves_as_the_frozen_dataclass_it_stands_for() -> None:
    point, labelled = _records()
    made = labelled("a", 2)
    assert [f.name for f in dataclasses.fields(labelled)] == ["x", "y", "extra", "label"]
    assert made != point("a", 2) and dataclasses.replace(made, y=3).y == 3
    assert labelled.__match_args__ == ("x", "y", "extra", "label")
    assert dataclasses.asdict(made) == {"x": "a", "y": 2, "extra": {}, "label": "l"}
    with pytest.raises(TypeError):
        labelled()  # the dataclass's own error for a missing argument


def test_asking_for_the_fields_processes_a_record_and_a_dataclass_may_inherit_one() -> None:
    point, _ = _records()
    assert dataclasses.is_dataclass(point)
    assert [f.name for f in dataclasses.fields(point)] == ["x", "y", "extra"]

    base, _ = _records()

    @dataclasses.dataclass(frozen=True)
    class Child(base):  # type: ignore[valid-type,misc]
        z: int = 5

    assert Child("a").z == 5 and Child("a").y == 0


def test_threads_making_the_first_instances_at_once_all_get_them() -> None:
    """No thread finds a class half processed (one once found no ``__init__`` for a moment)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        failures: list[str] = []
        for _ in range(100):
            point, _ = _records()
            start = threading.Barrier(6)

            def make(point: type = point, start: threading.Barrier = start) -> None:
                start.wait()
                try:
                    assert point("t", 1).y == 1
                except Exception as exc:  # noqa: BLE001 (any failure is the finding)
                    failures.append(repr(exc))

            threads = [threading.Thread(target=make) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert failures == []
    finally:
        sys.setswitchinterval(interval)


def test_a_record_is_what_dataclass_makes_of_the_same_class() -> None:
    def declare(decorate: Any) -> Any:
        class Thing:
            name: str
            size: int = 1

        return decorate(Thing)

    plain, lazy = declare(dataclasses.dataclass(frozen=True)), declare(frozen_record)
    a, b = plain("x"), lazy("x")
    assert repr(a) == repr(b) and hash(a) == hash(b) and lazy.__doc__ == plain.__doc__
    assert lazy.__match_args__ == plain.__match_args__
    for thing in (a, b):
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'other'"):
            thing.other = 1
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'name'"):
            del thing.name


def test_a_class_with_its_own_init_is_refused() -> None:
    with pytest.raises(TypeError, match="needs the __init__"):

        @frozen_record
        class Own:
            x: int

            def __init__(self) -> None:
                pass


def test_a_blank_record_filled_in_field_order_is_the_one_its_init_makes() -> None:
    point, _ = _records()
    assert "__eq__" not in point.__dict__  # not processed yet: blank processes it first

    made = blank(point)
    made.__dict__.update(x="a", y=1, extra={})

    assert "__eq__" in point.__dict__
    assert made == point("a", 1) and hash(made) == hash(point("a", 1))
    assert list(made.__dict__) == list(point("a", 1).__dict__)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.x = "b"
