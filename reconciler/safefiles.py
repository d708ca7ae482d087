"""Reading and writing the tool's own files (state, journal, lock, saved plans, exports,
kubeconfigs) without ever following a symbolic link or truncating a file the tool did not make.

For: ``read_file`` (``O_NOFOLLOW``), ``replace_file`` (a new file created exclusively beside the
target, never through a link, fsynced, then renamed over it: no existing file is opened for
writing, so none is truncated; a link at the target is refused, not replaced) and
``open_own_file`` (a file the tool keeps open and rewrites in place, the lock: a link, anything
but a regular file, or a file with other hard links is refused before a byte is written).
Not for: what the files hold, or turning errors into the caller's messages (``OSError`` comes
out; a refused link is an ``OSError`` whose ``strerror`` says so).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

LINK_REFUSED = "is a symbolic link; refusing to follow it"
NOT_OWN = "is not a plain file of this tool (a link to another file?); refusing to write it"


class LinkRefused(OSError):
    """A path the tool would read or write through a symbolic link (or another file's link)."""

    def __init__(self, path: str | os.PathLike[str], why: str = LINK_REFUSED) -> None:
        super().__init__(errno.ELOOP, why, str(path))


def _no_follow(path: str | os.PathLike[str], exc: OSError) -> OSError:
    """ELOOP from ``O_NOFOLLOW`` means the last component is a link: say so."""
    return LinkRefused(path) if exc.errno == errno.ELOOP else exc


def read_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of ``path``; a symbolic link is refused (``LinkRefused``)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise _no_follow(path, exc) from None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def random_suffix() -> str:
    """12 random hex digits, for a temporary file's name."""
    return os.urandom(6).hex()


def _no_fence() -> None:
    return None


def replace_file(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    mode: int = 0o644,
    fence: Callable[[], None] = _no_fence,
) -> None:
    """Replace ``path`` by ``data`` atomically (or raise ``OSError`` and leave it as it was).
    ``fence`` runs once the new content is on disk, right before the rename, and may refuse
    it by raising. A symbolic link at ``path`` is refused, never written through or replaced."""
    target = Path(path)
    if target.is_symlink():
        raise LinkRefused(target)
    tmp = target.with_name(f".{target.name}.{random_suffix()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ELOOP) and tmp.is_symlink():
            raise LinkRefused(tmp, f"its temporary file {tmp.name} {LINK_REFUSED}") from None
        raise
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        fence()
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # could not create it either (read-only, no permission)


def open_own_file(path: str | os.PathLike[str], flags: int, mode: int = 0o644) -> int:
    """A descriptor on ``path`` (created if ``flags`` says so) that is safe to rewrite in
    place: not reached through a symbolic link, a regular file, and the only name of its
    data. Anything else is refused (``LinkRefused``) before a byte is written."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW, mode)
    except OSError as exc:
        raise _no_follow(path, exc) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise LinkRefused(path, NOT_OWN)
    return fd
