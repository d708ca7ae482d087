"""What makes an endpoint URL usable: data rules with no imports from the package, shared by
the configuration checks (at validate time, with ``file:line:col``) and the client (before the
first request), so that the two never disagree.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def endpoint_problem(url: str) -> str | None:
    """What is wrong with an endpoint URL, or None."""
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return f"endpoint {url!r} has an invalid port"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"endpoint {url!r} is not an http:// or https:// URL with a host"
    # Requests are signed over the path, so a base path would have to be signed too; the API
    # lives at the root of its host.
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return f"endpoint {url!r} must be scheme://host[:port] without a path"
    return None
