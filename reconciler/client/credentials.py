"""Where the client gets its access keys and its endpoint from.

For: reading ``BCE_ACCESS_KEY_ID`` / ``BCE_SECRET_ACCESS_KEY`` / ``BCE_SESSION_TOKEN`` and turning
a region or URL into the endpoints the transports talk to (CCE, and CCR Enterprise beside it). Not for: signing (``signer``) or the
embedded ``local`` emulator endpoint, which the command line resolves before calling here.

Secrets never leave this object in text form: ``repr`` and ``str`` hide them, so a credentials
object can be logged or put in an error message safely.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import field
from urllib.parse import urlsplit

from reconciler.endpoints import endpoint_problem
from reconciler.errors import UsageError
from reconciler.records import frozen_record

ENV_ACCESS_KEY_ID = "BCE_ACCESS_KEY_ID"
ENV_SECRET_ACCESS_KEY = "BCE_SECRET_ACCESS_KEY"
ENV_SESSION_TOKEN = "BCE_SESSION_TOKEN"

_REGION = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_CCE_HOST = re.compile(r"^cce\.([a-z][a-z0-9-]{0,30})\.baidubce\.com$")


@frozen_record
class Credentials:
    """An access key pair (and a session token for temporary ones); secrets never shown."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.access_key_id or not self.secret_access_key:
            raise UsageError("credentials need both an access key id and a secret access key")

    def __repr__(self) -> str:
        token = "set" if self.session_token else "none"
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, "
            f"secret_access_key='***', session_token={token})"
        )

    __str__ = __repr__

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Credentials from ``BCE_ACCESS_KEY_ID`` / ``BCE_SECRET_ACCESS_KEY`` (required) and
        ``BCE_SESSION_TOKEN`` (optional, sent as ``x-bce-security-token``)."""
        env = os.environ if environ is None else environ
        missing = [
            n for n in (ENV_ACCESS_KEY_ID, ENV_SECRET_ACCESS_KEY) if not env.get(n, "").strip()
        ]
        if missing:
            raise UsageError(
                f"no BCE credentials: set {' and '.join(missing)} in the environment "
                "(an access key pair from the Baidu AI Cloud console, or the emulator's keys)"
            )
        token = env.get(ENV_SESSION_TOKEN, "").strip() or None
        return cls(env[ENV_ACCESS_KEY_ID].strip(), env[ENV_SECRET_ACCESS_KEY].strip(), token)


def endpoint_for(region: str | None = None, endpoint: str | None = None) -> str:
    """``https://cce.<region>.baidubce.com``, or the given URL checked and without a trailing
    slash; ``endpoint`` wins when both are given."""
    if endpoint:
        return _checked_url(endpoint)
    if region:
        if not _REGION.match(region):
            raise UsageError(f"region {region!r} is not a region name such as bj, gz, su or hkg")
        return f"https://cce.{region}.baidubce.com"
    raise UsageError("no endpoint: set target.region (e.g. bj) or target.endpoint (a URL)")


def ccr_endpoint_for(cce_endpoint: str, ccr_endpoint: str | None = None) -> str:
    """The CCR Enterprise endpoint that goes with a CCE one: ``ccr_endpoint`` when given, else
    ``https://ccr.<region>.baidubce.com`` beside ``https://cce.<region>.baidubce.com``, else the
    CCE endpoint itself (an emulator serves both APIs on one port)."""
    if ccr_endpoint:
        return _checked_url(ccr_endpoint)
    parts = urlsplit(cce_endpoint)
    host = parts.hostname or ""
    match = _CCE_HOST.match(host)
    if match is None:
        return cce_endpoint.rstrip("/")
    netloc = f"ccr.{match.group(1)}.baidubce.com" + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{netloc}"


def _checked_url(url: str) -> str:
    problem = endpoint_problem(url)
    if problem:
        raise UsageError(problem)
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}"
