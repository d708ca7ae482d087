"""Where a state lives, as a saved plan records it: a file, or a PostgreSQL URL and workspace.

For: ``plan --out`` writing down the state it was made against, so that ``apply --plan`` uses
exactly that state and refuses a ``--state`` / ``RECONCILER_STATE`` / ``--workspace`` naming
another. A file is kept relative to the configuration root (any checkout of the same commit
finds it again); a PostgreSQL URL is kept **without its password** (apply reads it from
``PGPASSWORD`` / ``~/.pgpass``, or from a ``--state`` URL that is the same but for it).
Not for: opening or reading a state (``reconciler.state.local`` / ``reconciler.state.postgres``)
or choosing one from the command line (``reconciler.session.open_store``).
"""

from __future__ import annotations

import os
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from reconciler.records import frozen_record


def url_without_password(url: str) -> str:
    """``url`` with its password removed, from the user part and from a ``password=`` query
    option; everything else (user, host, port, database, ``sslmode``...) kept as written."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("@")[-1]  # unparseable: keep no user part at all
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}@{hostport}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(name == "password" for name, _ in pairs):
        query = urlencode([(n, v) for n, v in pairs if n != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@frozen_record
class StateLocation:
    """A state file (``path``) or a PostgreSQL workspace (``url`` without password, and
    ``workspace``). ``path`` is absolute, except in a saved plan, where it is relative to the
    configuration root (``relative_to`` / ``under``)."""

    path: str | None = None
    url: str | None = None
    workspace: str = "default"
    password_dropped: bool = field(default=False, compare=False)  # the URL given had one

    @classmethod
    def file(cls, path: str | os.PathLike[str]) -> StateLocation:
        return cls(path=str(Path(path).resolve()))

    @classmethod
    def postgres(cls, url: str, workspace: str) -> StateLocation:
        public = url_without_password(url)
        return cls(url=public, workspace=workspace, password_dropped=public != url)

    def describe(self) -> str:
        if self.url is not None:
            return f"{self.url} (workspace {self.workspace})"
        return str(self.path)

    def relative_to(self, root: str) -> StateLocation:
        """The location as a saved plan keeps it: a file relative to ``root``."""
        if self.path is None:
            return self
        return StateLocation(path=os.path.relpath(self.path, Path(root).resolve()))

    def under(self, root: str) -> StateLocation:
        """The location a saved plan names, with a file found again under ``root``."""
        if self.path is None:
            return self
        return StateLocation.file(Path(root).resolve() / self.path)

    def to_json(self) -> dict[str, Any]:
        if self.url is not None:
            return {"postgresql": self.url, "workspace": self.workspace}
        return {"file": self.path}

    @classmethod
    def from_json(cls, data: Any) -> StateLocation:
        if isinstance(data, dict) and isinstance(data.get("file"), str):
            return cls(path=data["file"])
        if (
            isinstance(data, dict)
            and isinstance(data.get("postgresql"), str)
            and isinstance(data.get("workspace"), str)
        ):
            return cls(url=data["postgresql"], workspace=data["workspace"])
        raise ValueError(f"state location {data!r} is neither a file nor a PostgreSQL workspace")
