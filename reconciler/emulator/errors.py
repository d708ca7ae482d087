"""The one exception the emulator's services raise to answer with an error code.

For: carrying a code of :mod:`reconciler.error_codes` up to the WSGI app, which turns it into
the ``{code, message, requestId}`` body with the table's status. The message is the table's,
unless the raise gives one (:meth:`ErrorAnswer.detailed` appends the detail, as CCE v2 does).
Each service names the codes it answers in its own ``errors.py``.
Not for: the reconciler's own exception tree (``reconciler.errors``), which the emulator must
not import.
"""

from __future__ import annotations

from reconciler import error_codes


class ErrorAnswer(Exception):
    """Answer the current request with ``code`` (a key of ``error_codes.CODES``)."""

    def __init__(self, code: str, detail: str = "", message: str | None = None) -> None:
        error_codes.get(code)  # fail loudly, at the raise site, on a code the table lacks
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        # replaces the table's message in the answer: where the table's is a template with the
        # value left out (RequestExpired's timestamp), or where the service names the detail
        self.message = message

    @classmethod
    def detailed(cls, code: str, detail: str = "") -> ErrorAnswer:
        """The table's message followed by ``: detail`` (CCE v2's ``Some params are invalid: ...``)."""
        if not detail:
            return cls(code)
        return cls(code, detail, f"{error_codes.get(code).message.rstrip('.')}: {detail}")
