"""The end-to-end workspace fixture (a config dir pointed at the session emulator), shared."""

from tests.e2e.conftest import Workspace, ws

__all__ = ["Workspace", "ws"]
