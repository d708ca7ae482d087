"""The codes CCE v2 answers, and how it reads requests.

For: the v2 codes (in :mod:`reconciler.error_codes` with the others, from cce-v2-api.md and
Baidu's common-errors page), whose answers name the detail (``Some params are invalid:
cluster.k8sVersion ...``); and :data:`READ`, the service's dialect: request keys matched like
Go's ``encoding/json`` (exact, else case-insensitive), a wrong type ``InvalidParam``, a body
that is not a JSON object ``MalformedJSON``. Which code a missing cluster or group gets is a
guess kept in docs/api-contract.md.
Not for: which rule fails (:mod:`.specs`, :mod:`.models`).
"""

from __future__ import annotations

from ..errors import ErrorAnswer
from ..params import Reader

CLUSTER_NOT_FOUND = "cce.warning.ClusterNotFound"
NO_SUCH_OBJECT = "cce.warning.NoSuchObject"
INVALID_PARAM = "cce.warning.InvalidParam"
MALFORMED_JSON = "cce.warning.MalformedJSON"
NOT_ALLOWED = "cce.warning.OperationNotAllowed"


def invalid(detail: str) -> ErrorAnswer:
    return ErrorAnswer.detailed(INVALID_PARAM, detail)


def malformed(detail: str) -> ErrorAnswer:
    return ErrorAnswer.detailed(MALFORMED_JSON, detail)


def not_allowed(detail: str) -> ErrorAnswer:
    return ErrorAnswer.detailed(NOT_ALLOWED, detail)


def no_such_object(detail: str) -> ErrorAnswer:
    return ErrorAnswer.detailed(NO_SUCH_OBJECT, detail)


def cluster_not_found(cluster_id: str) -> ErrorAnswer:
    return ErrorAnswer.detailed(CLUSTER_NOT_FOUND, f"ClusterID [{cluster_id}] not exists")


def group_not_found(cluster_id: str, group_id: str) -> ErrorAnswer:
    detail = f"instance group [{group_id}] of [{cluster_id}] not exists"
    return ErrorAnswer.detailed(NO_SUCH_OBJECT, detail)


READ = Reader(wrong_type=invalid, malformed=malformed, fold_case=True, strict_body=True)
