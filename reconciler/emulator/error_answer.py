"""The one exception the emulator's model and handlers raise to answer with an error code.

For: carrying a code of :mod:`reconciler.error_codes` up to the WSGI app, which turns it into
the ``{code, message, requestId}`` body with the table's status and message.
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
        # replaces the table's message in the answer, where the table's is a template with
        # the value left out (RequestExpired's timestamp)
        self.message = message
