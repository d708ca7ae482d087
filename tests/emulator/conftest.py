"""Fixtures of the emulator tests: signed callers (CCE, CCR Enterprise), and a registry user
when a test needs one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.emulator.testing import EmulatorHandle

from .helpers import Api
from .test_ccr_sdk_shapes import Ccr


@pytest.fixture
def api(emulator: EmulatorHandle) -> Iterator[Api]:
    caller = Api(emulator)
    yield caller
    caller.session.close()


@pytest.fixture
def user(api: Api) -> str:
    api.create_user()
    return "ccetest"


@pytest.fixture
def ccr(emulator: EmulatorHandle) -> Iterator[Ccr]:
    """Signed CCR Enterprise calls in the Go SDK's style."""
    caller = Ccr(emulator)
    yield caller
    caller.session.close()
