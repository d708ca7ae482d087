"""Fixtures for the state-backend suite: a throwaway PostgreSQL server and one store per backend.

The server is started once per test session (per xdist worker): ``initdb`` and ``pg_ctl start``
in a temp dir, on a free loopback port, with its unix socket in that dir and fsync off. As root
it runs as the ``postgres`` (else ``nobody``) user, since PostgreSQL refuses to run as root.
Where no server binary exists the PostgreSQL half of the suite skips and says why.

``backend`` parametrizes a test over both backends; ``new_store()`` gives a fresh, empty store
(a new file for local, a new workspace for PostgreSQL) and ``spec`` names it for a subprocess
(``tests/state/proc.py``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.kinds import names as kind_names
from reconciler.state import StateStore
from reconciler.state.local import LocalStateStore

PG_BIN_CANDIDATES = (
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/local/pgsql/bin",
)
PROC = Path(__file__).with_name("proc.py")


def find_pg_bin() -> Path | None:
    override = os.environ.get("RECONCILER_PG_BIN")
    candidates = [override] if override else list(PG_BIN_CANDIDATES)
    which = shutil.which("pg_ctl")
    if which and not override:
        candidates.append(str(Path(which).parent))
    for candidate in candidates:
        if (
            candidate
            and (Path(candidate) / "initdb").exists()
            and (Path(candidate) / "pg_ctl").exists()
        ):
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_user() -> str | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    pytest.skip(
        "running as root and neither a 'postgres' nor a 'nobody' user exists for the PostgreSQL server"
    )


def run_as(user: str | None, argv: list[str]) -> subprocess.CompletedProcess[str]:
    command = ["runuser", "-u", user, "--", *argv] if user else argv
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@dataclass(frozen=True)
class PgServer:
    bin: Path
    root: Path
    user: str | None
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "reconciler_test") -> str:
        return f"postgresql://reconciler@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        init = run_as(
            self.user,
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "reconciler",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr or init.stdout}")
        options = (
            f"-F -p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        start = run_as(
            self.user,
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "log"),
                "-w",
                "-t",
                "30",
                "-o",
                options,
                "start",
            ],
        )
        if start.returncode != 0:
            log = (
                (self.root / "log").read_text(errors="replace")
                if (self.root / "log").exists()
                else ""
            )
            raise RuntimeError(f"pg_ctl start failed: {start.stderr or start.stdout}\n{log}")

    def stop(self) -> None:
        run_as(
            self.user,
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
        )

    def create_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    pg_bin = find_pg_bin()
    if pg_bin is None:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) found; set RECONCILER_PG_BIN to run the PostgreSQL state tests"
        )
    pytest.importorskip(
        "psycopg", reason="psycopg is not installed: pip install 'cce-reconciler[postgres]'"
    )
    user = server_user()
    root = Path(tempfile.mkdtemp(prefix="reconciler-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PgServer(pg_bin, root, user, free_port())
    try:
        server.start()
        server.create_database("reconciler_test")
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database_url(pg_server: PgServer) -> str:
    """A database of its own for this test: the workspaces in it are this test's only (one
    database is one configuration's states: other tests' workspaces must not be among them)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.create_database(name)
    return pg_server.url(name)


@dataclass(frozen=True)
class Backend:
    """One backend under test: how to make a fresh store, and how a subprocess names it."""

    name: str
    new_spec: Callable[[], tuple[str, str]]  # (path or URL, workspace)

    def store(self, spec: tuple[str, str]) -> StateStore:
        location, workspace = spec
        if self.name == "local":
            return LocalStateStore(location, kinds=kind_names())
        from reconciler.state.postgres import PostgresStateStore

        return PostgresStateStore(location, workspace, kinds=kind_names())

    def journal_left(self, spec: tuple[str, str]) -> bool:
        """Whether a journal is stored (the one thing the interface does not show)."""
        location, workspace = spec
        if self.name == "local":
            return LocalStateStore(location, kinds=kind_names()).journal_path.exists()
        import psycopg

        with psycopg.connect(location) as conn:
            query = "SELECT count(*) FROM reconciler_journal WHERE workspace = %s"
            row = conn.execute(query, (workspace,)).fetchone()
        return bool(row and row[0])


@pytest.fixture(params=["local", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return Backend(
            "local", lambda: (str(tmp_path / f"{uuid.uuid4().hex[:8]}" / "state.json"), "default")
        )
    server: PgServer = request.getfixturevalue("pg_server")
    return Backend("postgres", lambda: (server.url(), f"ws-{uuid.uuid4().hex[:12]}"))


@pytest.fixture
def spec(backend: Backend) -> tuple[str, str]:
    return backend.new_spec()


@pytest.fixture
def store(backend: Backend, spec: tuple[str, str]) -> StateStore:
    return backend.store(spec)


class Proc:
    """A helper subprocess (``proc.py``) that reports on stdout and waits to be killed."""

    def __init__(self, backend: Backend, spec: tuple[str, str], *args: str) -> None:
        argv = [sys.executable, str(PROC), backend.name, spec[0], spec[1], *args]
        self.popen = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def expect(self, word: str) -> str:
        """Wait for a line starting with ``word``; return the rest of it."""
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline().strip()
        if not line.startswith(word):
            self.popen.kill()
            _, err = self.popen.communicate(timeout=10)
            raise AssertionError(f"helper said {line!r}, expected {word!r}; stderr: {err}")
        return line[len(word) :].strip()

    def kill(self) -> None:
        self.popen.kill()
        self.popen.wait(timeout=10)


@pytest.fixture
def spawn(backend: Backend, spec: tuple[str, str]) -> Iterator[Callable[..., Proc]]:
    """Start ``proc.py MODE ARGS`` against this test's store; killed at the end of the test."""
    started: list[Proc] = []

    def start(*args: str) -> Proc:
        proc = Proc(backend, spec, *args)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.popen.poll() is None:
            proc.kill()
        for stream in (proc.popen.stdout, proc.popen.stderr):
            if stream is not None:
                stream.close()
