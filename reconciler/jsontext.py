"""JSON text of large documents (the state, saved plans), fast and still readable.

For: :func:`dumps`, which indents a document's first levels and writes each value below them
on one line. Python's ``json`` uses its C encoder only without ``indent``; an indented
100,000-entry state took seconds in the pure-Python one. Here the C encoder writes every entry,
so a state reads one resource per line (which also keeps a diff of two states to the
resources that changed), and the text is the same JSON value as ``json.dumps`` would give.
Not for: small outputs meant for people (``plan --json`` keeps ``json.dumps(indent=2)``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _json_encoder
from typing import Any

_SORTED = json.JSONEncoder(sort_keys=True, separators=(", ", ": "))
_IN_ORDER = json.JSONEncoder(sort_keys=False, separators=(", ", ": "))


def _one_value(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """``encoder.encode``, without building a new C encoder at every call (``encode`` does,
    and a state encodes each of its entries by itself). The documents written here hold no
    cycles, so the check for them is left out."""
    make = getattr(_json_encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator
        return encoder.encode
    c_encoder = make(
        None,
        encoder.default,
        _json_encoder.encode_basestring_ascii,
        None,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    return lambda value: "".join(c_encoder(value, 0))


_ENCODE = {True: _one_value(_SORTED), False: _one_value(_IN_ORDER)}


class Lines(dict[str, str]):
    """An object whose members are written already, each as the line :func:`member_line`
    makes: :func:`dumps` joins them in key order and encodes nothing again (a state of
    100,000 entries rewritten for one). Only where :func:`dumps` writes each member compactly
    on its line: one level above ``levels``."""


def member_line(
    key: str, value: Any, depth: int, sort_keys: bool = True, indent: str = "  "
) -> str:
    """The line :func:`dumps` writes for the member ``key: value`` of an object ``depth``
    levels deep, when ``value`` is written compactly (without the comma that may follow)."""
    key_text = _json_encoder.encode_basestring_ascii(key)
    return f"{indent * depth}{key_text}: {_ENCODE[sort_keys](value)}"


def dumps(value: Any, levels: int = 2, sort_keys: bool = True, indent: str = "  ") -> str:
    """``value`` as JSON: objects and lists down to ``levels`` deep one member per line,
    indented; whatever lies deeper on the line of its key, compact. Keys sorted unless
    ``sort_keys`` is false (then in the order of the mappings)."""
    parts: list[str] = []
    _write(value, levels, sort_keys, indent, "", parts)
    return "".join(parts)


def _write(
    value: Any, levels: int, sort_keys: bool, indent: str, here: str, out: list[str]
) -> None:
    if type(value) is Lines and value:
        ordered = sorted(value) if sort_keys else value
        out.append("{\n" + ",\n".join([value[key] for key in ordered]) + f"\n{here}}}")
        return
    if (
        levels <= 0
        or not isinstance(value, dict | list | tuple)
        or not value
        or (isinstance(value, dict) and not all(type(key) is str for key in value))
    ):
        out.append(_ENCODE[sort_keys](value))
        return
    inner = here + indent
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else list(value.items())
        key_text = _json_encoder.encode_basestring_ascii
        out.append("{")
        for number, (key, member) in enumerate(items):
            out.append(",\n" if number else "\n")
            out.append(f"{inner}{key_text(key)}: ")
            _write(member, levels - 1, sort_keys, indent, inner, out)
        out.append(f"\n{here}}}")
        return
    out.append("[")
    for number, member in enumerate(value):
        out.append(",\n" if number else "\n")
        out.append(inner)
        _write(member, levels - 1, sort_keys, indent, inner, out)
    out.append(f"\n{here}]")
