"""Glue between a WSGI request and :func:`reconciler.client.signer.verify`.

For: checking ``bce-auth-v1`` on every API request with the decoded path, the query pairs and
the headers exactly as received, against real time (never the model clock), and the message of
an expired signature, which names the request's timestamp as the seed's template implies
("Request has expired. Timestamp date is <x-bce-date>.").
Not for: the algorithm itself, which lives in the signer and is shared with the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from werkzeug.wrappers import Request

from reconciler import error_codes
from reconciler.client import signer

from .errors import ErrorAnswer

EXPIRED = "RequestExpired"


# An authentication error: an ErrorAnswer whose message may fill the table's template.
AuthFailure = ErrorAnswer


def expired_message(timestamp: datetime) -> str:
    """The seed's ``Request has expired. Timestamp date is .`` with the timestamp filled in."""
    template = error_codes.get(EXPIRED).message
    return f"{template.removesuffix('.')}{signer.format_timestamp(timestamp)}."


def authenticate(request: Request, credentials: Mapping[str, str]) -> str:
    """The access key id of a correctly signed request; else ``AuthFailure`` with the code."""
    authorization = request.headers.get("Authorization")
    try:
        return signer.verify(
            authorization,
            request.method,
            request.path,
            list(request.args.items(multi=True)),
            dict(request.headers.items()),
            credentials.get,
            datetime.now(UTC),
        )
    except signer.VerificationError as exc:
        message = None
        if exc.code == EXPIRED:  # the header parsed, or the timestamp could not be judged
            message = expired_message(signer.parse_authorization(authorization).timestamp)
        raise AuthFailure(exc.code, exc.detail, message) from None
