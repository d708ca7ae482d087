"""Namespaces: POST / GET (list) /v1/image/namespace, GET / DELETE /v1/image/namespace/{ns}."""

from __future__ import annotations

import pytest

from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api, assert_error


def test_create_get_list_delete(api: Api, user: str) -> None:
    api.create_namespace("team-b", public=True)
    api.create_namespace("team-a")
    data = api.ok(api.get("/v1/image/namespace/team-a"))
    assert data == {"namespace": "team-a", "public": False, "createTime": data["createTime"]}
    listed = api.ok(api.get("/v1/image/namespace", {"user": user}))
    assert [(n["namespace"], n["public"]) for n in listed["namespaces"]] == [
        ("team-a", False),
        ("team-b", True),
    ]
    assert (listed["isTruncated"], listed["nextMarker"], listed["maxKeys"]) == (False, "", 1000)
    assert api.delete("/v1/image/namespace/team-a").content == b""
    assert_error(api.get("/v1/image/namespace/team-a"), "RegistryNamespaceNotFound")


def test_names_with_slashes_and_dots(api: Api, user: str) -> None:
    api.create_namespace("team/a.b_c-d")
    assert api.ok(api.get("/v1/image/namespace/team/a.b_c-d"))["namespace"] == "team/a.b_c-d"
    api.ok(api.delete("/v1/image/namespace/team/a.b_c-d"))


@pytest.mark.parametrize("missing", ["namespace", "public", "user"])
def test_lack_params(api: Api, user: str, missing: str) -> None:
    body = {"namespace": "team-a", "public": False, "user": user}
    del body[missing]
    assert_error(api.post("/v1/image/namespace", body), "RegistryLackParams")


def test_null_counts_as_missing(api: Api, user: str) -> None:
    body = {"namespace": "team-a", "public": None, "user": user}
    assert_error(api.post("/v1/image/namespace", body), "RegistryLackParams")


@pytest.mark.parametrize("name", ["", "1team", "-team", "team a", "a" * 66, "团队", "team:a"])
def test_bad_name(api: Api, user: str, name: str) -> None:
    body = {"namespace": name, "public": False, "user": user}
    assert_error(api.post("/v1/image/namespace", body), "Cce.NamespaceRequestFormatError")


def test_empty_user_is_a_format_error(api: Api, user: str) -> None:
    body = {"namespace": "team-a", "public": False, "user": ""}
    assert_error(api.post("/v1/image/namespace", body), "Cce.NamespaceRequestFormatError")


@pytest.mark.parametrize("name", ["a", "a" * 65, "A.b/c_d-e9"])
def test_good_names(api: Api, user: str, name: str) -> None:
    api.create_namespace(name)


def test_unknown_user(api: Api, user: str) -> None:
    body = {"namespace": "team-a", "public": False, "user": "nobody"}
    assert_error(api.post("/v1/image/namespace", body), "RegistryUserNotFound")


def test_no_registry_user_at_all(api: Api) -> None:
    body = {"namespace": "team-a", "public": False, "user": "ccetest"}
    assert_error(api.post("/v1/image/namespace", body), "RegistryUserNotFound")


def test_already_exists(api: Api, user: str) -> None:
    api.create_namespace("team-a")
    body = {"namespace": "team-a", "public": True, "user": user}
    assert_error(api.post("/v1/image/namespace", body), "RegistryAlreadyExist")


def test_quota(api: Api, emulator: EmulatorHandle, user: str) -> None:
    emulator.set_faults(namespace_quota=2)
    api.create_namespace("one")
    api.create_namespace("two")
    body = {"namespace": "three", "public": False, "user": user}
    assert_error(api.post("/v1/image/namespace", body), "RegistryOutOfLimit")
    api.ok(api.delete("/v1/image/namespace/one"))
    api.create_namespace("three")


def test_list_needs_a_user(api: Api, user: str) -> None:
    assert_error(api.get("/v1/image/namespace"), "RegistryLackParams")
    assert_error(api.get("/v1/image/namespace", {"user": ""}), "RegistryLackParams")


def test_list_of_unknown_user(api: Api, user: str) -> None:
    assert_error(api.get("/v1/image/namespace", {"user": "nobody"}), "RegistryUserNotFound")


def test_delete_absent(api: Api, user: str) -> None:
    assert_error(api.delete("/v1/image/namespace/ghost"), "RegistryNamespaceNotFound")


def test_delete_removes_repositories_and_tags(
    api: Api, emulator: EmulatorHandle, user: str
) -> None:
    api.create_namespace("team-a")
    api.put_tag("team-a", "api", "v1")
    api.put_tag("team-a", "web", "v1")
    api.ok(api.delete("/v1/image/namespace/team-a"))
    assert emulator.state()["images"] == []
    api.create_namespace("team-a")
    assert api.ok(api.get("/v1/image", {"user": user}))["images"] == []
