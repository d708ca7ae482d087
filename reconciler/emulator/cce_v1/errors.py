"""The codes CCE v1 clusters and nodes answer, named by what went wrong.

For: one page that shows the service's error surface (cce-v1-api.md, docs/api-contract.md
"Clusters"); most refusals are ``Cce.IllegalArguments`` with a detail (:func:`illegal`).
Statuses and messages are in :mod:`reconciler.error_codes`.
Not for: which rule fails (the model's, and :mod:`.orders`).
"""

from __future__ import annotations

from ..errors import ErrorAnswer
from ..params import BCE_JSON, Reader

# Requests are read the BCE way: a wrong JSON type is InappropriateJSON, bad JSON MalformedJSON.
READ: Reader = BCE_JSON

ILLEGAL_ARGUMENTS = "Cce.IllegalArguments"
CLUSTER_NOT_FOUND = "Cce.warning.ClusterNotExist"
CLUSTER_CREATING = "Cce.ClusterCreating"
CLUSTER_DELETING = "Cce.ClusterDeleting"
CLUSTER_DELETED = "Cce.ClusterDeleted"
CONTAINER_NET_CONFLICT = "Cce.ContainerNetConflict"
CLUSTER_QUOTA = "Cce.ClusterOverQuota"
NODE_QUOTA = "Cce.slaveOverQuota"
WRONG_MAIN_ZONE = "Cce.WrongMainZone"
UNSUPPORTED_PAY_TYPE = "Cce.UnsupportedPayType"


def illegal(detail: str) -> ErrorAnswer:
    """``Cce.IllegalArguments``; the detail is for logs (the answer keeps the table's message)."""
    return ErrorAnswer(ILLEGAL_ARGUMENTS, detail)
