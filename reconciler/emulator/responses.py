"""Building the emulator's HTTP answers the way BCE does.

For: ``Content-Type: application/json; charset=utf-8``, ``x-bce-request-id`` equal to the
body's ``requestId``, ``Server: BWS``, and error bodies ``{code, message, requestId}`` whose
status and message come from :mod:`reconciler.error_codes`. Not for: deciding which code.
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


def body_response(body: bytes, request_id: str, status: int = 200) -> Response:
    headers = {"x-bce-request-id": request_id, "Server": "BWS"}
    return Response(body, status=status, headers=headers, content_type=CONTENT_TYPE)


def json_response(data: Any, request_id: str, status: int = 200) -> Response:
    return body_response(encode(data), request_id, status)


def error_response(code: str, request_id: str, message: str | None = None) -> Response:
    entry = error_codes.get(code)
    body = {"code": entry.code, "message": message or entry.message, "requestId": request_id}
    return json_response(body, request_id, entry.status)
