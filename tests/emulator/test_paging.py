"""marker / maxKeys / isTruncated / nextMarker on every list, with the Go SDK's `maker`."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api, assert_error


def walk(
    api: Api, path: str, key: str, query: dict[str, str], marker_key: str = "marker"
) -> list[Any]:
    """Every item, page after page, as a client would; checks each page's paging fields."""
    items: list[Any] = []
    marker: str | None = None
    for _ in range(100):
        page_query = dict(query) if marker is None else {**query, marker_key: marker}
        page = api.ok(api.get(path, page_query))
        assert page["marker"] == (marker or "")
        assert page["maxKeys"] == int(query.get("maxKeys", 1000))
        items.extend(page[key])
        if not page["isTruncated"]:
            assert page["nextMarker"] == ""
            return items
        assert page["nextMarker"]
        marker = page["nextMarker"]
    raise AssertionError("paging does not end")


@pytest.fixture
def namespaces(api: Api, user: str) -> list[str]:
    names = [f"ns-{i:02d}" for i in range(7)]
    for name in reversed(names):
        api.create_namespace(name)
        api.put_tag(name, "repo", "v1")
    return names


@pytest.mark.parametrize("max_keys", ["1", "2", "3", "7", "1000"])
@pytest.mark.parametrize("marker_key", ["marker", "maker"])
def test_namespaces_and_images(
    api: Api, user: str, namespaces: list[str], max_keys: str, marker_key: str
) -> None:
    query = {"user": user, "maxKeys": max_keys}
    listed = walk(api, "/v1/image/namespace", "namespaces", query, marker_key)
    assert [n["namespace"] for n in listed] == namespaces
    images = walk(api, "/v1/image", "images", query, marker_key)
    assert [i["namespace"] for i in images] == namespaces


def test_first_page_is_truncated(api: Api, user: str, namespaces: list[str]) -> None:
    page = api.ok(api.get("/v1/image/namespace", {"user": user, "maxKeys": "3"}))
    assert [n["namespace"] for n in page["namespaces"]] == namespaces[:3]
    assert page["isTruncated"] is True and page["nextMarker"]


@pytest.mark.parametrize("marker", ["", "-1"])
def test_start_markers(api: Api, user: str, namespaces: list[str], marker: str) -> None:
    page = api.ok(api.get("/v1/image/namespace", {"user": user, "marker": marker}))
    assert len(page["namespaces"]) == 7


@pytest.mark.parametrize(
    ("max_keys", "effective"), [("0", 1), ("-5", 1), ("5000", 1000), ("abc", 1000), ("", 1000)]
)
def test_max_keys_is_clamped(
    api: Api, user: str, namespaces: list[str], max_keys: str, effective: int
) -> None:
    page = api.ok(api.get("/v1/image/namespace", {"user": user, "maxKeys": max_keys}))
    assert page["maxKeys"] == effective
    assert len(page["namespaces"]) == min(effective, 7)


def test_marker_stays_valid_when_its_item_goes(api: Api, user: str, namespaces: list[str]) -> None:
    first = api.ok(api.get("/v1/image/namespace", {"user": user, "maxKeys": "2"}))
    gone = first["nextMarker"]
    api.ok(api.delete(f"/v1/image/namespace/{namespaces[2]}"))
    rest = api.ok(api.get("/v1/image/namespace", {"user": user, "marker": gone}))
    assert [n["namespace"] for n in rest["namespaces"]] == namespaces[3:]


def test_clusters_and_nodes(api: Api, emulator: EmulatorHandle) -> None:
    made = [api.create_cluster(containerNet=f"172.{16 + i}.0.0/16", workers=3) for i in range(5)]
    for max_keys, marker_key in [("1", "marker"), ("2", "maker"), ("1000", "marker")]:
        clusters = walk(api, "/v1/cluster", "clusters", {"maxKeys": max_keys}, marker_key)
        assert [c["clusterUuid"] for c in clusters] == made
        nodes = walk(
            api, "/v1/node", "nodes", {"clusterUuid": made[0], "maxKeys": max_keys}, marker_key
        )
        assert [n["clusterUuid"] for n in nodes] == [made[0]] * 3


def test_cluster_marker_must_be_one_we_gave(api: Api) -> None:
    assert_error(api.get("/v1/cluster", {"marker": "c-notours"}), "Cce.IllegalArguments")


def test_cluster_status_filter_pages_too(api: Api, emulator: EmulatorHandle) -> None:
    made = [api.create_cluster(containerNet=f"172.{16 + i}.0.0/16") for i in range(4)]
    api.get("/v1/cluster")  # settle: all RUNNING
    api.ok(api.delete(f"/v1/cluster/{made[1]}"))
    running = walk(api, "/v1/cluster", "clusters", {"status": "RUNNING", "maxKeys": "1"})
    assert [c["clusterUuid"] for c in running] == [made[0], made[2], made[3]]
    deleted = walk(api, "/v1/cluster", "clusters", {"status": "DELETED"})
    assert [c["clusterUuid"] for c in deleted] == [made[1]]
