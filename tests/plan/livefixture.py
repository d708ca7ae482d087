"""Build LiveState and State values from the JSON of a plan fixture folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.kinds import names as kind_names
from reconciler.kinds.base import LiveObject
from reconciler.model import Address
from reconciler.plan import LiveState
from reconciler.state import State


def live_from(items: list[dict[str, Any]]) -> LiveState:
    by_id: dict[tuple[str, str], LiveObject] = {}
    by_name: dict[Address, list[LiveObject]] = {}
    for item in items:
        address = Address.parse(item["address"], kind_names())
        obj = LiveObject(
            address,
            item["cloud_id"],
            item["attrs"],
            item.get("status", ""),
            item.get("details", {}),
        )
        by_id[(address.kind, obj.cloud_id)] = obj
        by_name.setdefault(address, []).append(obj)
    return LiveState(by_id, {a: tuple(v) for a, v in by_name.items()})


def state_from(path: Path) -> State:
    if not path.exists():
        return State(lineage="fixture")
    return State.from_json(json.loads(path.read_text()), str(path), kind_names())
