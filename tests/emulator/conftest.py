"""Fixtures of the emulator tests: a signed caller, and a registry user when a test needs one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api


@pytest.fixture
def api(emulator: EmulatorHandle) -> Iterator[Api]:
    caller = Api(emulator)
    yield caller
    caller.session.close()


@pytest.fixture
def user(api: Api) -> str:
    api.create_user()
    return "ccetest"
