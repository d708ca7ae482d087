"""The image registry model: the account's one user, its namespaces, repositories and tags.

For: the rules of the (partly provisional) image API in docs/api-contract.md, as plain Python
over SQLite: each call validates its input, runs in one transaction and raises ``ErrorAnswer``
with the code the contract names (:mod:`.errors`). Values arrive already type-checked
(``str | None`` ...); ``None`` means "absent". Nothing here changes with the clock.
Not for: the wire (field names, JSON, paging fields): see :mod:`.handlers`.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass

from ..errors import ErrorAnswer
from ..paging import Page, PageRequest, cut
from ..store import Store
from . import errors

SCHEMA = """
CREATE TABLE IF NOT EXISTS registry_user (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    username TEXT NOT NULL,
    password_sha256 TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS namespaces (
    name TEXT PRIMARY KEY,
    public INTEGER NOT NULL,
    owner TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS repositories (
    namespace TEXT NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    PRIMARY KEY (namespace, name)
);
CREATE TABLE IF NOT EXISTS tags (
    namespace TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (namespace, repository, tag),
    FOREIGN KEY (namespace, repository)
        REFERENCES repositories(namespace, name) ON DELETE CASCADE
);
"""

# Name and password formats, from the seed's error messages and the wire contract.
# Cce.UserNameFormatError: 4-30 characters, digits and lower-case letters.
USERNAME = re.compile(r"[a-z0-9]{4,30}")
# Cce.NamespaceRequestFormatError / Cce.ImageRepositoryFormatError: 1-65 of letters, digits
# and "-_/.", starting with a letter.
NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9\-_/.]{0,64}")
REPOSITORY = NAMESPACE
# Cce.ImageTagFormatError: the same characters, starting with a letter or a digit.
TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]{0,64}")
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[0-9]")


def is_password(text: str) -> bool:
    """8-32 characters with at least one letter and one digit (the contract's rule)."""
    return 8 <= len(text) <= 32 and bool(_LETTER.search(text)) and bool(_DIGIT.search(text))


@dataclass(frozen=True)
class User:
    username: str
    created: float
    updated: float
    password_sha256: str


@dataclass(frozen=True)
class Namespace:
    name: str
    public: bool
    owner: str
    created: float


@dataclass(frozen=True)
class Image:
    namespace: str
    repository: str
    description: str
    created: float
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Tag:
    namespace: str
    repository: str
    tag: str
    description: str
    created: float


def _digest(password: str) -> str:
    # A fake cloud: an unsalted digest is enough to compare passwords without keeping them.
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def _image_marker(image: Image) -> str:
    # A space sorts before every character a name may hold, so the marker orders like the tuple.
    return f"{image.namespace} {image.repository}"


_IMAGES_QUERY = """
SELECT r.namespace, r.name, r.description, r.created,
       (SELECT group_concat(tag, ' ') FROM
           (SELECT tag FROM tags t WHERE t.namespace = r.namespace AND t.repository = r.name
            ORDER BY tag)) AS tags
FROM repositories r JOIN namespaces n ON n.name = r.namespace
WHERE n.owner = ? AND (? IS NULL OR r.namespace = ?) AND (r.namespace, r.name) >= (?, ?)
ORDER BY r.namespace, r.name LIMIT ?
"""


def _image(row: sqlite3.Row) -> Image:
    tags = tuple(row["tags"].split(" ")) if row["tags"] else ()
    return Image(row["namespace"], row["name"], row["description"], row["created"], tags)


class Registry:
    def __init__(self, store: Store) -> None:
        self._db = store.db
        self._clock = store.clock
        self._settings = store.settings

    # -- user ------------------------------------------------------------------------------

    def create_user(self, username: str | None, password: str | None, confirm: str | None) -> None:
        _check_user_input(username, password, confirm)
        assert username is not None and password is not None
        now = self._clock.now()
        with self._db.write() as conn:
            existing = _user_row(conn)
            if existing is not None:
                same = existing["username"] == username
                raise ErrorAnswer(errors.USER_EXISTS if same else errors.ANOTHER_USER_EXISTS)
            conn.execute(
                "INSERT INTO registry_user VALUES (1, ?, ?, ?, ?)",
                (username, _digest(password), now, now),
            )

    def get_user(self) -> User:
        with self._db.read() as conn:
            row = _user_row(conn)
        if row is None:
            raise ErrorAnswer(errors.NO_USER)
        return User(row["username"], row["created"], row["updated"], row["password_sha256"])

    def find_user(self) -> User | None:
        try:
            return self.get_user()
        except ErrorAnswer:
            return None

    def update_user(self, username: str | None, password: str | None, confirm: str | None) -> None:
        _check_user_input(username, password, confirm, check_format=False)
        assert password is not None
        with self._db.write() as conn:
            row = _user_row(conn)
            if row is None or row["username"] != username:
                raise ErrorAnswer(errors.NO_USER)
            if row["password_sha256"] == _digest(password):
                raise ErrorAnswer(errors.PASSWORD_UNCHANGED)
            conn.execute(
                "UPDATE registry_user SET password_sha256 = ?, updated = ?",
                (_digest(password), self._clock.now()),
            )

    # -- namespaces ------------------------------------------------------------------------

    def create_namespace(self, name: str | None, public: bool | None, user: str | None) -> None:
        if name is None or public is None or user is None:
            raise ErrorAnswer(errors.LACKS_PARAMETERS)
        if not user or not NAMESPACE.fullmatch(name):
            raise ErrorAnswer(errors.NAMESPACE_FORMAT)
        with self._db.write() as conn:
            _require_user(conn, user)
            if conn.execute("SELECT 1 FROM namespaces WHERE name = ?", (name,)).fetchone():
                raise ErrorAnswer(errors.NAMESPACE_EXISTS)
            (count,) = conn.execute("SELECT count(*) FROM namespaces").fetchone()
            if count >= self._settings.current.namespace_quota:
                raise ErrorAnswer(errors.NAMESPACE_QUOTA)
            conn.execute(
                "INSERT INTO namespaces VALUES (?, ?, ?, ?)",
                (name, int(public), user, self._clock.now()),
            )

    def list_namespaces(self, user: str | None, page: PageRequest) -> Page[Namespace]:
        if not user:
            raise ErrorAnswer(errors.LACKS_PARAMETERS)
        start = "" if page.from_start else page.marker
        with self._db.read() as conn:
            _require_user(conn, user)
            rows = conn.execute(
                "SELECT * FROM namespaces WHERE owner = ? AND name >= ? ORDER BY name LIMIT ?",
                (user, start, page.limit),
            ).fetchall()
        return cut([_namespace(row) for row in rows], page, lambda ns: ns.name)

    def get_namespace(self, name: str) -> Namespace:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM namespaces WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise ErrorAnswer(errors.NAMESPACE_NOT_FOUND)
        return _namespace(row)

    def delete_namespace(self, name: str) -> None:
        with self._db.write() as conn:
            deleted = conn.execute("DELETE FROM namespaces WHERE name = ?", (name,)).rowcount
        if not deleted:
            raise ErrorAnswer(errors.NAMESPACE_NOT_FOUND)

    # -- repositories and tags -------------------------------------------------------------

    def put_tag(
        self,
        namespace: str | None,
        repository: str | None,
        tag: str | None,
        description: str | None,
    ) -> None:
        """An upsert: an existing tag is success; a non-null description replaces the old one."""
        if not namespace or not repository or not tag:
            raise ErrorAnswer(errors.NAME_OR_TAG_MISSING)
        if not REPOSITORY.fullmatch(repository):
            raise ErrorAnswer(errors.REPOSITORY_FORMAT)
        if not TAG.fullmatch(tag):
            raise ErrorAnswer(errors.TAG_FORMAT)
        now = self._clock.now()
        with self._db.write() as conn:
            _require_namespace(conn, namespace)
            conn.execute(
                "INSERT OR IGNORE INTO repositories VALUES (?, ?, ?, ?)",
                (namespace, repository, description or "", now),
            )
            if description is not None:
                conn.execute(
                    "UPDATE repositories SET description = ? WHERE namespace = ? AND name = ?",
                    (description, namespace, repository),
                )
            conn.execute(
                "INSERT OR IGNORE INTO tags VALUES (?, ?, ?, ?)", (namespace, repository, tag, now)
            )

    def get_tag(self, namespace: str | None, repository: str | None, tag: str | None) -> Tag:
        if not namespace or not repository or not tag:
            raise ErrorAnswer(errors.NAME_OR_TAG_MISSING)
        with self._db.read() as conn:
            description = _require_repository(conn, namespace, repository)["description"]
            row = conn.execute(
                "SELECT created FROM tags WHERE namespace = ? AND repository = ? AND tag = ?",
                (namespace, repository, tag),
            ).fetchone()
        if row is None:
            raise ErrorAnswer(errors.TAG_NOT_FOUND)
        return Tag(namespace, repository, tag, description, row["created"])

    def delete_meta(self, namespace: str | None, repository: str | None, tag: str | None) -> None:
        """Without a tag the whole repository goes; removing the last tag removes it too."""
        if not namespace or not repository:
            raise ErrorAnswer(errors.NAME_OR_TAG_MISSING)
        with self._db.write() as conn:
            _require_repository(conn, namespace, repository)
            if tag:
                _delete_tag(conn, namespace, repository, tag)
            else:
                _delete_repository(conn, namespace, repository)

    def list_images(
        self, user: str | None, namespace: str | None, page: PageRequest
    ) -> Page[Image]:
        if not user:
            raise ErrorAnswer(errors.LACKS_PARAMETERS)
        start_ns, _, start_repo = ("" if page.from_start else page.marker).partition(" ")
        with self._db.read() as conn:
            _require_user(conn, user)
            rows = conn.execute(
                _IMAGES_QUERY,
                (user, namespace or None, namespace, start_ns, start_repo, page.limit),
            ).fetchall()
        return cut([_image(row) for row in rows], page, _image_marker)

    def all_images(self) -> list[Image]:
        with self._db.read() as conn:
            rows = conn.execute(
                _IMAGES_QUERY.replace("n.owner = ?", "? IS NULL"),
                (None, None, None, "", "", -1),
            ).fetchall()
        return [_image(row) for row in rows]

    def all_namespaces(self) -> list[Namespace]:
        with self._db.read() as conn:
            rows = conn.execute("SELECT * FROM namespaces ORDER BY name").fetchall()
        return [_namespace(row) for row in rows]


def _check_user_input(
    username: str | None, password: str | None, confirm: str | None, check_format: bool = True
) -> None:
    """A create checks the name's format; an update only names an existing user."""
    if not username:
        raise ErrorAnswer(errors.USERNAME_MISSING)
    if check_format and not USERNAME.fullmatch(username):
        raise ErrorAnswer(errors.USERNAME_FORMAT)
    if password is None or not is_password(password):
        raise ErrorAnswer(errors.PASSWORD_FORMAT)
    if confirm != password:
        raise ErrorAnswer(errors.CONFIRMATION_DIFFERS)


def _user_row(conn: sqlite3.Connection) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute("SELECT * FROM registry_user").fetchone()
    return row


def _require_user(conn: sqlite3.Connection, username: str) -> None:
    row = _user_row(conn)
    if row is None or row["username"] != username:
        raise ErrorAnswer(errors.OWNER_NOT_FOUND)


def _require_namespace(conn: sqlite3.Connection, namespace: str) -> None:
    if not conn.execute("SELECT 1 FROM namespaces WHERE name = ?", (namespace,)).fetchone():
        raise ErrorAnswer(errors.NAMESPACE_MISSING)


def _require_repository(conn: sqlite3.Connection, namespace: str, repository: str) -> sqlite3.Row:
    _require_namespace(conn, namespace)
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM repositories WHERE namespace = ? AND name = ?", (namespace, repository)
    ).fetchone()
    if row is None:
        raise ErrorAnswer(errors.REPOSITORY_NOT_FOUND)
    return row


def _delete_tag(conn: sqlite3.Connection, namespace: str, repository: str, tag: str) -> None:
    deleted = conn.execute(
        "DELETE FROM tags WHERE namespace = ? AND repository = ? AND tag = ?",
        (namespace, repository, tag),
    ).rowcount
    if not deleted:
        raise ErrorAnswer(errors.TAG_NOT_FOUND)
    left = conn.execute(
        "SELECT 1 FROM tags WHERE namespace = ? AND repository = ? LIMIT 1", (namespace, repository)
    ).fetchone()
    if left is None:
        _delete_repository(conn, namespace, repository)


def _delete_repository(conn: sqlite3.Connection, namespace: str, repository: str) -> None:
    conn.execute(
        "DELETE FROM repositories WHERE namespace = ? AND name = ?", (namespace, repository)
    )


def _namespace(row: sqlite3.Row) -> Namespace:
    return Namespace(row["name"], bool(row["public"]), row["owner"], row["created"])
