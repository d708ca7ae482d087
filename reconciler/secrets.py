"""Resolve a secret reference (``{env: NAME}`` or ``{file: PATH}``) to its value, and hand
out a secret the API shows once (a robot account's).

For: the one place a secret's value is read, when it is needed (apply, ``validate
--check-secrets``), and the one place one is written (:func:`write_secret_file`: mode 0600 from
its first byte, replaced atomically). Messages name the reference (variable or file), never
the value.
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


def write_secret_file(path: str, value: str) -> None:
    """Write ``value`` (and a newline) to ``path``, readable by its owner only: a temporary
    file created with mode 0600 in the same folder, synced, then renamed over ``path``, so a
    reader sees the old secret or the new one, never a part, and never a wider mode."""
    import tempfile  # when a secret is written: a plan reads secrets, never writes one

    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".secret-", suffix=".tmp")
    except OSError as exc:
        raise SecretError(f"cannot write the secret file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp's mode is 0600
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as exc:
        os.unlink(temporary)
        raise SecretError(f"cannot write the secret file {path}: {exc.strerror}") from None
