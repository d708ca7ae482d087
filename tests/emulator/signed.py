"""Signed requests for the emulator's own tests, independent of the typed client.

For: sending exactly what a test wants (odd bodies, tampered signatures, other versions)
signed with :func:`reconciler.client.signer.sign`, over ``requests``. Not for: production
code, which uses ``reconciler.client``.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from reconciler.client import signer

CONTENT_TYPE = "application/json; charset=utf-8"
_SESSION = requests.Session()

Query = Mapping[str, str | None] | Sequence[tuple[str, str | None]]


def _pairs(query: Query | None) -> list[tuple[str, str | None]]:
    if query is None:
        return []
    return list(query.items()) if isinstance(query, Mapping) else list(query)


def query_string(query: Query | None) -> str:
    """``k=v`` with the signer's encoding; a ``None`` value gives a bare ``k`` (``?scalingUp``)."""
    parts = []
    for key, value in _pairs(query):
        encoded = signer.uri_encode(key)
        parts.append(encoded if value is None else f"{encoded}={signer.uri_encode(value)}")
    return "&".join(parts)


def signed_request(
    base_url: str,
    access_key_id: str,
    secret_access_key: str,
    method: str,
    path: str,
    query: Query | None = None,
    json: Any = None,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timestamp: datetime | None = None,
    signed_headers: Sequence[str] | None = ("host", "x-bce-date"),
    session: requests.Session | None = None,
    timeout: float = 10.0,
) -> requests.Response:
    """Sign (decoded ``path``) and send; ``json`` is serialised unless ``data`` is given."""
    moment = timestamp or datetime.now(UTC)
    body = data if data is not None else (b"" if json is None else jsonlib.dumps(json).encode())
    all_headers = {
        "Host": urlsplit(base_url).netloc,
        "x-bce-date": signer.format_timestamp(moment),
        **({"Content-Type": CONTENT_TYPE, "Content-Length": str(len(body))} if body else {}),
        **(headers or {}),
    }
    all_headers["Authorization"] = signer.sign(
        access_key_id, secret_access_key, method, path,
        [(k, "" if v is None else v) for k, v in _pairs(query)],
        all_headers, moment, signed_headers=signed_headers,
    )  # fmt: skip
    url = base_url + signer.canonical_uri(path)
    if query:
        url += "?" + query_string(query)
    return (session or _SESSION).request(
        method, url, data=body or None, headers=all_headers, timeout=timeout
    )
