"""Repositories and tags: POST / GET / DELETE /v1/image/meta and GET /v1/image."""

from __future__ import annotations

import pytest

from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api, assert_error


@pytest.fixture
def namespace(api: Api, user: str) -> str:
    api.create_namespace("team-a")
    return "team-a"


def meta(
    namespace: str = "team-a", repository: str = "api", tag: str | None = "v1"
) -> dict[str, str]:
    query = {"namespace": namespace, "repository": repository}
    return query if tag is None else {**query, "tag": tag}


def test_add_get_list(api: Api, user: str, namespace: str) -> None:
    api.put_tag(namespace, "api", "v2", "payment API")
    api.put_tag(namespace, "api", "v1")  # no description: the old one stays
    api.put_tag(namespace, "api", "latest")
    data = api.ok(api.get("/v1/image/meta", meta()))
    assert data == {
        "namespace": "team-a",
        "repository": "api",
        "tag": "v1",
        "description": "payment API",
        "createTime": data["createTime"],
    }
    images = api.ok(api.get("/v1/image", {"user": user}))["images"]
    assert images == [
        {
            "namespace": "team-a",
            "repository": "api",
            "tags": ["latest", "v1", "v2"],
            "description": "payment API",
            "createTime": images[0]["createTime"],
        }
    ]


def test_adding_an_existing_tag_succeeds_and_updates_the_description(
    api: Api, namespace: str
) -> None:
    api.put_tag(namespace, "api", "v1", "first")
    api.put_tag(namespace, "api", "v1", "second")
    assert api.ok(api.get("/v1/image/meta", meta()))["description"] == "second"
    api.put_tag(namespace, "api", "v1", "")
    assert api.ok(api.get("/v1/image/meta", meta()))["description"] == ""


def test_list_is_sorted_and_filtered(api: Api, user: str, namespace: str) -> None:
    api.create_namespace("team-b")
    api.create_namespace("team")
    for ns, repo in [("team-b", "x"), ("team-a", "web"), ("team", "zeta"), ("team-a", "api")]:
        api.put_tag(ns, repo, "v1")
    images = api.ok(api.get("/v1/image", {"user": user}))["images"]
    assert [(i["namespace"], i["repository"]) for i in images] == [
        ("team", "zeta"),
        ("team-a", "api"),
        ("team-a", "web"),
        ("team-b", "x"),
    ]
    only_a = api.ok(api.get("/v1/image", {"user": user, "namespace": "team-a"}))["images"]
    assert [i["repository"] for i in only_a] == ["api", "web"]
    assert api.ok(api.get("/v1/image", {"user": user, "namespace": "ghost"}))["images"] == []


@pytest.mark.parametrize("missing", ["namespace", "repository", "tag"])
def test_add_with_a_missing_part(api: Api, namespace: str, missing: str) -> None:
    body = {**meta(), "description": "d"}
    del body[missing]
    assert_error(api.post("/v1/image/meta", body), "Cce.NamespaceRepositoryOrTagNull")
    assert_error(
        api.post("/v1/image/meta", {**body, missing: ""}), "Cce.NamespaceRepositoryOrTagNull"
    )


@pytest.mark.parametrize("repository", ["1api", "-api", "api repo", "a" * 66, "api:1"])
def test_bad_repository(api: Api, namespace: str, repository: str) -> None:
    assert_error(
        api.post("/v1/image/meta", meta(repository=repository)), "Cce.ImageRepositoryFormatError"
    )


@pytest.mark.parametrize("tag", ["-v1", ".v1", "v 1", "t" * 66, "v1:x"])
def test_bad_tag(api: Api, namespace: str, tag: str) -> None:
    assert_error(api.post("/v1/image/meta", meta(tag=tag)), "Cce.ImageTagFormatError")


@pytest.mark.parametrize("tag", ["1.0.0", "latest", "v1/x_y-z", "t" * 65])
def test_good_tags(api: Api, namespace: str, tag: str) -> None:
    api.ok(api.post("/v1/image/meta", meta(tag=tag)))


def test_add_to_an_absent_namespace(api: Api, user: str) -> None:
    assert_error(api.post("/v1/image/meta", meta("ghost")), "RegistryNamespaceNotExist")


def test_get_errors(api: Api, namespace: str) -> None:
    api.put_tag(namespace, "api", "v1")
    assert_error(api.get("/v1/image/meta", meta(tag=None)), "Cce.NamespaceRepositoryOrTagNull")
    assert_error(api.get("/v1/image/meta", meta(namespace="ghost")), "RegistryNamespaceNotExist")
    assert_error(api.get("/v1/image/meta", meta(repository="web")), "RegistryRepositoryNotFound")
    assert_error(api.get("/v1/image/meta", meta(tag="v9")), "RegistryTagNotFound")


def test_delete_a_tag_then_the_last_one(api: Api, user: str, namespace: str) -> None:
    api.put_tag(namespace, "api", "v1", "desc")
    api.put_tag(namespace, "api", "v2")
    api.ok(api.delete("/v1/image/meta", meta(tag="v1")))
    assert_error(api.get("/v1/image/meta", meta(tag="v1")), "RegistryTagNotFound")
    assert api.ok(api.get("/v1/image", {"user": user}))["images"][0]["tags"] == ["v2"]
    api.ok(api.delete("/v1/image/meta", meta(tag="v2")))
    assert api.ok(api.get("/v1/image", {"user": user}))["images"] == []
    assert_error(api.get("/v1/image/meta", meta(tag="v2")), "RegistryRepositoryNotFound")


def test_delete_a_whole_repository(api: Api, emulator: EmulatorHandle, namespace: str) -> None:
    api.put_tag(namespace, "api", "v1")
    api.put_tag(namespace, "api", "v2")
    api.put_tag(namespace, "web", "v1")
    api.ok(api.delete("/v1/image/meta", meta(tag=None)))
    assert [i["repository"] for i in emulator.state()["images"]] == ["web"]


def test_delete_errors(api: Api, namespace: str) -> None:
    api.put_tag(namespace, "api", "v1")
    assert_error(
        api.delete("/v1/image/meta", {"namespace": namespace}), "Cce.NamespaceRepositoryOrTagNull"
    )
    assert_error(api.delete("/v1/image/meta", meta(namespace="ghost")), "RegistryNamespaceNotExist")
    assert_error(api.delete("/v1/image/meta", meta(repository="web")), "RegistryRepositoryNotFound")
    assert_error(api.delete("/v1/image/meta", meta(tag="v9")), "RegistryTagNotFound")


def test_list_needs_a_known_user(api: Api, user: str) -> None:
    assert_error(api.get("/v1/image"), "RegistryLackParams")
    assert_error(api.get("/v1/image", {"user": "nobody"}), "RegistryUserNotFound")
