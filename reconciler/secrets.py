"""Resolve a secret reference (``{env: NAME}`` or ``{file: PATH}``) to its value.

For: the one place a secret's value is read, when it is needed (apply, ``validate
--check-secrets``). Messages name the reference (variable or file), never the value.
Not for: deciding where secrets may appear in the config (``reconciler.config``) or storing
them (the state keeps a salted hash only).
"""

from __future__ import annotations

import os

from reconciler.errors import SecretError
from reconciler.model import SecretRef

MAX_SECRET_BYTES = 64 * 1024


def resolve_secret(ref: SecretRef, secrets_base: str) -> str:
    """The secret's value; raise :class:`SecretError` when it is unset, unreadable or empty."""
    if ref.env is not None:
        return _from_env(ref.env)
    if ref.file is not None:
        return _from_file(ref.file, secrets_base)
    raise SecretError("a secret reference needs env or file")


def _from_env(name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise SecretError(f"environment variable {name} is not set")
    if value == "":
        raise SecretError(f"environment variable {name} is empty")
    return value


def _from_file(name: str, secrets_base: str) -> str:
    path = os.path.join(secrets_base, os.path.expanduser(name))
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise SecretError(f'cannot read secret file "{name}": {exc.strerror or exc}') from None
    if len(raw) > MAX_SECRET_BYTES:
        raise SecretError(f'secret file "{name}" is larger than {MAX_SECRET_BYTES} bytes')
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(f'secret file "{name}" is not valid UTF-8') from None
    value = _strip_one_newline(text)
    if value == "":
        raise SecretError(f'secret file "{name}" is empty')
    return value


def _strip_one_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")
