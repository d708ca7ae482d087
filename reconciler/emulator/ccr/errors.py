"""The codes CCR Enterprise answers in the emulator, named by what went wrong.

For: one page that shows the service's error surface. Neither the Go SDK nor Baidu's OpenAPI
metadata lists a CCR error code (ccr-enterprise-api.md section 1): these are the emulator's
choices, with their statuses and messages in :data:`reconciler.error_codes.CCR_CODES`, listed in
docs/api-contract.md "CCR Enterprise". The model raises ``answer(errors.X, detail)``.
Not for: which rule fails (the model's).
"""

from __future__ import annotations

from reconciler import error_codes

from ..error_answer import ErrorAnswer

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
MALFORMED_JSON = "MalformedJSON"  # the BCE global code for a body that is not JSON


def answer(code: str, detail: str) -> ErrorAnswer:
    """Answer with ``code``, its table message naming what it is about."""
    message = error_codes.get(code).message.rstrip(".")
    return ErrorAnswer(code, detail, f"{message}: {detail}")


def invalid(detail: str) -> ErrorAnswer:
    return answer(INVALID, detail)
