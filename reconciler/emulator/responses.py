"""The emulator's HTTP responses, built the way BCE builds them.

For: the JSON body of a handler's reply (:func:`encode`; ``None`` is an empty body), that
reply with the request id in it where a service's answers carry one (:func:`stamped`), and the
werkzeug ``Response`` around a body: ``Content-Type: application/json; charset=utf-8``,
``x-bce-request-id``, ``Server: BWS`` (:func:`body_response`, :func:`json_response`), and the
error body ``{code, message, requestId}`` with the status and message of
:mod:`reconciler.error_codes` (:func:`error_response`).
Not for: deciding which code answers a request (the services' models and errors).
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from reconciler import error_codes

CONTENT_TYPE = "application/json; charset=utf-8"


def encode(data: Any) -> bytes:
    """``None`` gives an empty body (a 200 with nothing documented)."""
    return b"" if data is None else json.dumps(data, separators=(",", ":")).encode("utf-8")


def stamped(reply: dict[str, Any] | None, key: str, request_id: str) -> dict[str, Any]:
    """The reply as an object carrying the request id under ``key`` (an empty reply too)."""
    return {**(reply or {}), key: request_id}


def body_response(body: bytes, request_id: str, status: int = 200) -> Response:
    headers = {"x-bce-request-id": request_id, "Server": "BWS"}
    return Response(body, status=status, headers=headers, content_type=CONTENT_TYPE)


def json_response(data: Any, request_id: str, status: int = 200) -> Response:
    return body_response(encode(data), request_id, status)


def error_response(code: str, request_id: str, message: str | None = None) -> Response:
    entry = error_codes.get(code)
    body = {"code": entry.code, "message": message or entry.message, "requestId": request_id}
    return json_response(body, request_id, entry.status)
