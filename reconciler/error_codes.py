"""The seed's error-code table as data, and what the reconciler does with each code.

Source: ``shared/seed/000_22f8e456e40e9365.txt`` (BCE global codes and CCE/registry codes).
Every row of the seed is here, with its message and HTTP status copied exactly; the seed lists
``Cce.ClusterNotExit`` twice with identical text, so it appears once (a dict cannot hold two).
A few codes that are *not* in the seed are kept apart in ``EXTRA_CODES`` and marked with their
source; they are guesses about the real service and live only here.

This module is data only. The emulator imports it (to answer with the exact code, message
and status) and so does the client (to classify answers); it imports nothing from the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Disposition(StrEnum):
    """What the reconciler does when it receives a code."""

    TRANSIENT = "transient"  # retry with backoff
    WAIT = "wait"  # the resource is busy (creating/deleting): wait, then retry
    ALREADY_DONE = "already-done"  # on create/update: the object is already as asked
    GONE = "gone"  # the object does not exist: success for a delete
    FATAL = "fatal"  # do not retry; report


@dataclass(frozen=True)
class ErrorCode:
    code: str
    message: str
    status: int
    disposition: Disposition
    source: str = "seed"


T, W, A, G, F = (
    Disposition.TRANSIENT,
    Disposition.WAIT,
    Disposition.ALREADY_DONE,
    Disposition.GONE,
    Disposition.FATAL,
)

# (code, message, HTTP status, disposition), in the seed's order; one row per line, like the seed.
# fmt: off
_SEED_ROWS: tuple[tuple[str, str, int, Disposition], ...] = (
    # BCE global error codes
    ("AccessDenied", "Access denied.", 403, F),
    ("InappropriateJSON", "The JSON you provided was well-formed and valid, but not appropriate forthis operation.", 400, F),
    ("InternalError", "We encountered an internal error Please try again.", 500, T),
    ("InvalidAccessKeyId", "The Access Key ID you provided doesnot exist in our records.", 403, F),
    ("InvalidHTTPAuthHeader", "The Access Key ID you provided does notexist in our records.", 400, F),
    ("InvalidHTTPRequest", "There was an error in the body of your HTTP request.", 400, F),
    ("InvalidURI", "Could not parse the specified URI.", 400, F),
    ("MalformedJSON", "The JSON you provided was not well-formed.", 400, F),
    ("InvalidVersion", "The API version specified was invalid.", 404, F),
    ("OptInRequired", "A subscription for the service is required.", 403, F),
    ("PreconditionFailed", "The specified If-Match header doesn’tmatch the ETag header.", 412, F),
    ("RequestExpired", "Request has expired. Timestamp date is .", 400, F),
    ("IdempotentParameterMismatch", "The request uses the same client token asa previous, but non-identical request.", 403, F),
    ("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check yourSecret Access Key and signing method. Consultthe service documentation for details.", 400, F),
    # CCE / registry error codes
    ("RegistryAlreadyExist", "Namespace Already exist.", 400, A),
    ("RegistryNoAuth", "Authorization failed.", 404, F),
    ("RegistryInitFail", "Init Registry failed.", 404, F),
    ("RegistryUpdateFail", "Update user failed.", 404, F),
    ("RegistryUserNotFound", "Cannot found user.", 404, G),
    ("RegistryLackParams", "Bad request, lack param: user, namespace or public.", 404, F),
    ("RegistryOutOfLimit", "Create failed, because number of namespaces out of limit.", 404, F),
    ("RegistryNamespaceNotFound", "Cannot find Namespace.", 404, G),
    ("RegistryRepositoryNotFound", "Cannot find Repository.", 404, G),
    ("RegistryTagNotFound", "Cannot find tag.", 404, G),
    ("RegistryDelFail", "Delete manifest from registry failed.", 404, T),
    ("RegistryInvalidParams", "Invalid params to create image.", 404, F),
    ("RegistryNamespaceNotExist", "Namespace is not exist.", 404, G),
    ("RegistryImageNotExist", "Image is not exists.", 404, G),
    ("InternalServerError", "Unknown error, please try again later.", 500, T),
    ("Cce.warning.UserNotExist", "User not exist.", 404, G),
    ("Cce.ClusterDeleted", "Cluster is deleted already.", 500, G),
    ("Cce.ClusterCreating", "Cluster is creating.", 500, W),
    ("Cce.ClusterDeleting", "Cluster is deleting.", 500, W),
    ("Cce.ClusterNotExit", "Cluster is not exist.", 500, G),
    ("DuplicateCLusterUuid", "Generate cluster ID failed, please try again.", 500, T),
    ("Cce.DeleteIDToken", "BlbId or clientToken is null.", 500, F),
    ("Cce.UpdateBlbId", "BlbId is null.", 500, F),
    ("Cce.CreateTokenNULL", "ClientToken is null.", 500, F),
    ("Cce.DeleteIdNULL", "RouteRuled or clientToken is null.", 500, F),
    ("Cce.RouteInfoIdNULL", "RouteTableId or vpcId is null.", 500, F),
    ("Cce.ClusterNotExit", "Cluster is not exist.", 500, G),  # listed twice in the seed
    ("Cce.EncryptFail", "Encrypt passwd wrong.", 500, F),
    ("Cce.DecryptFail", "Decrypt passwd wrong.", 500, F),
    ("Cce.MoreThanOneUserPerAccount", "One can create only one user per account.", 500, F),
    ("Cce.ImageMetaNull", "ImageMeta is null.", 500, F),
    ("Cce.PasswdNotChange", "New passwd should not as old.", 500, A),
    ("Cce.UserExist", "Username already exist.", 500, A),
    ("Cce.ConfirmFail", "Passwd confirm fail.", 500, F),
    ("Cce.UserNoAuth", "User authorization failed.", 500, F),
    ("Cce.NamespaceRepositoryOrTagNull", "Namespace Repository or Tag is null.", 500, F),
    ("Cce.ImageTagFormatError", "image tag cannot be empty, should be 1-65 characters long, and can only contain numbers, letters and '- _ /.' and can only start with letter or number", 500, F),
    ("Cce.ImageRepositoryFormatError", "image repository cannot be empty, should be 1-65 characters long, and can only contain numbers, letters and '- _ /.' and can only start with letter", 500, F),
    ("Cce.NamespaceNull", "Namespace is null.", 500, F),
    ("Cce.UserNameNull", "Username cannot be empty.", 500, F),
    ("Cce.NamespaceRequestFormatError", "Username or namespace cannot be empty,namespace should be 1-65 characters long, and can only contain numbers and letters and '- _ /.' and only can start with letters.", 500, F),
    ("Cce.PasswordFormatError", "Password format error or password conformation not same as password.", 500, F),
    ("Cce.UserNameFormatError", "Username format error,your username must be between 4 and 30 characters long, and can only contain numbers and lowercase letters.", 500, F),
    ("Cce.WrongMainZone", "Main zone in order is illegal.", 500, F),
    ("Cce.namespaceOverQuota", "Over the namespace quota.", 500, F),
    ("Cce.slaveOverQuota", "Over the slave quota.", 500, F),
    ("Cce.ClusterOverQuota", "Over the cluster quota.", 500, F),
    ("Cce.ContainerNetConflict", "Container net conflict with vpc or other container nets in the same vpc.", 500, F),
    ("Cce.IllegalArguments", "Illegal arguments, check your input.", 500, F),
    ("Cce.UnsupportedPayType", "Unsupported payment method.", 500, F),
    ("Cce.OrderError", "Cluster order creation failed.", 500, F),
)
# fmt: on

# Not in the seed. Each is a guess about the real service, kept in this one place.
# fmt: off
EXTRA_CODES: tuple[ErrorCode, ...] = (
    # The Terraform provider treats this as "cluster not found" for v1 (status unknown; 404 assumed).
    ErrorCode("Cce.warning.ClusterNotExist", "Cluster is not exist.", 404, G, "terraform-provider"),
    # Throttling and overload: BCE's wording for these on CCE v1 is unknown.
    ErrorCode("RequestLimitExceeded", "Too many requests, please slow down.", 429, T, "inferred"),
    ErrorCode("ServiceUnavailable", "Service is temporarily unavailable, please try again.", 503, T, "inferred"),
)
# The CCE v2 API's codes (cce-v2-api.md, Baidu's common-errors page); which code a missing
# cluster or group gets is a guess kept in docs/api-contract.md.
V2_CODES: tuple[ErrorCode, ...] = (
    ErrorCode("cce.warning.ClusterNotFound", "Cluster not found", 404, G, "doc"),
    ErrorCode("cce.warning.NoSuchObject", "Target object not found.", 404, G, "doc"),
    ErrorCode("cce.warning.InvalidParam", "Some params are invalid.", 400, F, "doc"),
    ErrorCode("cce.warning.MalformedJSON", "The JSON you provided was not well-formed.", 400, F, "doc"),
    ErrorCode("cce.warning.OperationNotAllowed", "Operation not allowed.", 403, F, "doc; message inferred"),
    ErrorCode("cce.error.InternalError", "We encountered an internal error Please try again.", 500, T, "doc"),
)
# CCR Enterprise (ccr-enterprise-api.md section 1): neither the Go SDK nor Baidu's OpenAPI
# metadata lists an error code of this service. These are the emulator's choices, named in the
# style of the CCE codes and kept in this one place (docs/api-contract.md "CCR Enterprise").
CCR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode("Ccr.InstanceNotFound", "The instance does not exist.", 404, G, "emulator"),
    ErrorCode("Ccr.ProjectNotFound", "The project does not exist.", 404, G, "emulator"),
    ErrorCode("Ccr.ProjectAlreadyExists", "The project already exists.", 409, A, "emulator"),
    ErrorCode("Ccr.ProjectNotEmpty", "The project still holds repositories.", 412, F, "emulator"),
    ErrorCode("Ccr.RepositoryNotFound", "The repository does not exist.", 404, G, "emulator"),
    ErrorCode("Ccr.RobotNotFound", "The robot account does not exist.", 404, G, "emulator"),
    ErrorCode("Ccr.RobotAlreadyExists", "The robot account already exists.", 409, A, "emulator"),
    ErrorCode("Ccr.RegistryNotFound", "The remote registry does not exist.", 404, G, "emulator"),
    ErrorCode("Ccr.RegistryAlreadyExists", "The remote registry already exists.", 409, A, "emulator"),
    ErrorCode("Ccr.RegistryUnreachable", "The remote registry cannot be reached.", 400, F, "emulator"),
    ErrorCode("Ccr.WhitelistAlreadyExists", "The address is already in the whitelist.", 409, A, "emulator"),
    ErrorCode("Ccr.PrivateLinkNotFound", "The private link does not exist.", 404, G, "emulator"),
    ErrorCode("Ccr.PrivateLinkAlreadyExists", "The private link already exists.", 409, A, "emulator"),
    ErrorCode("Ccr.InvalidParameter", "Some parameters are invalid.", 400, F, "emulator"),
)
# fmt: on

# 5xx answers that say the request was refused before anything was done, so a create may be
# resent. Any other 5xx on a create leaves its outcome unknown (it may have been committed
# before the server failed): the caller reads before resending.
REFUSED_BEFORE_WORK: frozenset[str] = frozenset(
    {"ServiceUnavailable", "RequestLimitExceeded", "DuplicateCLusterUuid"}
)

SEED_CODES: tuple[ErrorCode, ...] = tuple(ErrorCode(c, m, s, d) for c, m, s, d in _SEED_ROWS)

CODES: dict[str, ErrorCode] = {
    e.code: e for e in (*SEED_CODES, *EXTRA_CODES, *V2_CODES, *CCR_CODES)
}


def lookup(code: str) -> ErrorCode | None:
    return CODES.get(code)


def get(code: str) -> ErrorCode:
    """The entry for a code the caller knows exists (the emulator's own answers)."""
    return CODES[code]
