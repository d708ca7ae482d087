"""A test-side handle on a running emulator, over its admin endpoints.

For: the shared pytest fixture (tests/conftest.py) and any suite that drives an emulator:
``reset()``, ``requests_log()``, ``mutating_requests()``, ``state()``, ``set_faults(**kw)``,
``advance(seconds)``, plus ``url`` and the credentials to sign with.
Not for: API calls (use ``reconciler.client`` or tests/emulator/signed.py).
"""

from __future__ import annotations

from typing import Any

import requests

from .server import RunningEmulator


class EmulatorHandle:
    def __init__(self, running: RunningEmulator) -> None:
        self.running = running
        self.url = running.url
        self.access_key_id = running.access_key_id
        self.secret_access_key = running.secret_access_key
        self._session = requests.Session()

    def admin(self, method: str, name: str, **kwargs: Any) -> Any:
        """Call ``/__emulator/<name>``; raise on an error answer."""
        response = self._session.request(
            method, f"{self.url}/__emulator/{name}", timeout=30, **kwargs
        )
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.admin("POST", "reset")

    def requests_log(self, since: int = 0) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.admin("GET", "requests", params={"since": since})[
            "requests"
        ]
        return entries

    def next_index(self) -> int:
        """The index the next logged request will get (for ``requests_log(since=...)``)."""
        return int(self.admin("GET", "requests", params={"since": 1 << 62})["next"])

    def mutating_requests(self, since: int = 0) -> list[dict[str, Any]]:
        return [entry for entry in self.requests_log(since) if entry["mutating"]]

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.admin("GET", "state")
        return state

    def faults(self) -> dict[str, Any]:
        current: dict[str, Any] = self.admin("GET", "faults")
        return current

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Change knobs (fault_rate=0.2, seed=7, fail_next=["drop"], cluster_create_seconds=30 ...)."""
        current: dict[str, Any] = self.admin("POST", "faults", json=settings)
        return current

    def advance(self, seconds: float) -> None:
        self.admin("POST", "advance", json={"seconds": seconds})

    def close(self) -> None:
        self._session.close()

    def __repr__(self) -> str:
        return f"EmulatorHandle({self.url})"
