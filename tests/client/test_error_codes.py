"""The seed's error tables, row by row, against ``reconciler.error_codes``; and every
disposition against the exception class the client raises for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import error_codes, errors
from reconciler.error_codes import Disposition

REPO = Path(__file__).resolve().parents[2]
SEED_FILES = [
    REPO / "tests" / "data" / "seed.txt",
    *sorted((REPO.parent / "shared" / "seed").glob("*.txt")),
]
# The two seed tables that list error codes; the other tables describe headers.
ERROR_TABLE_HEADERS = ("Error return codes", "Error code")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def seed_rows(text: str) -> list[tuple[str, str, int]]:
    """(code, message, status) of every row of the seed's error-code tables, in order."""
    rows: list[tuple[str, str, int]] = []
    in_table = False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if cells[0] in ERROR_TABLE_HEADERS:
            in_table = True
        elif in_table and not set(cells[0]) <= set("-"):
            rows.append((cells[0], cells[1], int(cells[2].split()[0])))
    return rows


@pytest.fixture(params=[p for p in SEED_FILES if p.exists()], ids=lambda p: str(p.name))
def seed_text(request: pytest.FixtureRequest) -> str:
    path: Path = request.param
    return path.read_text(encoding="utf-8")


def test_the_bundled_seed_copy_exists() -> None:
    assert SEED_FILES[0].exists()


def test_the_parser_finds_both_tables(seed_text: str) -> None:
    codes = [code for code, _, _ in seed_rows(seed_text)]
    assert codes[0] == "AccessDenied" and codes[-1] == "Cce.OrderError"
    assert "SignatureDoesNotMatch" in codes and "RegistryAlreadyExist" in codes
    assert len(codes) == 65
    assert codes.count("Cce.ClusterNotExit") == 2


def test_every_seed_row_is_in_the_table(seed_text: str) -> None:
    for code, message, status in seed_rows(seed_text):
        entry = error_codes.lookup(code)
        assert entry is not None, f"{code} is missing from error_codes.CODES"
        assert (entry.message, entry.status) == (message, status), code
        assert entry.source == "seed"


def test_the_duplicate_row_is_identical_and_kept_once(seed_text: str) -> None:
    dupes = {row for row in seed_rows(seed_text) if row[0] == "Cce.ClusterNotExit"}
    assert dupes == {("Cce.ClusterNotExit", "Cluster is not exist.", 500)}
    assert sum(e.code == "Cce.ClusterNotExit" for e in error_codes.CODES.values()) == 1


def test_the_table_holds_nothing_but_the_seed_and_the_marked_extras(seed_text: str) -> None:
    seed_codes = {code for code, _, _ in seed_rows(seed_text)}
    marked = (*error_codes.EXTRA_CODES, *error_codes.V2_CODES, *error_codes.CCR_CODES)
    extras = {e.code for e in marked}
    assert set(error_codes.CODES) == seed_codes | extras
    assert not seed_codes & extras
    assert len(extras) == len(marked)  # no extra code shadows another
    assert all(e.source != "seed" for e in marked)


AUTH_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "InvalidHTTPAuthHeader",
    "RequestExpired",
    "SignatureDoesNotMatch",
    "OptInRequired",
    "RegistryNoAuth",
    "Cce.UserNoAuth",
}
CLASS_FOR: dict[Disposition, type[errors.ServerError]] = {
    Disposition.TRANSIENT: errors.TransientServerError,
    Disposition.WAIT: errors.BusyError,
    Disposition.ALREADY_DONE: errors.AlreadyExistsError,
    Disposition.GONE: errors.NotFoundError,
    Disposition.FATAL: errors.FatalServerError,
}


@pytest.mark.parametrize("entry", list(error_codes.CODES.values()), ids=lambda e: e.code)
def test_every_code_maps_to_its_class(entry: error_codes.ErrorCode) -> None:
    expected = errors.AuthError if entry.code in AUTH_CODES else CLASS_FOR[entry.disposition]
    assert errors.server_error_class(entry.status, entry.code) is expected
    exc = errors.server_error(entry.status, entry.code, entry.message, "rid-1", "GET", "/v1/x")
    assert type(exc) is expected
    assert (exc.status, exc.code, exc.message, exc.request_id) == (
        entry.status,
        entry.code,
        entry.message,
        "rid-1",
    )


@pytest.mark.parametrize(
    ("code", "disposition"),
    [
        ("InternalError", Disposition.TRANSIENT),
        ("InternalServerError", Disposition.TRANSIENT),
        ("DuplicateCLusterUuid", Disposition.TRANSIENT),
        ("RequestLimitExceeded", Disposition.TRANSIENT),
        ("ServiceUnavailable", Disposition.TRANSIENT),
        ("Cce.ClusterCreating", Disposition.WAIT),
        ("Cce.ClusterDeleting", Disposition.WAIT),
        ("RegistryAlreadyExist", Disposition.ALREADY_DONE),
        ("Cce.UserExist", Disposition.ALREADY_DONE),
        ("RegistryNamespaceNotFound", Disposition.GONE),
        ("RegistryTagNotFound", Disposition.GONE),
        ("Cce.ClusterDeleted", Disposition.GONE),
        ("Cce.ClusterNotExit", Disposition.GONE),
        ("Cce.warning.ClusterNotExist", Disposition.GONE),
        ("Cce.warning.UserNotExist", Disposition.GONE),
        ("Cce.ClusterOverQuota", Disposition.FATAL),
        ("Cce.UserNameFormatError", Disposition.FATAL),
    ],
)
def test_design_dispositions(code: str, disposition: Disposition) -> None:
    assert error_codes.get(code).disposition is disposition


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, errors.TransientServerError),
        (502, errors.TransientServerError),
        (503, errors.TransientServerError),
        (429, errors.TransientServerError),
        (401, errors.AuthError),
        (403, errors.AuthError),
        (400, errors.FatalServerError),
        (404, errors.FatalServerError),
    ],
)
def test_unknown_codes_are_classified_by_status(
    status: int, expected: type[errors.ServerError]
) -> None:
    assert errors.server_error_class(status, "Cce.SomethingNew") is expected
