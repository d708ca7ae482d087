"""Where a saved plan says its state lives: never a password, everything else as written."""

from __future__ import annotations

import pytest

from reconciler.state.location import StateLocation


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("postgresql://ci:pw@db:5432/infra", "postgresql://ci@db:5432/infra"),
        (
            "postgresql://ci:p%40w@db/infra?sslmode=require",
            "postgresql://ci@db/infra?sslmode=require",
        ),
        (
            "postgres://ci@db/infra?password=pw&sslmode=require",
            "postgres://ci@db/infra?sslmode=require",
        ),
        ("postgresql://db/infra", "postgresql://db/infra"),
    ],
)
def test_the_recorded_url_has_no_password(url: str, public: str) -> None:
    location = StateLocation.postgres(url, "prod")
    assert location.url == public
    assert location.password_dropped == (url != public)
    assert StateLocation.from_json(location.to_json()) == location


def test_a_file_is_kept_relative_to_the_root_and_found_again_under_another() -> None:
    saved = StateLocation.file("/a/infra/.reconciler/envs/dev/state.json").relative_to("/a/infra")
    assert saved.to_json() == {"file": ".reconciler/envs/dev/state.json"}
    assert saved.under("/b/infra") == StateLocation.file("/b/infra/.reconciler/envs/dev/state.json")


@pytest.mark.parametrize("data", [None, {}, {"file": 3}, {"postgresql": "postgresql://x/y"}])
def test_a_damaged_location_is_refused(data: object) -> None:
    with pytest.raises(ValueError):
        StateLocation.from_json(data)
