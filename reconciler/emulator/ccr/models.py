"""The CCR Enterprise model: instances and what they hold, with the service's rules.

For: the rules of shared/ccr-enterprise-api.md as plain Python over SQLite (the ``ccr_*`` tables
of :data:`SCHEMA`): names (META's rules), the ``ccr$`` prefix of robots, secrets generated when
not given and kept only as SHA-256, permissions that must name existing projects, repositories
that come into being on a push (:meth:`Ccr.push`, the admin endpoint ``POST
/__emulator/ccr/push``) and go with their tags, a project that cannot be deleted while it holds
repositories, and the asynchronous public endpoint switch and private links (``opening`` ->
``opened``, ``creating`` -> ``created`` after ``ccr_network_seconds``, settled lazily before
every read). One instance, :data:`DEFAULT_INSTANCE`, exists from the start (instances are
billed: a plan adopts one, it never creates one); ``POST /v1/instances`` makes more.

Request keys are matched like Go's ``encoding/json`` (exact, else case-insensitive), and a value
of the wrong JSON type is ``Ccr.InvalidParameter``.

NOT ESTABLISHED, the emulator's choices kept here (docs/api-contract.md "CCR Enterprise"): the
spelling of every status, the instance id format, robot levels, the allowed permission
actions, the longest project name, what a repeated create answers, and that deleting entries
not in the whitelist is not an error.
Not for: the wire shapes (:mod:`.handlers`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import re
import sqlite3
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..lifecycle import Lifecycle
from ..paging import NumberedPaging
from ..store import Store
from . import errors
from .errors import READ, invalid

Json = Mapping[str, Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS ccr_instances (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    bucket TEXT NOT NULL,
    tags TEXT NOT NULL,
    public_status TEXT NOT NULL,
    public_due REAL,
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ccr_projects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    name TEXT NOT NULL,
    public INTEGER NOT NULL,
    auto_scan INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    UNIQUE (instance_id, name)
);
CREATE TABLE IF NOT EXISTS ccr_repositories (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    UNIQUE (instance_id, project, name)
);
CREATE TABLE IF NOT EXISTS ccr_tags (
    repository_seq INTEGER NOT NULL REFERENCES ccr_repositories(seq) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    digest TEXT NOT NULL,
    pushed REAL NOT NULL,
    PRIMARY KEY (repository_seq, tag)
);
CREATE TABLE IF NOT EXISTS ccr_robots (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    duration INTEGER NOT NULL,
    disabled INTEGER NOT NULL,
    permissions TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    UNIQUE (instance_id, name)
);
CREATE TABLE IF NOT EXISTS ccr_whitelist (
    instance_id TEXT NOT NULL,
    ip TEXT NOT NULL,
    description TEXT NOT NULL,
    added REAL NOT NULL,
    PRIMARY KEY (instance_id, ip)
);
CREATE TABLE IF NOT EXISTS ccr_private_links (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    vpc_id TEXT NOT NULL,
    subnet_id TEXT NOT NULL,
    ip_type TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    auto_dns INTEGER NOT NULL,
    status TEXT NOT NULL,
    due REAL,
    UNIQUE (instance_id, vpc_id, subnet_id)
);
CREATE TABLE IF NOT EXISTS ccr_registries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    insecure INTEGER NOT NULL,
    credential TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    UNIQUE (instance_id, name)
);
"""
_DEFAULT_MISSING = (
    "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM ccr_instances WHERE instance_id = 'ccr-emulator')"
)
# a row when anything is due at ?1 (now): the starting instance missing, a switch or a link
_DUE = (
    f"{_DEFAULT_MISSING} UNION ALL SELECT 1 FROM ccr_instances WHERE public_due <= ?1"
    " UNION ALL SELECT 1 FROM ccr_private_links WHERE due <= ?1 LIMIT 1"
)

# --- the emulator's choices where the facts are not established --------------------------------

DEFAULT_INSTANCE = "ccr-emulator"  # the instance every emulator starts with
DEFAULT_INSTANCE_NAME = "emulator"
INSTANCE_ID = "ccr-{}"  # + 8 lowercase letters and digits
RUNNING = "running"  # an instance's status
PUBLIC_OPENED, PUBLIC_CLOSED, PUBLIC_OPENING, PUBLIC_CLOSING = (
    "opened",
    "closed",
    "opening",
    "closing",
)
LINK_CREATING, LINK_CREATED = "creating", "created"
HEALTHY, UNHEALTHY = "healthy", "unhealthy"  # a remote registry's status
UNREACHABLE_SUFFIX = ".invalid"  # a remote whose host ends so cannot be reached (RFC 2606)
LEVEL_SYSTEM, LEVEL_PROJECT = "system", "project"  # a robot naming "*" is system level
ACCESS = frozenset(
    {
        ("repository", "pull"),
        ("repository", "push"),
        ("artifact", "delete"),
        ("helm-chart", "read"),
        ("helm-chart-version", "create"),
    }
)
PROJECT_NAME_MAX = 255
SECONDS_PER_DAY = 86_400

# --- the documented rules [META; SDK binding tags] ---------------------------------------------

INSTANCE_TYPES = ("BASIC", "STANDARD", "ADVANCED")
RESERVATION_UNITS = ("MONTH", "YEAR")
KEYWORD_TYPES = ("id", "name")
PUBLIC_ACTIONS = ("open", "close")
REGISTRY_TYPES = ("harbor", "docker-hub", "docker-registry", "baidu-ccr")
IP_TYPES = ("auto", "manual")
ROBOT_STATUSES = ("enabled", "disabled")
DEFAULT_PAGE_NO, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 1, 10, 100
PROJECT_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
ROBOT_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")  # ends on letters/digits, no "--"
ROBOT_NAME_MAX = 65
ROBOT_PREFIX = "ccr$"
SECRET_SPECIALS = "!@#$%^*()"
SECRET_CHARS = frozenset(string.ascii_letters + string.digits + SECRET_SPECIALS)
DESCRIPTION_MAX = 1024


# --- reading request JSON (the service's dialect, :data:`.errors.READ`) ------------------------


def required_text(data: Json, key: str) -> str:
    value = READ.opt_str(data, key)
    if not value:
        raise invalid(f"{key} is required")
    return value


def flag(data: Json, key: str) -> bool | None:
    """``public`` / ``autoScan``: the strings "true" and "false" (a JSON boolean does not
    decode into the service's string field)."""
    value = READ.opt_str(data, key)
    if value is None or value == "":
        return None
    if value not in ("true", "false"):
        raise invalid(f'{key} must be "true" or "false"')
    return value == "true"


def choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise invalid(f"{what} {value!r} is not one of {', '.join(allowed)}")
    return value


def repository_name(segment: str) -> str:
    """A repository name from its path segment: unpadded base64url (the SDK), padded standard
    base64 (META's advice), or the name itself."""
    for decode in (_b64url, _b64std):
        name = decode(segment)
        if name:
            return name
    return segment


def _b64url(segment: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None
    return _printable(raw)


def _b64std(segment: str) -> str | None:
    try:
        raw = base64.b64decode(segment, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _printable(raw)


def _printable(raw: bytes) -> str | None:
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    ok = name and all(c.isalnum() or c in "._-/" for c in name) and name.isascii()
    return name if ok else None


def secret_problem(secret: str) -> str | None:
    ok = (
        8 <= len(secret) <= 65
        and set(secret) <= SECRET_CHARS
        and any(c.isupper() for c in secret)
        and any(c.islower() for c in secret)
        and any(c.isdigit() for c in secret)
    )
    return (
        None
        if ok
        else (
            "secret must be 8-65 letters, digits or !@#$%^*() with an upper-case letter, "
            "a lower-case letter and a digit"
        )
    )


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- stored objects ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredInstance:
    seq: int
    instance_id: str
    name: str
    type: str
    status: str
    bucket: str
    tags: tuple[tuple[str, str], ...]
    public_status: str
    created: float
    expires: float


@dataclass(frozen=True)
class StoredProject:
    seq: int
    instance_id: str
    name: str
    public: bool
    auto_scan: bool
    created: float
    updated: float
    repo_count: int


@dataclass(frozen=True)
class StoredRepository:
    seq: int
    instance_id: str
    project: str
    name: str
    description: str
    created: float
    updated: float
    tag_count: int


@dataclass(frozen=True)
class StoredRobot:
    seq: int  # the robot's id
    instance_id: str
    name: str  # with the ccr$ prefix
    description: str
    duration: int
    disabled: bool
    permissions: tuple[Json, ...]
    secret_sha256: str
    created: float
    updated: float

    @property
    def level(self) -> str:
        every = any(p.get("namespace") == "*" for p in self.permissions)
        return LEVEL_SYSTEM if every else LEVEL_PROJECT

    @property
    def expires_at(self) -> int:
        if self.duration < 0:
            return -1
        return int(self.created) + self.duration * SECONDS_PER_DAY


@dataclass(frozen=True)
class StoredLink:
    seq: int
    vpc_id: str
    subnet_id: str
    ip_type: str
    ip_address: str
    auto_dns: bool
    status: str


@dataclass(frozen=True)
class StoredRegistry:
    seq: int  # the registry's id
    instance_id: str
    name: str
    type: str
    url: str
    description: str
    insecure: bool
    credential: Json | None  # {type, accessKey, secretSha256}
    created: float
    updated: float

    @property
    def status(self) -> str:
        return UNHEALTHY if _unreachable(self.url) else HEALTHY


PAGING = NumberedPaging(DEFAULT_PAGE_NO, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _unreachable(url: str) -> bool:
    host = re.sub(r"^[a-z]+://", "", url).split("/")[0].split(":")[0]
    return host.endswith(UNREACHABLE_SUFFIX)


# --- the model ---------------------------------------------------------------------------------


class Ccr:
    """Every CCR Enterprise instance of the emulated account, over the shared database."""

    def __init__(self, store: Store) -> None:
        self._clock = store.clock
        self._settings = store.settings
        self._rng = store.rng
        self.region = store.region
        self._lifecycle = Lifecycle(store, _DUE, self._advance)

    def _advance(self, conn: sqlite3.Connection, now: float) -> None:
        """The account's starting instance exists (again, after a reset), and the network
        switches and links that are due are done."""
        if conn.execute(_DEFAULT_MISSING).fetchone() is not None:
            self._insert_instance(conn, DEFAULT_INSTANCE, DEFAULT_INSTANCE_NAME, "STANDARD", {}, 12)
        conn.execute(
            "UPDATE ccr_instances SET public_status = CASE public_status WHEN ? THEN ? ELSE ? END,"
            " public_due = NULL WHERE public_due <= ?",
            (PUBLIC_OPENING, PUBLIC_OPENED, PUBLIC_CLOSED, now),
        )
        conn.execute(
            "UPDATE ccr_private_links SET status = ?, due = NULL WHERE due <= ?",
            (LINK_CREATED, now),
        )

    def _insert_instance(
        self,
        conn: sqlite3.Connection,
        instance_id: str,
        name: str,
        kind: str,
        tags: Mapping[str, str],
        months: int,
    ) -> None:
        now = self._clock.now()
        conn.execute(
            "INSERT INTO ccr_instances (instance_id, name, type, status, bucket, tags,"
            " public_status, public_due, created, expires) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                instance_id,
                name,
                kind,
                RUNNING,
                f"{instance_id}-artifacts",
                json.dumps(sorted(tags.items())),
                PUBLIC_CLOSED,
                None,
                now,
                now + months * 30 * SECONDS_PER_DAY,
            ),
        )

    def _network_seconds(self) -> float:
        return float(self._settings.current.ccr_network_seconds)

    # --- instances ---------------------------------------------------------------------------

    def create_instance(self, body: Json) -> str:
        kind = choice(required_text(body, "type"), INSTANCE_TYPES, "type")
        name = required_text(body, "name")
        if len(name) > 256:
            raise invalid("name must be 1-256 characters")
        if READ.text(body, "paymentTiming") != "prepay":
            raise invalid("paymentTiming must be prepay")
        billing = READ.obj(READ.value(body, "billing"), "billing")
        unit = choice(
            READ.text(billing, "reservationTimeUnit"), RESERVATION_UNITS, "reservationTimeUnit"
        )
        length = READ.opt_int(billing, "reservationTime") or 0
        if not 1 <= length <= 9:
            raise invalid("billing.reservationTime must be within 1..9")
        tags = _tag_map(READ.opt_list(body, "tags") or [])
        months = length * (12 if unit == "YEAR" else 1)
        instance_id = INSTANCE_ID.format(self._rng.short_id("", 8).lower())
        with self._lifecycle.write() as (conn, _now):
            self._insert_instance(conn, instance_id, name, kind, tags, months)
        return instance_id

    def list_instances(self, keyword_type: str, keyword: str) -> list[StoredInstance]:
        choice(keyword_type or "name", KEYWORD_TYPES, "keywordType")
        column = "instance_id" if keyword_type == "id" else "name"
        with self._lifecycle.read() as conn:
            rows = conn.execute(
                f"SELECT * FROM ccr_instances WHERE instr({column}, ?) > 0 ORDER BY seq",
                (keyword,),
            ).fetchall()
        return [_instance(row) for row in rows]

    def instance(self, instance_id: str) -> StoredInstance:
        with self._lifecycle.read() as conn:
            return _instance(_instance_row(conn, instance_id))

    def rename_instance(self, instance_id: str, body: Json) -> StoredInstance:
        name = required_text(body, "name")
        if len(name) > 256:
            raise invalid("name must be 1-256 characters")
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            conn.execute(
                "UPDATE ccr_instances SET name = ? WHERE instance_id = ?", (name, instance_id)
            )
            return _instance(_instance_row(conn, instance_id))

    def set_tags(self, instance_id: str, body: Json) -> None:
        tags = READ.opt_list(body, "tags")
        if tags is None:
            raise invalid("tags is required")
        mapping = _tag_map(tags)
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            conn.execute(
                "UPDATE ccr_instances SET tags = ? WHERE instance_id = ?",
                (json.dumps(sorted(mapping.items())), instance_id),
            )

    def statistic(self, instance_id: str) -> dict[str, int]:
        with self._lifecycle.read() as conn:
            count = conn.execute
            return {
                "repo": count(
                    "SELECT COUNT(*) FROM ccr_repositories WHERE instance_id = ?", (instance_id,)
                ).fetchone()[0],
                "chart": 0,
                "namespace": count(
                    "SELECT COUNT(*) FROM ccr_projects WHERE instance_id = ?", (instance_id,)
                ).fetchone()[0],
                "storage": count(
                    "SELECT COUNT(*) FROM ccr_tags t JOIN ccr_repositories r"
                    " ON t.repository_seq = r.seq WHERE r.instance_id = ?",
                    (instance_id,),
                ).fetchone()[0]
                * 50_000_000,
            }

    # --- projects ----------------------------------------------------------------------------

    def create_project(self, instance_id: str, body: Json) -> StoredProject:
        name = required_text(body, "projectName")
        _check_project_name(name)
        public = flag(body, "public")
        now = self._clock.now()
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            try:
                conn.execute(
                    "INSERT INTO ccr_projects (instance_id, name, public, auto_scan, created,"
                    " updated) VALUES (?,?,?,?,?,?)",
                    (instance_id, name, bool(public), False, now, now),
                )
            except sqlite3.IntegrityError:
                raise errors.answer(errors.PROJECT_EXISTS, name) from None
            return _project_row(conn, instance_id, name)

    def list_projects(self, instance_id: str, name: str) -> list[StoredProject]:
        with self._lifecycle.read() as conn:
            _instance_row(conn, instance_id)
            rows = conn.execute(
                _PROJECTS + " WHERE p.instance_id = ? AND instr(p.name, ?) > 0"
                " GROUP BY p.seq ORDER BY p.name",
                (instance_id, name),
            ).fetchall()
        return [_project(row) for row in rows]

    def project(self, instance_id: str, name: str) -> StoredProject:
        with self._lifecycle.read() as conn:
            _instance_row(conn, instance_id)
            return _project_row(conn, instance_id, name)

    def update_project(self, instance_id: str, name: str, body: Json) -> StoredProject:
        public, auto_scan = flag(body, "public"), flag(body, "autoScan")
        if public is None or auto_scan is None:
            raise invalid("public and autoScan are required")
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            _project_row(conn, instance_id, name)
            conn.execute(
                "UPDATE ccr_projects SET public = ?, auto_scan = ?, updated = ?"
                " WHERE instance_id = ? AND name = ?",
                (public, auto_scan, self._clock.now(), instance_id, name),
            )
            return _project_row(conn, instance_id, name)

    def delete_project(self, instance_id: str, name: str) -> None:
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            project = _project_row(conn, instance_id, name)
            if project.repo_count:
                raise errors.answer(
                    errors.PROJECT_NOT_EMPTY, f"{name} holds {project.repo_count} repositories"
                )
            conn.execute(
                "DELETE FROM ccr_projects WHERE instance_id = ? AND name = ?", (instance_id, name)
            )

    # --- repositories (a push makes them) ----------------------------------------------------

    def push(self, instance_id: str, project: str, repository: str, tag: str) -> None:
        """What ``docker push <host>/<project>/<repository>:<tag>`` leaves behind."""
        if not repository or repository.startswith("/") or ".." in repository:
            raise invalid(f"repository {repository!r} is not a repository name")
        now = self._clock.now()
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            _project_row(conn, instance_id, project)
            conn.execute(
                "INSERT OR IGNORE INTO ccr_repositories (instance_id, project, name, description,"
                " created, updated) VALUES (?,?,?,?,?,?)",
                (instance_id, project, repository, "", now, now),
            )
            seq = _repository_row(conn, instance_id, project, repository).seq
            digest = "sha256:" + sha256(f"{instance_id}/{project}/{repository}:{tag}@{now}")
            conn.execute(
                "INSERT OR REPLACE INTO ccr_tags VALUES (?,?,?,?)", (seq, tag, digest, now)
            )

    def list_repositories(
        self, instance_id: str, project: str, name: str
    ) -> list[StoredRepository]:
        with self._lifecycle.read() as conn:
            _instance_row(conn, instance_id)
            _project_row(conn, instance_id, project)
            rows = conn.execute(
                _REPOSITORIES
                + " WHERE r.instance_id = ? AND r.project = ? AND instr(r.name, ?) > 0"
                " GROUP BY r.seq ORDER BY r.name",
                (instance_id, project, name),
            ).fetchall()
        return [_repository(row) for row in rows]

    def repository(self, instance_id: str, project: str, segment: str) -> StoredRepository:
        with self._lifecycle.read() as conn:
            _instance_row(conn, instance_id)
            _project_row(conn, instance_id, project)
            return _repository_row(conn, instance_id, project, repository_name(segment))

    def update_repository(
        self, instance_id: str, project: str, segment: str, body: Json
    ) -> StoredRepository:
        description = READ.opt_str(body, "description")
        if description is None:
            raise invalid("description is required")
        if len(description) > DESCRIPTION_MAX:
            raise invalid(f"description is longer than {DESCRIPTION_MAX} characters")
        name = repository_name(segment)
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            _project_row(conn, instance_id, project)
            _repository_row(conn, instance_id, project, name)
            conn.execute(
                "UPDATE ccr_repositories SET description = ?, updated = ?"
                " WHERE instance_id = ? AND project = ? AND name = ?",
                (description, self._clock.now(), instance_id, project, name),
            )
            return _repository_row(conn, instance_id, project, name)

    def delete_repository(self, instance_id: str, project: str, segment: str) -> None:
        name = repository_name(segment)
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            _project_row(conn, instance_id, project)
            repository = _repository_row(conn, instance_id, project, name)
            conn.execute("DELETE FROM ccr_repositories WHERE seq = ?", (repository.seq,))

    # --- robot accounts ----------------------------------------------------------------------

    def list_robots(self, instance_id: str, status: str) -> list[StoredRobot]:
        if status:
            choice(status, ROBOT_STATUSES, "status")
        with self._lifecycle.read() as conn:
            _instance_row(conn, instance_id)
            rows = conn.execute(
                "SELECT * FROM ccr_robots WHERE instance_id = ? ORDER BY seq", (instance_id,)
            ).fetchall()
        robots = [_robot(row) for row in rows]
        if status:
            robots = [r for r in robots if r.disabled == (status == "disabled")]
        return robots

    def create_robot(self, instance_id: str, body: Json) -> tuple[StoredRobot, str]:
        name = required_text(body, "name")
        if len(name) > ROBOT_NAME_MAX or not ROBOT_NAME.fullmatch(name):
            raise invalid(
                "name must be 1-65 lowercase letters, digits, '.', '_' or '-', starting and "
                "ending with a letter or digit, without two separators in a row"
            )
        duration = READ.opt_int(body, "duration")
        if duration is None:
            raise invalid("duration is required")
        _check_duration(duration)
        description = _description(body)
        secret = READ.text(body, "secret") or self._new_secret()
        problem = secret_problem(secret)
        if problem:
            raise invalid(problem)
        now = self._clock.now()
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            permissions = _permissions(conn, instance_id, READ.opt_list(body, "permissions") or [])
            try:
                cursor = conn.execute(
                    "INSERT INTO ccr_robots (instance_id, name, description, duration, disabled,"
                    " permissions, secret_sha256, created, updated) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        instance_id,
                        ROBOT_PREFIX + name,
                        description or "",
                        duration,
                        bool(READ.opt_bool(body, "disable")),
                        json.dumps(permissions),
                        sha256(secret),
                        now,
                        now,
                    ),
                )
            except sqlite3.IntegrityError:
                raise errors.answer(errors.ROBOT_EXISTS, ROBOT_PREFIX + name) from None
            return _robot_row(conn, instance_id, cursor.lastrowid or 0), secret

    def update_robot(self, instance_id: str, robot_id: int, body: Json) -> None:
        """Only the keys sent change (GUESS: the SDK's omitempty keys mean "unchanged")."""
        description = _description(body)
        duration = READ.opt_int(body, "duration")
        if duration is not None:
            _check_duration(duration)
        disabled = READ.opt_bool(body, "disable")
        raw_permissions = READ.opt_list(body, "permissions")
        with self._lifecycle.write() as (conn, _now):
            robot = _robot_row(conn, instance_id, robot_id)
            permissions = (
                list(robot.permissions)
                if raw_permissions is None
                else _permissions(conn, instance_id, raw_permissions)
            )
            conn.execute(
                "UPDATE ccr_robots SET description = ?, duration = ?, disabled = ?,"
                " permissions = ?, updated = ? WHERE seq = ?",
                (
                    robot.description if description is None else description,
                    robot.duration if duration is None else duration,
                    robot.disabled if disabled is None else disabled,
                    json.dumps(permissions),
                    self._clock.now(),
                    robot.seq,
                ),
            )

    def delete_robot(self, instance_id: str, robot_id: int) -> None:
        with self._lifecycle.write() as (conn, _now):
            robot = _robot_row(conn, instance_id, robot_id)
            conn.execute("DELETE FROM ccr_robots WHERE seq = ?", (robot.seq,))

    def refresh_secret(self, instance_id: str, robot_id: int, body: Json) -> str:
        secret = READ.text(body, "secret") or self._new_secret()
        problem = secret_problem(secret)
        if problem:
            raise invalid(problem)
        with self._lifecycle.write() as (conn, _now):
            robot = _robot_row(conn, instance_id, robot_id)
            conn.execute(
                "UPDATE ccr_robots SET secret_sha256 = ?, updated = ? WHERE seq = ?",
                (sha256(secret), self._clock.now(), robot.seq),
            )
        return secret

    def _new_secret(self) -> str:
        # one of each class, then more: always within the rule
        return "Aa1" + self._rng.short_id("", 29)

    # --- network access ----------------------------------------------------------------------

    def public_network(self, instance_id: str) -> tuple[str, list[tuple[str, str]]]:
        with self._lifecycle.read() as conn:
            instance = _instance(_instance_row(conn, instance_id))
            rows = conn.execute(
                "SELECT ip, description FROM ccr_whitelist WHERE instance_id = ? ORDER BY added, ip",
                (instance_id,),
            ).fetchall()
        return instance.public_status, [(row[0], row[1]) for row in rows]

    def switch_public(self, instance_id: str, body: Json) -> None:
        action = choice(required_text(body, "action"), PUBLIC_ACTIONS, "action")
        target, moving = (
            (PUBLIC_OPENED, PUBLIC_OPENING) if action == "open" else (PUBLIC_CLOSED, PUBLIC_CLOSING)
        )
        with self._lifecycle.write() as (conn, _now):
            current = _instance(_instance_row(conn, instance_id)).public_status
            if current in (target, moving):
                return  # already there or on its way
            conn.execute(
                "UPDATE ccr_instances SET public_status = ?, public_due = ? WHERE instance_id = ?",
                (moving, self._clock.now() + self._network_seconds(), instance_id),
            )

    def add_whitelist(self, instance_id: str, body: Json) -> None:
        ip = required_text(body, "ipAddr")
        _check_ip(ip)
        description = READ.opt_str(body, "description")
        if description is None:
            raise invalid("description is required")
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            try:
                conn.execute(
                    "INSERT INTO ccr_whitelist VALUES (?,?,?,?)",
                    (instance_id, ip, description, self._clock.now()),
                )
            except sqlite3.IntegrityError:
                raise errors.answer(errors.WHITELIST_EXISTS, ip) from None

    def delete_whitelist(self, instance_id: str, body: Json) -> None:
        items = READ.opt_list(body, "items")
        if not items or not all(isinstance(i, str) for i in items):
            raise invalid("items must be a non-empty list of addresses")
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            conn.executemany(
                "DELETE FROM ccr_whitelist WHERE instance_id = ? AND ip = ?",
                [(instance_id, ip) for ip in items],
            )

    def private_links(self, instance_id: str) -> list[StoredLink]:
        with self._lifecycle.read() as conn:
            _instance_row(conn, instance_id)
            rows = conn.execute(
                "SELECT * FROM ccr_private_links WHERE instance_id = ? ORDER BY seq",
                (instance_id,),
            ).fetchall()
        return [_link(row) for row in rows]

    def create_private_link(self, instance_id: str, body: Json) -> None:
        vpc_id, subnet_id = required_text(body, "vpcID"), required_text(body, "subnetID")
        if not vpc_id.startswith("vpc-") or not subnet_id.startswith("sbn-"):
            raise invalid("vpcID must be a vpc-... id and subnetID a sbn-... id")
        ip_type = choice(required_text(body, "ipType"), IP_TYPES, "ipType")
        ip_address = READ.text(body, "ipAddress")
        if ip_type == "manual":
            _check_ip(ip_address, network=False)
        elif ip_address:
            raise invalid("ipAddress goes with ipType manual only")
        auto_dns = bool(READ.opt_bool(body, "autoDnsResolve"))
        due = self._clock.now() + self._network_seconds()
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            try:
                conn.execute(
                    "INSERT INTO ccr_private_links (instance_id, vpc_id, subnet_id, ip_type,"
                    " ip_address, auto_dns, status, due) VALUES (?,?,?,?,?,?,?,?)",
                    (instance_id, vpc_id, subnet_id, ip_type, ip_address, auto_dns,
                     LINK_CREATING, due),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise errors.answer(errors.LINK_EXISTS, f"{vpc_id}/{subnet_id}") from None

    def delete_private_link(self, instance_id: str, body: Json) -> None:
        vpc_id, subnet_id = required_text(body, "vpcID"), required_text(body, "subnetID")
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            deleted = conn.execute(
                "DELETE FROM ccr_private_links WHERE instance_id = ? AND vpc_id = ?"
                " AND subnet_id = ?",
                (instance_id, vpc_id, subnet_id),
            ).rowcount
        if not deleted:
            raise errors.answer(errors.LINK_NOT_FOUND, f"{vpc_id}/{subnet_id}")

    # --- remote registries -------------------------------------------------------------------

    def list_registries(self, instance_id: str, name: str, kind: str) -> list[StoredRegistry]:
        with self._lifecycle.read() as conn:
            _instance_row(conn, instance_id)
            rows = conn.execute(
                "SELECT * FROM ccr_registries WHERE instance_id = ? AND instr(name, ?) > 0"
                " AND (? = '' OR type = ?) ORDER BY seq",
                (instance_id, name, kind, kind),
            ).fetchall()
        return [_registry(row) for row in rows]

    def registry(self, instance_id: str, registry_id: int) -> StoredRegistry:
        with self._lifecycle.read() as conn:
            _instance_row(conn, instance_id)
            return _registry_row(conn, instance_id, registry_id)

    def create_registry(self, instance_id: str, body: Json) -> StoredRegistry:
        values = _registry_values(body)
        now = self._clock.now()
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            try:
                cursor = conn.execute(
                    "INSERT INTO ccr_registries (instance_id, name, type, url, description,"
                    " insecure, credential, created, updated) VALUES (?,?,?,?,?,?,?,?,?)",
                    (instance_id, *values, now, now),
                )
            except sqlite3.IntegrityError:
                raise errors.answer(errors.REGISTRY_EXISTS, str(values[0])) from None
            return _registry_row(conn, instance_id, cursor.lastrowid or 0)

    def update_registry(self, instance_id: str, registry_id: int, body: Json) -> StoredRegistry:
        name, kind, url, description, insecure, credential = _registry_values(body)
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            _registry_row(conn, instance_id, registry_id)
            try:
                conn.execute(
                    "UPDATE ccr_registries SET name = ?, type = ?, url = ?, description = ?,"
                    " insecure = ?, credential = ?, updated = ? WHERE seq = ?",
                    (name, kind, url, description, insecure, credential, self._clock.now(),
                     registry_id),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise errors.answer(errors.REGISTRY_EXISTS, name) from None
            return _registry_row(conn, instance_id, registry_id)

    def delete_registry(self, instance_id: str, registry_id: int) -> None:
        with self._lifecycle.write() as (conn, _now):
            _instance_row(conn, instance_id)
            _registry_row(conn, instance_id, registry_id)
            conn.execute("DELETE FROM ccr_registries WHERE seq = ?", (registry_id,))

    def ping_registry(self, instance_id: str, body: Json) -> None:
        _, _, url, _, _, _ = _registry_values(body)
        self.instance(instance_id)
        if _unreachable(url):
            raise errors.answer(errors.REGISTRY_UNREACHABLE, url)

    # --- for the admin state dump ------------------------------------------------------------

    def everything(self) -> dict[str, list[Any]]:
        with self._lifecycle.read() as conn:
            ids = [r[0] for r in conn.execute("SELECT instance_id FROM ccr_instances ORDER BY seq")]
        return {"instances": [self.instance(i) for i in ids]}


# --- rules -------------------------------------------------------------------------------------


def _check_project_name(name: str) -> None:
    if len(name) > PROJECT_NAME_MAX or not PROJECT_NAME.fullmatch(name) or name.isdigit():
        raise invalid(
            f"projectName {name!r} must be lowercase letters, digits and '.', '_' or '-', "
            "not starting or ending with a separator, not all digits, "
            f"at most {PROJECT_NAME_MAX} characters"
        )


def _check_duration(duration: int) -> None:
    if duration != -1 and duration < 1:
        raise invalid("duration must be a number of days, or -1 for never")


def _description(body: Json) -> str | None:
    description = READ.opt_str(body, "description")
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise invalid(f"description is longer than {DESCRIPTION_MAX} characters")
    return description


def _check_ip(value: str, *, network: bool = True) -> None:
    """An IPv4 address, or (``network``) also a CIDR without host bits."""
    try:
        if network:
            ipaddress.IPv4Network(value, strict=True)
        else:
            ipaddress.IPv4Address(value)
    except ValueError:
        what = "an IPv4 address or CIDR" if network else "an IPv4 address"
        raise invalid(f"{value!r} is not {what}") from None


def _tag_map(items: list[Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        entry = READ.element(item, "a tag")
        tags[required_text(entry, "tagKey")] = READ.text(entry, "tagValue")
    return tags


def _permissions(conn: sqlite3.Connection, instance_id: str, raw: list[Any]) -> list[Json]:
    """Permissions as stored: each names an existing project (or "*") and allowed access."""
    out: list[Json] = []
    for index, item in enumerate(raw):
        entry = READ.element(item, f"permissions[{index}]")
        kind = READ.text(entry, "kind") or "project"
        if kind != "project":
            raise invalid(f"permissions[{index}].kind must be project")
        namespace = required_text(entry, "namespace")
        if namespace != "*":
            known = conn.execute(
                "SELECT 1 FROM ccr_projects WHERE instance_id = ? AND name = ?",
                (instance_id, namespace),
            ).fetchone()
            if known is None:
                raise invalid(
                    f"permissions[{index}] names project {namespace!r}, which does not exist"
                )
        access = []
        for a in READ.opt_list(entry, "access") or []:
            pair = READ.element(a, f"permissions[{index}].access")
            resource, action = required_text(pair, "resource"), required_text(pair, "action")
            if (resource, action) not in ACCESS:
                raise invalid(f"{action} on {resource} is not a permission a robot can hold")
            access.append({"action": action, "resource": resource})
        if not access:
            raise invalid(f"permissions[{index}].access is empty")
        out.append({"kind": kind, "namespace": namespace, "access": access})
    return out


def _registry_values(body: Json) -> tuple[str, str, str, str, bool, str]:
    name = required_text(body, "name")
    kind = choice(required_text(body, "type"), REGISTRY_TYPES, "type")
    url = required_text(body, "url")
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise invalid(f"url {url!r} is not an http(s) URL")
    raw = READ.value(body, "credential")
    credential: dict[str, str] | None = None
    if raw is not None:
        c = READ.element(raw, "credential")
        credential = {
            "type": READ.text(c, "type") or "basic",
            "accessKey": READ.text(c, "accessKey"),
        }
        secret = READ.text(c, "accessSecret")
        if secret:
            credential["secretSha256"] = sha256(secret)
    description = _description(body) or ""
    insecure = bool(READ.opt_bool(body, "insecure"))
    return name, kind, url, description, insecure, json.dumps(credential)


# --- rows --------------------------------------------------------------------------------------

_PROJECTS = (
    "SELECT p.*, COUNT(r.seq) AS repo_count FROM ccr_projects p LEFT JOIN ccr_repositories r"
    " ON r.instance_id = p.instance_id AND r.project = p.name"
)
_REPOSITORIES = (
    "SELECT r.*, COUNT(t.tag) AS tag_count FROM ccr_repositories r LEFT JOIN ccr_tags t"
    " ON t.repository_seq = r.seq"
)


def _instance_row(conn: sqlite3.Connection, instance_id: str) -> sqlite3.Row:
    row = conn.execute(
        "SELECT * FROM ccr_instances WHERE instance_id = ?", (instance_id,)
    ).fetchone()
    if row is None:
        raise errors.answer(errors.INSTANCE_NOT_FOUND, instance_id)
    row_: sqlite3.Row = row
    return row_


def _project_row(conn: sqlite3.Connection, instance_id: str, name: str) -> StoredProject:
    row = conn.execute(
        _PROJECTS + " WHERE p.instance_id = ? AND p.name = ? GROUP BY p.seq", (instance_id, name)
    ).fetchone()
    if row is None:
        raise errors.answer(errors.PROJECT_NOT_FOUND, name)
    return _project(row)


def _repository_row(
    conn: sqlite3.Connection, instance_id: str, project: str, name: str
) -> StoredRepository:
    row = conn.execute(
        _REPOSITORIES + " WHERE r.instance_id = ? AND r.project = ? AND r.name = ? GROUP BY r.seq",
        (instance_id, project, name),
    ).fetchone()
    if row is None:
        raise errors.answer(errors.REPOSITORY_NOT_FOUND, f"{project}/{name}")
    return _repository(row)


def _robot_row(conn: sqlite3.Connection, instance_id: str, robot_id: int) -> StoredRobot:
    row = conn.execute(
        "SELECT * FROM ccr_robots WHERE instance_id = ? AND seq = ?", (instance_id, robot_id)
    ).fetchone()
    if row is None:
        raise errors.answer(errors.ROBOT_NOT_FOUND, str(robot_id))
    return _robot(row)


def _registry_row(conn: sqlite3.Connection, instance_id: str, registry_id: int) -> StoredRegistry:
    row = conn.execute(
        "SELECT * FROM ccr_registries WHERE instance_id = ? AND seq = ?",
        (instance_id, registry_id),
    ).fetchone()
    if row is None:
        raise errors.answer(errors.REGISTRY_NOT_FOUND, str(registry_id))
    return _registry(row)


def _instance(row: sqlite3.Row) -> StoredInstance:
    return StoredInstance(
        row["seq"],
        row["instance_id"],
        row["name"],
        row["type"],
        row["status"],
        row["bucket"],
        tuple((k, v) for k, v in json.loads(row["tags"])),
        row["public_status"],
        row["created"],
        row["expires"],
    )


def _project(row: sqlite3.Row) -> StoredProject:
    return StoredProject(
        row["seq"],
        row["instance_id"],
        row["name"],
        bool(row["public"]),
        bool(row["auto_scan"]),
        row["created"],
        row["updated"],
        row["repo_count"],
    )


def _repository(row: sqlite3.Row) -> StoredRepository:
    return StoredRepository(
        row["seq"],
        row["instance_id"],
        row["project"],
        row["name"],
        row["description"],
        row["created"],
        row["updated"],
        row["tag_count"],
    )


def _robot(row: sqlite3.Row) -> StoredRobot:
    return StoredRobot(
        row["seq"],
        row["instance_id"],
        row["name"],
        row["description"],
        row["duration"],
        bool(row["disabled"]),
        tuple(json.loads(row["permissions"])),
        row["secret_sha256"],
        row["created"],
        row["updated"],
    )


def _link(row: sqlite3.Row) -> StoredLink:
    return StoredLink(
        row["seq"],
        row["vpc_id"],
        row["subnet_id"],
        row["ip_type"],
        row["ip_address"],
        bool(row["auto_dns"]),
        row["status"],
    )


def _registry(row: sqlite3.Row) -> StoredRegistry:
    return StoredRegistry(
        row["seq"],
        row["instance_id"],
        row["name"],
        row["type"],
        row["url"],
        row["description"],
        bool(row["insecure"]),
        json.loads(row["credential"]),
        row["created"],
        row["updated"],
    )
