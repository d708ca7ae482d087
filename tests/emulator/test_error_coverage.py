"""Every error code the emulator can answer is exercised by an emulator test."""

from __future__ import annotations

import ast
from pathlib import Path

from reconciler import error_codes

HERE = Path(__file__).resolve().parent
EMULATOR = HERE.parents[1] / "reconciler" / "emulator"
# Raised by reconciler.client.signer.verify on the emulator's behalf.
AUTH_CODES = {
    "InvalidHTTPAuthHeader",
    "InvalidAccessKeyId",
    "RequestExpired",
    "SignatureDoesNotMatch",
}


def codes_in_emulator() -> set[str]:
    """String constants of the emulator's source that are codes of the table."""
    found = set(AUTH_CODES)
    for path in EMULATOR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and error_codes.lookup(node.value)
            ):
                found.add(node.value)
    return found


def test_the_emulator_answers_many_codes() -> None:
    assert len(codes_in_emulator()) >= 35


def test_every_code_the_emulator_answers_is_tested() -> None:
    tests = "\n".join(
        p.read_text(encoding="utf-8")
        for p in HERE.glob("test_*.py")
        if p.name != Path(__file__).name
    )
    untested = sorted(code for code in codes_in_emulator() if f'"{code}"' not in tests)
    assert untested == []
