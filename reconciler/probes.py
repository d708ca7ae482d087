"""Read-only probes of a target, the engine of ``reconciler doctor``: does it accept the
credentials, is this machine's clock close enough to the server's, and does each answer the
reconciler reads have the shape the client expects?

For: :class:`Doctor`, which runs probes against one client and turns each answer or error into a
:class:`Check` row (a shape mismatch names the key and lists the keys the answer had), and
:class:`Probe`, one check a kind declares (``Kind.probes``): its name, its phase and what it
runs. A :class:`Doctor` stops at an answer that would fail every later request the same way
(refused credentials, an unreachable target).
Not for: changing anything (only GETs are sent, each list read one page deep), knowing which
kinds exist, or printing (``commands/doctor.py`` runs the registry's probes phase by phase).
The kinds import this module to declare their probes (it imports no kind), and a kind is
loaded to validate a configuration: the HTTP client (``reconciler.client.v1``) is imported
when a probe runs, never when one is declared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from reconciler.errors import (
    ApiError,
    AuthError,
    BadResponseError,
    ServerError,
    ShapeError,
)
from reconciler.records import frozen_record

if TYPE_CHECKING:
    from reconciler.client.transport import ApiResponse
    from reconciler.client.v1 import CceClient, Page
    from reconciler.model import DesiredState

OK, MISMATCH, FAILED, WARNING, SKIPPED, NOTE = (
    "ok",
    "mismatch",
    "failed",
    "warning",
    "skipped",
    "note",
)
FAILING = frozenset({MISMATCH, FAILED})
# Signatures are refused 15 minutes ahead of the server (cce-v1-api.md section 3); warn well
# before that.
SKEW_WARNING_S = 60.0
SKEW_FAILURE_S = 15 * 60.0


class Phase(IntEnum):
    """When a probe runs: every kind's probes of one phase before any of the next."""

    REACH = 1  # the first signed request: credentials, the clock and one list's shape
    LISTS = 2  # the first page of each list a refresh reads
    NOTES = 3  # single GETs the client avoids, whose answers are only shown
    DETAILS = 4  # lists read per object (a cluster's nodes)
    FACTS = 5  # what refusals read besides objects (quota, versions)


@frozen_record
class Probe:
    """One check of ``reconciler doctor``, declared by a kind."""

    name: str  # its row's name: "namespaces"
    phase: Phase
    run: Callable[[Doctor], None]  # adds its row(s) to the doctor


@dataclass
class Check:
    name: str
    status: str
    request: str
    detail: str
    request_id: str = ""
    keys: list[str] | None = None  # the answer's top-level keys, on a mismatch


@dataclass
class Doctor:
    """Runs the probes in order against one client; later probes use what earlier ones read
    (``found``, by the name of the probe that read it)."""

    client: CceClient
    checks: list[Check] = field(default_factory=list)
    stopped: bool = False
    found: dict[str, Any] = field(default_factory=dict)
    # what the configuration declares (None or empty: every API is checked), for the probes of
    # an API only some declarations use (a cluster autoscaler, node upgrades)
    desired: DesiredState | None = None

    def uses(self, kind: str, key: str) -> bool:
        """True when a declared ``kind`` sets ``key`` (always, for an empty configuration)."""
        if self.desired is None or not self.desired.resources:
            return True
        return any(key in spec.attrs for spec in self.desired.of_kind(kind))

    def add(self, check: Check) -> None:
        self.checks.append(check)

    @contextmanager
    def answer(self, name: str, method_path: str) -> Iterator[None]:
        """Turn the errors of one check into its row; an auth or connection failure stops the
        rest (every later request would fail the same way)."""
        try:
            yield
        except BadResponseError as exc:  # not JSON, an HTML page, too large ...
            self.add(Check(name, MISMATCH, method_path, exc.message, exc.request_id))
        except AuthError as exc:
            self.add(Check(name, FAILED, method_path, _auth_detail(exc), exc.request_id))
            self.stopped = True
        except ServerError as exc:
            detail = f"{exc.code or 'HTTP ' + str(exc.status)}: {exc.message}"
            self.add(Check(name, FAILED, method_path, detail, exc.request_id))
        except ApiError as exc:
            self.add(Check(name, FAILED, method_path, str(exc), exc.request_id))
            self.stopped = True

    def get(self, path: str, query: dict[str, str | None] | None = None) -> ApiResponse:
        return self.client.transport.request("GET", path, query)

    def shaped(
        self,
        name: str,
        response: ApiResponse,
        parse: Callable[[Any], Any],
        path: str,
        summary: Callable[[Any], str],
    ) -> Any:
        """Parse an answer the way the client does; a mismatch is a row with the raw keys."""
        where = f"GET {path}"
        try:
            value = parse(response.data)
        except ShapeError as exc:
            keys = sorted(response.data) if isinstance(response.data, dict) else None
            self.add(Check(name, MISMATCH, where, exc.message, response.request_id, keys))
            return None
        self.add(Check(name, OK, where, summary(value), response.request_id))
        return value

    def first_page(
        self,
        name: str,
        path: str,
        query: dict[str, str | None],
        key: str,
        parse: Callable[[Any], Any],
    ) -> Page[Any] | None:
        from reconciler.client import v1

        response = self.get(path, v1.page_query(query))
        return self.shaped(
            name, response, lambda d: v1.parse_page(d, key, parse), path, page_summary(key)
        )

    def note_shape(
        self,
        name: str,
        path: str,
        response: ApiResponse,
        parse: Callable[[Any], Any],
        instead: str,
    ) -> None:
        """A single GET the client does not rely on: say whether it answers with the object."""
        try:
            parse(response.data)
            detail = "answers with the object (the client reads the list all the same)"
        except ShapeError as exc:
            detail = (
                f"answers without the object ({exc.message}); the client uses {instead} instead"
            )
        keys = sorted(response.data) if isinstance(response.data, dict) else None
        self.add(Check(name, NOTE, f"GET {path}", detail, response.request_id, keys))

    def optional(
        self,
        name: str,
        path: str,
        query: dict[str, str | None] | None,
        missing: str,
        parse: Callable[[Any], Any],
        summary: Callable[[Any], str],
    ) -> None:
        """A GET known only from third-party code, which may not exist: a server error is a
        warning (``missing``: what is not there), not a failure."""
        where = f"GET {path}{'?' + next(iter(query)) if query else ''}"
        with self.answer(name, where):
            try:
                response = self.get(path, dict(query) if query else None)
            except AuthError:
                raise
            except ServerError as exc:
                detail = f"no {missing} here ({exc.code or exc.status}: {exc.message})"
                self.add(Check(name, WARNING, where, detail, exc.request_id))
                return
            self.shaped(name, response, parse, where.removeprefix("GET "), summary)


def _auth_detail(exc: AuthError) -> str:
    hint = ""
    if exc.code == "RequestExpired":
        hint = " (this machine's clock is probably off: signatures carry the local time)"
    elif exc.code in ("InvalidAccessKeyId", "SignatureDoesNotMatch"):
        hint = " (check BCE_ACCESS_KEY_ID / BCE_SECRET_ACCESS_KEY)"
    return f"credentials refused: {exc.code}: {exc.message}{hint}"


def page_summary(key: str) -> Callable[[Page[Any]], str]:
    def summary(page: Page[Any]) -> str:
        more = ", more pages follow" if page.is_truncated else ""
        return f"{key}: {len(page.items)} on the first page{more}"

    return summary


def check_credentials(
    doctor: Doctor, path: str, query: dict[str, str | None] | None = None
) -> ApiResponse | None:
    """One signed GET of ``path`` (with the v1 list query unless ``query`` is given): the
    credentials and the clock at once, said by the first probe that reaches the target; its
    answer (None when it was refused), for the caller to check its shape."""
    from reconciler.client import v1

    reached = any(c.name == "credentials" for c in doctor.checks)
    where = f"GET {path}"
    response = None
    with doctor.answer("credentials", where):
        response = doctor.get(path, v1.page_query({}) if query is None else query)
        if not reached:
            doctor.add(
                Check(
                    "credentials", OK, where, "a signed request was accepted", response.request_id
                )
            )
    if response is not None and not reached:
        check_clock(doctor, response)
    return response


def check_clock(doctor: Doctor, response: ApiResponse) -> None:
    from datetime import UTC, datetime  # when doctor runs: validate loads the kinds
    from email.utils import parsedate_to_datetime

    date = response.headers.get("Date", "")
    try:
        server = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        doctor.add(Check("clock", WARNING, "Date header", f"no usable Date header ({date!r})"))
        return
    if server.tzinfo is None:
        server = server.replace(tzinfo=UTC)
    skew = (datetime.now(UTC) - server).total_seconds()
    if abs(skew) < 2:  # Date has whole seconds
        detail = f"in step with the server (Date: {date})"
    else:
        ahead = "ahead of" if skew > 0 else "behind"
        detail = f"this machine is {abs(skew):.0f} s {ahead} the server (Date: {date})"
    if abs(skew) >= SKEW_FAILURE_S:
        status = FAILED
        detail += "; signatures will be refused (RequestExpired): set the clock"
    elif abs(skew) >= SKEW_WARNING_S:
        status = WARNING
        detail += "; signatures are still accepted, but set the clock"
    else:
        status = OK
    doctor.add(Check("clock", status, "Date header", detail))


NOT_USED = "not used by this configuration"


# --- CCE v2 (cce-v2-api.md; cce-v2-day2-api.md) -------------------------------------------------

V2_FIRST_PAGE: dict[str, str | None] = {"pageNo": "1", "pageSize": "10"}


def v2_reader(response: ApiResponse, data: Any, path: str) -> Any:
    from reconciler.client.answers import Origin, Reader

    return Reader(data, Origin("GET", path, response.status, response.request_id))


def v2_list(
    doctor: Doctor,
    name: str,
    path: str,
    wrapper: str,
    list_key: str,
    read: Callable[[Any], Any],
    response: ApiResponse | None = None,
) -> list[Any] | None:
    """The first page of a v2 list, read as the client reads every page (``response``: its
    answer, when the probe already has it)."""
    answer = response or doctor.get(path, dict(V2_FIRST_PAGE))

    def parse(data: Any) -> list[Any]:
        page = v2_reader(answer, data, path).obj(wrapper)
        count = page.integer("totalCount")
        items = page.opt_objects(list_key) if count == 0 else page.objects(list_key)
        return [read(item) for item in items]

    found: list[Any] | None = doctor.shaped(
        name, answer, parse, path, lambda items: f"{list_key}: {len(items)} on the first page"
    )
    return found


def v2_object(
    doctor: Doctor,
    name: str,
    path: str,
    read: Callable[[Any], Any],
    summary: Callable[[Any], str],
    body: Any = None,
) -> Any:
    """One v2 GET (``body``: the add-on list's JSON body), read as the client reads it."""
    response = doctor.client.transport.request("GET", path, None, body)
    return doctor.shaped(
        name, response, lambda data: read(v2_reader(response, data, path)), path, summary
    )


def v2_cluster(doctor: Doctor) -> Any:
    """The running v2 cluster the per-cluster probes read (a declared one first), or None."""
    return doctor.found.get("v2 cluster")
