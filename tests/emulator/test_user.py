"""Registry user: POST / GET / PUT /v1/image/user."""

from __future__ import annotations

import pytest

from reconciler.emulator.testing import EmulatorHandle

from .helpers import PASSWORD, Api, assert_error


def user_body(
    username: str | None = "ccetest", password: str | None = PASSWORD, confirm: str | None = None
) -> dict[str, object]:
    body: dict[str, object] = {"username": username, "password": password}
    body["passwordConfirmation"] = password if confirm is None else confirm
    return {k: v for k, v in body.items() if v is not None}


def test_create_then_get(api: Api) -> None:
    assert api.get("/v1/image/user").status_code == 404
    api.ok(api.post("/v1/image/user", user_body()))
    data = api.ok(api.get("/v1/image/user"))
    assert data["username"] == "ccetest"
    assert data["createTime"] == data["updateTime"]
    assert data["createTime"].endswith("Z") and len(data["createTime"]) == 20


def test_no_user(api: Api) -> None:
    assert_error(api.get("/v1/image/user"), "Cce.warning.UserNotExist")


@pytest.mark.parametrize("username", [None, ""])
def test_empty_username(api: Api, username: str | None) -> None:
    assert_error(api.post("/v1/image/user", user_body(username)), "Cce.UserNameNull")


@pytest.mark.parametrize(
    "username", ["abc", "a" * 31, "CceTest", "cce-test", "cce test", "用户名称"]
)
def test_bad_username(api: Api, username: str) -> None:
    assert_error(api.post("/v1/image/user", user_body(username)), "Cce.UserNameFormatError")


@pytest.mark.parametrize("username", ["abcd", "a" * 30, "0123"])
def test_good_usernames(api: Api, username: str) -> None:
    assert api.post("/v1/image/user", user_body(username)).status_code == 200


@pytest.mark.parametrize("password", [None, "short1", "onlyletters", "12345678", "a1" * 17])
def test_bad_password(api: Api, password: str | None) -> None:
    assert_error(
        api.post("/v1/image/user", user_body(password=password)), "Cce.PasswordFormatError"
    )


def test_confirmation_differs(api: Api) -> None:
    assert_error(api.post("/v1/image/user", user_body(confirm="passwd124")), "Cce.ConfirmFail")


def test_same_user_twice(api: Api, user: str) -> None:
    assert_error(api.post("/v1/image/user", user_body()), "Cce.UserExist")


def test_one_user_per_account(api: Api, user: str) -> None:
    assert_error(api.post("/v1/image/user", user_body("another")), "Cce.MoreThanOneUserPerAccount")


def test_change_password(api: Api, emulator: EmulatorHandle, user: str) -> None:
    before = emulator.state()["user"]
    emulator.advance(5)
    api.ok(api.put("/v1/image/user", user_body(password="newpass456")))
    after = emulator.state()["user"]
    assert after["passwordSha256"] != before["passwordSha256"]
    assert after["updateTime"] > before["updateTime"] == after["createTime"]


def test_password_unchanged(api: Api, user: str) -> None:
    assert_error(api.put("/v1/image/user", user_body()), "Cce.PasswdNotChange")


def test_change_confirmation_differs(api: Api, user: str) -> None:
    assert_error(
        api.put("/v1/image/user", user_body(password="newpass456", confirm="x")), "Cce.ConfirmFail"
    )


def test_change_password_format(api: Api, user: str) -> None:
    assert_error(api.put("/v1/image/user", user_body(password="short")), "Cce.PasswordFormatError")


def test_change_without_username(api: Api, user: str) -> None:
    assert_error(api.put("/v1/image/user", user_body(username=None)), "Cce.UserNameNull")


@pytest.mark.parametrize("existing", [False, True])
def test_change_unknown_user(api: Api, existing: bool) -> None:
    if existing:
        api.create_user("someone")
    assert_error(
        api.put("/v1/image/user", user_body(password="newpass456")), "Cce.warning.UserNotExist"
    )
