"""How a value is put into the words of a message: quoted, described, listed.

For: the small helpers every message uses, in the configuration's diagnostics and in the kinds'
checks across entries alike (``show``, ``describe``, ``either``, ``dotted``). A leaf module: it
imports nothing from the package.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def dotted(jpath: Sequence[str | int]) -> str:
    """``workers.count``, ``tags[2]``: a path into a document."""
    text = ""
    for part in jpath:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def show(value: Any) -> str:
    """A value as a message quotes it: a string in quotes (cut at 70 characters), a list or a
    mapping by what it is."""
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 70 else value[:67] + "...", ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "a mapping"
    return str(value)


def describe(value: Any) -> str:
    """``a string "x"``, ``a number 3``: a value with its type, for "must be ..., got ..."."""
    if isinstance(value, str):
        return f"a string {show(value)}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"a number {show(value)}"
    return show(value)


def either(options: Sequence[str]) -> str:
    """``a, b or c``."""
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"
