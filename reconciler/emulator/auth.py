"""Glue between a WSGI request and :func:`reconciler.client.signer.verify`.

For: checking ``bce-auth-v1`` on every API request with the decoded path, the query pairs and
the headers exactly as received, against real time (never the model clock).
Not for: the algorithm itself, which lives in the signer and is shared with the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from werkzeug.wrappers import Request

from reconciler.client import signer

from .apierror import ApiError


def authenticate(request: Request, credentials: Mapping[str, str]) -> str:
    """The access key id of a correctly signed request; else ``ApiError`` with the auth code."""
    try:
        return signer.verify(
            request.headers.get("Authorization"),
            request.method,
            request.path,
            list(request.args.items(multi=True)),
            dict(request.headers.items()),
            credentials.get,
            datetime.now(UTC),
        )
    except signer.VerificationError as exc:
        raise ApiError(exc.code, exc.detail) from None
