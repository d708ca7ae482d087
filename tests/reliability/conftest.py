"""The end-to-end workspace fixture (a config dir pointed at the session emulator), shared, and
the v2 nodes' admin password the scenario's instance groups read (``NODE_ADMIN_PASSWORD``)."""

import pytest

from tests.e2e.conftest import Workspace, ws

from .scenario import NODE_PASSWORD

__all__ = ["Workspace", "ws"]


@pytest.fixture(autouse=True)
def _node_admin_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set for every test here, so in-process runs and spawned ones (which inherit os.environ)
    resolve ``{env: NODE_ADMIN_PASSWORD}`` alike."""
    monkeypatch.setenv("NODE_ADMIN_PASSWORD", NODE_PASSWORD)
