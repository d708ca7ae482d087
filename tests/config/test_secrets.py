"""resolve_secret: environment and file references, and messages that never leak a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import SecretError
from reconciler.model import SecretRef
from reconciler.secrets import MAX_SECRET_BYTES, resolve_secret


def test_env_reference_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCR_TEST_SECRET", "p@ss word\n")
    assert resolve_secret(SecretRef(env="CCR_TEST_SECRET"), ".") == "p@ss word\n"


def test_unset_variable_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCR_TEST_SECRET", raising=False)
    with pytest.raises(SecretError, match="^environment variable CCR_TEST_SECRET is not set$"):
        resolve_secret(SecretRef(env="CCR_TEST_SECRET"), ".")


def test_empty_variable_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCR_TEST_SECRET", "")
    with pytest.raises(SecretError, match="is empty"):
        resolve_secret(SecretRef(env="CCR_TEST_SECRET"), ".")


@pytest.mark.parametrize(
    ("content", "value"),
    [
        (b"s3cret\n", "s3cret"),
        (b"s3cret", "s3cret"),
        (b"s3cret\r\n", "s3cret"),
        (b"s3cret\n\n", "s3cret\n"),
        (b" padded \n", " padded "),
    ],
)
def test_file_reference_strips_exactly_one_trailing_newline(
    tmp_path: Path, content: bytes, value: str
) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "p.txt").write_bytes(content)
    assert resolve_secret(SecretRef(file="secrets/p.txt"), str(tmp_path)) == value


def test_file_reference_is_relative_to_the_secrets_base_unless_absolute(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text("abs\n")
    assert resolve_secret(SecretRef(file=str(tmp_path / "p.txt")), "/nonexistent") == "abs"


def test_unreadable_file_names_the_reference(tmp_path: Path) -> None:
    with pytest.raises(
        SecretError, match='^cannot read secret file "nope.txt": No such file or directory$'
    ):
        resolve_secret(SecretRef(file="nope.txt"), str(tmp_path))
    with pytest.raises(SecretError, match="cannot read secret file"):
        resolve_secret(SecretRef(file="."), str(tmp_path))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\n", "is empty"),
        (b"\xffs3cret-bytes\n", "is not valid UTF-8"),
        (b"x" * (MAX_SECRET_BYTES + 1), "is larger than"),
    ],
)
def test_bad_secret_files_are_refused_without_their_content(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    (tmp_path / "p.txt").write_bytes(content)
    with pytest.raises(SecretError) as failed:
        resolve_secret(SecretRef(file="p.txt"), str(tmp_path))
    assert (
        problem in str(failed.value)
        and "s3cret" not in str(failed.value)
        and "xxx" not in str(failed.value)
    )


def test_an_empty_reference_is_an_error() -> None:
    with pytest.raises(SecretError):
        resolve_secret(SecretRef(), ".")
