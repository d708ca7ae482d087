"""`reconciler emulator` as a user runs it: first line, credentials, Ctrl-C, bad flags."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.emulator import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY

from .helpers import assert_error
from .signed import signed_request


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as in a terminal, even under a background job


@contextmanager
def serving(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    command = [sys.executable, "-m", "reconciler", "emulator", "--port", "0", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, preexec_fn=_default_sigint,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("listening on http://127.0.0.1:"), first
        yield process, first.removeprefix("listening on ")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BCE_")}
    return env | extra


def test_serves_with_the_documented_pair_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    db = tmp_path / "state" / "emulator.db"
    with serving("--db", str(db), env=clean_env()) as (process, url):
        response = signed_request(
            url, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, "GET", "/v1/cluster"
        )
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in err and "stopped" in err
    assert db.exists()


def test_credentials_from_the_environment_and_sigterm() -> None:
    env = clean_env(BCE_ACCESS_KEY_ID="env-ak", BCE_SECRET_ACCESS_KEY="env-sk")
    with serving("--db", ":memory:", env=env) as (process, url):
        assert signed_request(url, "env-ak", "env-sk", "GET", "/v1/cluster").status_code == 200
        default = signed_request(
            url, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, "GET", "/v1/cluster"
        )
        assert_error(default, "InvalidAccessKeyId")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "Traceback" not in err


def test_flags_win_over_the_environment() -> None:
    env = clean_env(BCE_ACCESS_KEY_ID="env-ak", BCE_SECRET_ACCESS_KEY="env-sk")
    flags = (
        "--db",
        ":memory:",
        "--access-key-id",
        "flag-ak",
        "--secret-access-key",
        "flag-sk",
        "--seed",
        "3",
    )
    with serving(*flags, env=env) as (process, url):
        assert signed_request(url, "flag-ak", "flag-sk", "GET", "/v1/cluster").status_code == 200
        assert_error(
            signed_request(url, "env-ak", "env-sk", "GET", "/v1/cluster"), "InvalidAccessKeyId"
        )


def test_bad_flags_exit_1_without_traceback() -> None:
    for args in (["--access-key-id", "only-ak"], ["--fault-rate", "2"]):
        command = [
            sys.executable,
            "-m",
            "reconciler",
            "emulator",
            "--port",
            "0",
            "--db",
            ":memory:",
            *args,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        assert done.returncode == 1, done
        assert "Traceback" not in done.stderr and done.stdout == ""
