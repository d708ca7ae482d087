"""The one exception tree of the reconciler, and the exit code each branch maps to.

::

    ReconcilerError                      exit 1 unless noted
    ├── UsageError                       bad command line
    ├── ConfigError                      invalid configuration (carries diagnostics)
    │   └── UnreadableSecretsError       declared secrets that cannot be read, at their places
    ├── SecretError                      a secret reference cannot be resolved
    ├── StateError                       unreadable / inconsistent state
    │   ├── StateLockedError             exit 4: the state lock is held by someone else
    │   └── LockLostError                exit 4: this run no longer holds the lock (fenced)
    ├── RefusedError                     exit 3: protected resource, blast-radius guard, conflict
    ├── StalePlanError                   exit 5: a saved plan no longer matches the live state
    ├── TerraformStateError              a Terraform state that cannot be converted
    └── ApiError                         an answer (or no answer) from the BCE API
        ├── ServerError                  the server answered with an error code
        │   ├── TransientServerError     retryable (InternalError, 5xx, 429 ...)
        │   ├── BusyError                the resource is busy (Cce.ClusterCreating ...)
        │   ├── AlreadyExistsError       already done (RegistryAlreadyExist, Cce.UserExist ...)
        │   ├── NotFoundError            gone (*NotFound, *NotExist, Cce.ClusterDeleted)
        │   ├── AuthError                credentials / signature / permission: never retried
        │   └── FatalServerError         everything else the server refuses
        ├── BadResponseError             the answer could not be understood (HTML, bad JSON)
        │   ├── ShapeError               a key missing, null or of the wrong type in an answer
        │   └── AnswerTooLargeError      the answer is larger than the configured maximum
        ├── DeadlineExceededError        no whole answer within the per-request deadline
        ├── ConnectionFailedError        no answer at all (refused, reset, timeout)
        ├── OutcomeUnknownError          a mutation was sent but its answer was lost
        ├── RetryBudgetExhaustedError    too many retries in this run: the endpoint looks dead
        └── ServicePausedError           not sent: this process paused the host after 429/503s

Every ``ApiError`` carries the HTTP status, the error code, the message and the request id
(any of them may be empty when the server never answered). Which class a code maps to is
decided in one place, :func:`server_error`, from the data table in ``error_codes``.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.error_codes import Disposition, lookup

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_REFUSED = 3
EXIT_LOCKED = 4
EXIT_STALE_PLAN = 5
EXIT_NEEDS_ALLOW_DELETES = 6  # plan --detailed-exitcode: apply would need --allow-deletes

_AUTH_CODES = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "InvalidHTTPAuthHeader",
        "RequestExpired",
        "SignatureDoesNotMatch",
        "OptInRequired",
        "RegistryNoAuth",
        "Cce.UserNoAuth",
    }
)


class ReconcilerError(Exception):
    exit_code = EXIT_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ReconcilerError):
    pass


class ConfigError(ReconcilerError):
    """Invalid configuration; ``diagnostics`` holds every problem found, already formatted."""

    def __init__(self, diagnostics: list[str]) -> None:
        super().__init__("\n".join(diagnostics))
        self.diagnostics = diagnostics


class UnreadableSecretsError(ConfigError):
    """Declared secrets a run cannot read: one ``PATH:LINE:COLUMN: error: ...`` per secret, in
    file and line order, like every other configuration problem."""


class SecretError(ReconcilerError):
    pass


class StateError(ReconcilerError):
    pass


class StateLockedError(StateError):
    exit_code = EXIT_LOCKED


class LockLostError(StateError):
    """This run's lock was released or taken over, or the state changed under it: stop before
    the next mutation; the next run finishes this run's journal."""

    exit_code = EXIT_LOCKED


class RefusedError(ReconcilerError):
    exit_code = EXIT_REFUSED


class StalePlanError(ReconcilerError):
    exit_code = EXIT_STALE_PLAN


class TerraformStateError(ReconcilerError):
    """A Terraform state ``import-terraform`` cannot convert: not JSON, another format or
    version, empty, nothing convertible, or two instances naming one object here."""


class RequestsStopped(ReconcilerError):
    """A request asked of a transport told to send no more (``Transport.stop_sending``: a
    refresh whose run ended)."""


class ApiError(ReconcilerError):
    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        code: str = "",
        request_id: str = "",
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method else ""
        parts = [p for p in (f"HTTP {self.status}" if self.status else "", self.code) if p]
        head = f"{' '.join(parts)}: " if parts else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}{head}{self.message}{rid}"


class ServerError(ApiError):
    pass


class TransientServerError(ServerError):
    pass


class BusyError(ServerError):
    pass


class AlreadyExistsError(ServerError):
    pass


class NotFoundError(ServerError):
    pass


# What a user can check for an answer that refuses the request's signature or its key
_AUTH_HINTS = {
    "InvalidAccessKeyId": "check BCE_ACCESS_KEY_ID (an access key of this account and region)",
    "SignatureDoesNotMatch": "check BCE_SECRET_ACCESS_KEY: it must be the secret of BCE_ACCESS_KEY_ID",
    "InvalidHTTPAuthHeader": "check BCE_ACCESS_KEY_ID and BCE_SECRET_ACCESS_KEY",
    "RequestExpired": "check this machine's clock: every request is signed with the time",
}


class AuthError(ServerError):
    def __str__(self) -> str:
        hint = _AUTH_HINTS.get(self.code)
        return f"{super().__str__()}; {hint}" if hint else super().__str__()


class FatalServerError(ServerError):
    pass


class BadResponseError(ApiError):
    pass


class ShapeError(BadResponseError):
    """A key the tool needs is missing, ``null`` or of the wrong type: nothing is decided from it."""


class AnswerTooLargeError(BadResponseError):
    pass


class ConnectionFailedError(ApiError):
    pass


class DeadlineExceededError(ConnectionFailedError):
    """The whole answer did not arrive within the per-request deadline (a trickling server)."""


class OutcomeUnknownError(ApiError):
    pass


class RetryBudgetExhaustedError(ApiError):
    pass


class ServicePausedError(ApiError):
    """Not sent: the host answered 429/503 too often in a row and this process paused it
    (``client.budget.HostBudget``)."""


_BY_DISPOSITION: dict[Disposition, type[ServerError]] = {
    Disposition.TRANSIENT: TransientServerError,
    Disposition.WAIT: BusyError,
    Disposition.ALREADY_DONE: AlreadyExistsError,
    Disposition.GONE: NotFoundError,
    Disposition.FATAL: FatalServerError,
}


def server_error_class(status: int, code: str) -> type[ServerError]:
    """The one place where an HTTP status and an error code become an exception class."""
    if code in _AUTH_CODES:
        return AuthError
    entry = lookup(code)
    if entry is not None:
        return _BY_DISPOSITION[entry.disposition]
    if status == 429 or status >= 500:
        return TransientServerError
    if status in (401, 403):
        return AuthError
    return FatalServerError


def server_error(
    status: int, code: str, message: str, request_id: str, method: str = "", path: str = ""
) -> ServerError:
    cls = server_error_class(status, code)
    return cls(message, status=status, code=code, request_id=request_id, method=method, path=path)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word`` (difflib's ratio, at least 0.6), for the "did you mean"
    of a message naming something unknown: a command, an address."""
    import difflib  # only for a message: every start imports this module

    found = difflib.get_close_matches(word, list(choices), n=1)
    return found[0] if found else None
