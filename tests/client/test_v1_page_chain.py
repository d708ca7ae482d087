"""Marker-paged lists are read as a chain: the thread that receives a page asks for the next one
at once, while the pager parses and checks the page, but never more than one page ahead of
the pager's checks, so a list that fails them costs at most one read more than page after page
would. What comes back, and every error, is what reading page after page gives."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler import errors
from reconciler.client import v1
from reconciler.client.v1 import CceClient
from reconciler.client.v1_types import Namespace

from .conftest import FakeTime, Reply, ScriptedServer, error, make_transport, ok


@pytest.fixture
def client(server: ScriptedServer, fake_time: FakeTime) -> Iterator[CceClient]:
    with CceClient(make_transport(server.url, fake_time), page_size=2) as c:
        yield c


def page(names: list[str], next_marker: str | None) -> Reply:
    items = [{"namespace": n, "public": False} for n in names]
    answer: dict[str, Any] = {"isTruncated": next_marker is not None, "namespaces": items}
    if next_marker:
        answer["nextMarker"] = next_marker
    return ok(answer)


def markers(server: ScriptedServer) -> list[str | None]:
    return [dict(s.query).get("marker") for s in server.seen]


def wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_next_page_is_read_while_the_pager_parses_but_never_two_ahead(
    client: CceClient, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.script(page(["a", "b"], "m2"), page(["c", "d"], "m3"), page(["e"], None))
    parsing_a = threading.Event()
    go_on = threading.Event()
    parse = v1.namespace_from

    def slow_parse(data: Any) -> Namespace:
        if data["namespace"] == "a":
            parsing_a.set()
            assert go_on.wait(10)
        return parse(data)

    monkeypatch.setattr(v1, "namespace_from", slow_parse)
    listed: list[Namespace] = []
    pager = threading.Thread(target=lambda: listed.extend(client.list_namespaces("ccetest")))
    pager.start()
    assert parsing_a.wait(10)
    wait_for(lambda: server.count() == 2)  # page 2 asked for while page 1 is parsed
    time.sleep(0.3)
    assert server.count() == 2  # page 3 waits until page 1 has passed its checks
    go_on.set()
    pager.join(10)
    assert [n.namespace for n in listed] == ["a", "b", "c", "d", "e"]
    assert markers(server) == [None, "m2", "m3"]


def test_a_page_that_fails_its_checks_leaves_at_most_one_read_unused(
    client: CceClient, server: ScriptedServer
) -> None:
    server.script(page(["a", "b"], "m2"), page(["c", "a"], "m3"), page(["e", "f"], "m4"))
    server.default = page(["x"], None)
    with pytest.raises(errors.ShapeError, match="a is listed twice"):
        client.list_namespaces("ccetest")
    assert markers(server) in ([None, "m2"], [None, "m2", "m3"])


def test_an_error_on_a_page_read_ahead_is_the_lists_error(
    client: CceClient, server: ScriptedServer
) -> None:
    server.script(page(["a", "b"], "m2"), error("AccessDenied", "rid-2", 403))
    with pytest.raises(errors.AuthError) as caught:
        client.list_namespaces("ccetest")
    assert caught.value.request_id == "rid-2"
    assert markers(server) == [None, "m2"]


def test_a_long_list_is_read_page_after_page_in_order(
    client: CceClient, server: ScriptedServer
) -> None:
    names = [f"ns{i:02d}" for i in range(21)]
    pages = [names[i : i + 2] for i in range(0, len(names), 2)]
    server.script(
        *(page(p, f"m{n + 2}" if n + 1 < len(pages) else None) for n, p in enumerate(pages))
    )
    listed = client.list_namespaces("ccetest")
    assert [n.namespace for n in listed] == names
    assert markers(server) == [None, *(f"m{n}" for n in range(2, len(pages) + 1))]
