"""bce-auth-v1: sign a request (client) and verify one (emulator).

This module is pure: no HTTP, no clock of its own (callers pass the time), no logging of
secrets. It is one of the two modules the emulator may import from the rest of the package
(the other is ``reconciler.error_codes``), so it must stay free of other package imports.

Algorithm (cce-v1-api.md section 3)::

    authStringPrefix = "bce-auth-v1/{ak}/{timestamp}/{expiration}"
    signingKey       = hex(HMAC-SHA256(SK, authStringPrefix))
    signature        = hex(HMAC-SHA256(signingKey-as-ascii, CanonicalRequest))
    CanonicalRequest = METHOD \\n CanonicalURI \\n CanonicalQuery \\n CanonicalHeaders
    Authorization    = authStringPrefix/{signedHeaders}/{signature}

Paths given to :func:`sign` and :func:`verify` are *decoded* paths (``/v1/image/测试``); the
canonical form encodes them, and the client sends exactly :func:`canonical_uri` on the wire.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

log = logging.getLogger(__name__)

AUTH_VERSION = "bce-auth-v1"
DEFAULT_EXPIRATION = 1800
# Headers signed when signedHeaders is empty, besides every x-bce-* header.
DEFAULT_SIGNED = frozenset({"host", "content-length", "content-type", "content-md5"})
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# ASCII whitespace only, as the official Python SDK trims (bytes.strip): str.strip() would also
# drop U+00A0, U+3000 ... and sign a different value than the SDK for such header values.
_TRIMMED = " \t\n\r\x0b\x0c"

Query = Iterable[tuple[str, str | None]] | Mapping[str, str | None]


@lru_cache(maxsize=4096)
def uri_encode(text: str, keep_slash: bool = False) -> str:
    """RFC 3986 percent-encoding of the UTF-8 bytes with upper-case hex; ``/`` kept only when
    asked. ``urllib.parse.quote`` keeps exactly the unreserved characters (letters, digits,
    ``-._~``) plus ``safe``. Remembered: a request signs about ten values, most of them the
    same from request to request (header names, the host, the content type, query keys), and
    ``quote`` encodes a text that needs escaping byte by byte in Python."""
    return quote(text, safe="/" if keep_slash else "")


def canonical_uri(path: str) -> str:
    if not path.startswith("/"):
        path = "/" + path
    return uri_encode(path, keep_slash=True)


def _pairs(query: Query | None) -> list[tuple[str, str | None]]:
    if query is None:
        return []
    if isinstance(query, Mapping):
        return list(query.items())
    return list(query)


def canonical_query(query: Query | None) -> str:
    """Encoded ``k=v`` strings, ``authorization`` left out, sorted as encoded strings."""
    encoded = [
        f"{uri_encode(key)}={uri_encode('' if value is None else str(value))}"
        for key, value in _pairs(query)
        if key.lower() != "authorization"
    ]
    return "&".join(sorted(encoded))


def _normalised_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name.strip(_TRIMMED).lower(): str(value).strip(_TRIMMED) for name, value in headers.items()
    }


def default_signed_headers(headers: Mapping[str, str]) -> list[str]:
    """The header names signed when signedHeaders is left empty."""
    names = _normalised_headers(headers)
    return sorted(
        n for n, v in names.items() if v and (n in DEFAULT_SIGNED or n.startswith("x-bce-"))
    )


def canonical_headers(headers: Mapping[str, str], signed: Iterable[str] | None) -> str:
    """Canonical header lines; ``signed=None`` (or empty) means the default set."""
    names = _normalised_headers(headers)
    chosen = {n.lower() for n in signed} if signed else set(default_signed_headers(headers))
    lines = [
        f"{uri_encode(name)}:{uri_encode(names[name])}" for name in chosen if names.get(name, "")
    ]
    return "\n".join(sorted(lines))


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def _hmac_hex(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def canonical_request(
    method: str,
    path: str,
    query: Query | None,
    headers: Mapping[str, str],
    signed: Iterable[str] | None,
) -> str:
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            canonical_headers(headers, signed),
        ]
    )


def signature(secret_access_key: str, prefix: str, request: str) -> str:
    signing_key = _hmac_hex(secret_access_key.encode("utf-8"), prefix)
    return _hmac_hex(signing_key.encode("ascii"), request)


def sign(
    access_key_id: str,
    secret_access_key: str,
    method: str,
    path: str,
    query: Query | None,
    headers: Mapping[str, str],
    timestamp: datetime,
    expiration: int = DEFAULT_EXPIRATION,
    signed_headers: Iterable[str] | None = None,
) -> str:
    """Return the Authorization header value. ``signed_headers=None`` leaves the list empty."""
    listed = sorted(h.lower() for h in signed_headers) if signed_headers else []
    prefix = f"{AUTH_VERSION}/{access_key_id}/{format_timestamp(timestamp)}/{expiration}"
    request = canonical_request(method, path, query, headers, listed or None)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("canonical request:\n%s", _redacted(request))
    return f"{prefix}/{';'.join(listed)}/{signature(secret_access_key, prefix, request)}"


def _redacted(request: str) -> str:
    """The canonical request for a log: a session token is a credential, so it is masked."""
    return "\n".join(
        "x-bce-security-token:***" if line.startswith("x-bce-security-token:") else line
        for line in request.split("\n")
    )


@dataclass(frozen=True)
class AuthString:
    access_key_id: str
    timestamp: datetime
    expiration: int
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def prefix(self) -> str:
        return f"{AUTH_VERSION}/{self.access_key_id}/{format_timestamp(self.timestamp)}/{self.expiration}"


class VerificationError(Exception):
    """A request failed authentication; ``code`` is a BCE global error code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_authorization(value: str | None) -> AuthString:
    parts = (value or "").strip().split("/")
    if len(parts) != 6 or parts[0] != AUTH_VERSION or not parts[1]:
        raise VerificationError(
            "InvalidHTTPAuthHeader", "authorization header is not bce-auth-v1/ak/ts/exp/headers/sig"
        )
    try:
        timestamp = parse_timestamp(parts[2])
        expiration = int(parts[3])
    except ValueError as exc:
        raise VerificationError(
            "InvalidHTTPAuthHeader", f"bad timestamp or expiration: {exc}"
        ) from None
    if expiration <= 0 or len(parts[5]) != 64:
        raise VerificationError("InvalidHTTPAuthHeader", "bad expiration or signature length")
    signed = tuple(h for h in parts[4].split(";") if h)
    return AuthString(parts[1], timestamp, expiration, signed, parts[5].lower())


def verify(
    authorization: str | None,
    method: str,
    path: str,
    query: Query | None,
    headers: Mapping[str, str],
    secret_for: Callable[[str], str | None],
    now: datetime,
    clock_skew: timedelta = timedelta(minutes=15),
) -> str:
    """Check a request's signature; return the access key id or raise VerificationError.

    Besides the strict reading (exactly the listed headers), a signature computed the way the
    official Python SDK does it (listed headers plus every x-bce-* header) is accepted.
    """
    auth = parse_authorization(authorization)
    secret = secret_for(auth.access_key_id)
    if secret is None:
        raise VerificationError("InvalidAccessKeyId", f"unknown access key {auth.access_key_id}")
    if (
        now > auth.timestamp + timedelta(seconds=auth.expiration)
        or auth.timestamp > now + clock_skew
    ):
        raise VerificationError(
            "RequestExpired", f"timestamp {format_timestamp(auth.timestamp)} is out of range"
        )
    candidates: list[list[str] | None] = [list(auth.signed_headers) or None]
    if auth.signed_headers:
        bce = [n for n in default_signed_headers(headers) if n.startswith("x-bce-")]
        candidates.append(sorted(set(auth.signed_headers) | set(bce)))
    for signed in candidates:
        expected = signature(
            secret, auth.prefix, canonical_request(method, path, query, headers, signed)
        )
        if hmac.compare_digest(expected, auth.signature):
            return auth.access_key_id
    raise VerificationError("SignatureDoesNotMatch", "signature does not match")
