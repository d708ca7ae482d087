"""The codes CCR Enterprise answers in the emulator, named by what went wrong.

For: one page that shows the service's error surface. Neither the Go SDK nor Baidu's OpenAPI
metadata lists a CCR error code (ccr-enterprise-api.md section 1): these are the emulator's
choices, with their statuses and messages in :data:`reconciler.error_codes.CCR_CODES`, listed in
docs/api-contract.md "CCR Enterprise". The model raises ``answer(errors.X, detail)``.
Not for: which rule fails (the model's).

:data:`READ` is the service's dialect for reading requests.
"""

from __future__ import annotations

from ..errors import ErrorAnswer
from ..params import Reader

INSTANCE_NOT_FOUND = "Ccr.InstanceNotFound"
PROJECT_NOT_FOUND = "Ccr.ProjectNotFound"
PROJECT_EXISTS = "Ccr.ProjectAlreadyExists"
PROJECT_NOT_EMPTY = "Ccr.ProjectNotEmpty"
REPOSITORY_NOT_FOUND = "Ccr.RepositoryNotFound"
ROBOT_NOT_FOUND = "Ccr.RobotNotFound"
ROBOT_EXISTS = "Ccr.RobotAlreadyExists"
REGISTRY_NOT_FOUND = "Ccr.RegistryNotFound"
REGISTRY_EXISTS = "Ccr.RegistryAlreadyExists"
REGISTRY_UNREACHABLE = "Ccr.RegistryUnreachable"
WHITELIST_EXISTS = "Ccr.WhitelistAlreadyExists"
LINK_NOT_FOUND = "Ccr.PrivateLinkNotFound"
LINK_EXISTS = "Ccr.PrivateLinkAlreadyExists"
INVALID = "Ccr.InvalidParameter"


def answer(code: str, detail: str) -> ErrorAnswer:
    """Answer with ``code``, its table message naming what it is about."""
    return ErrorAnswer.detailed(code, detail)


def invalid(detail: str) -> ErrorAnswer:
    return answer(INVALID, detail)


# How the service reads requests: keys like Go's encoding/json (exact, else case-insensitive),
# a value of the wrong type Ccr.InvalidParameter, a body that is not JSON MalformedJSON (the
# BCE code), an empty body {} (deletes carry none).
READ = Reader(
    wrong_type=invalid,
    malformed=lambda detail: ErrorAnswer("MalformedJSON", detail),
    fold_case=True,
)
