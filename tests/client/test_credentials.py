"""Credentials from the environment, secrets kept out of text, endpoints from a region or URL."""

from __future__ import annotations

import pytest

from reconciler.client.credentials import Credentials, endpoint_for
from reconciler.errors import UsageError

ENV = {
    "BCE_ACCESS_KEY_ID": "AKID-visible",
    "BCE_SECRET_ACCESS_KEY": "very-secret-key",
    "BCE_SESSION_TOKEN": "very-secret-token",
}


def test_from_environment() -> None:
    creds = Credentials.from_environment(ENV)
    assert creds == Credentials("AKID-visible", "very-secret-key", "very-secret-token")
    assert Credentials.from_environment({**ENV, "BCE_SESSION_TOKEN": ""}).session_token is None


def test_secrets_never_appear_in_text() -> None:
    creds = Credentials.from_environment(ENV)
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "very-secret" not in text
        assert "AKID-visible" in text


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "BCE_ACCESS_KEY_ID and BCE_SECRET_ACCESS_KEY"),
        ({"BCE_ACCESS_KEY_ID": "ak"}, "BCE_SECRET_ACCESS_KEY"),
        ({"BCE_SECRET_ACCESS_KEY": "sk", "BCE_ACCESS_KEY_ID": "  "}, "BCE_ACCESS_KEY_ID"),
    ],
)
def test_missing_credentials_are_a_usage_error(env: dict[str, str], missing: str) -> None:
    with pytest.raises(UsageError) as info:
        Credentials.from_environment(env)
    assert f"set {missing} in the environment" in str(info.value)
    assert "sk" not in str(info.value).split("set")[0]


def test_empty_credentials_are_refused() -> None:
    with pytest.raises(UsageError):
        Credentials("", "x")


@pytest.mark.parametrize(
    ("region", "endpoint", "expected"),
    [
        ("bj", None, "https://cce.bj.baidubce.com"),
        ("hkg", None, "https://cce.hkg.baidubce.com"),
        (None, "http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        (None, "http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
        ("bj", "https://cce.gz.baidubce.com", "https://cce.gz.baidubce.com"),
        (None, "http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_endpoint_for(region: str | None, endpoint: str | None, expected: str) -> None:
    assert endpoint_for(region, endpoint) == expected


@pytest.mark.parametrize(
    ("region", "endpoint", "needle"),
    [
        (None, None, "no endpoint"),
        ("BJ!", None, "not a region name"),
        (None, "cce.bj.baidubce.com", "http:// or https://"),
        (None, "ftp://host", "http:// or https://"),
        (None, "http://host:99999", "invalid port"),
        (None, "http://host/prefix", "without a path"),
        (None, "http://user:pw@host", "without a path"),
    ],
)
def test_bad_endpoints_are_usage_errors(
    region: str | None, endpoint: str | None, needle: str
) -> None:
    with pytest.raises(UsageError, match=needle):
        endpoint_for(region, endpoint)
