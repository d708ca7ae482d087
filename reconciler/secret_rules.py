"""The rules a secret's value must follow, knowable without the cloud. Pure.

For: one place for every rule a declared secret can break (a registry user's password, a v2
node's ``adminPassword``), used by the plan (each kind's ``refusal``: a green plan is not refused
at apply for a password) and by ``validate --check-secrets`` (which knows the value too), so the
two never disagree. Not for: reading secrets (``reconciler.secrets``).
"""

from __future__ import annotations

from collections.abc import Callable

# Cce.PasswordFormatError's rule is not published for this API. Baidu's CCR user API asks for
# 8-20 characters with an upper-case letter, a lower-case letter and a digit; the CCE v1 example
# ("passwd@123") and the emulator accept 8-32 with a letter and a digit. The plan holds a
# password to both readings at once, so a green plan is never refused for its password
# (docs/api-contract.md, "Registry user password").
PASSWORD_RULE = (
    "8-20 ASCII characters with at least one upper-case letter, one lower-case letter and one digit"
)
ADMIN_PASSWORD_SPECIALS = "!@#$%^*()"  # cce-v2-api.md: the instance password rule


def user_password_problem(value: str) -> str | None:
    # ASCII classes: str.isupper() and friends also take "Ä" or "٣", which the cloud does not
    ok = (
        8 <= len(value) <= 20
        and value.isascii()
        and any("A" <= c <= "Z" for c in value)
        and any("a" <= c <= "z" for c in value)
        and any("0" <= c <= "9" for c in value)
    )
    return None if ok else f"password breaks Cce.PasswordFormatError's rule: {PASSWORD_RULE}"


def node_password_problem(value: str) -> str | None:
    ok = (
        8 <= len(value) <= 32
        and any(c.isalpha() for c in value)
        and any(c.isdigit() for c in value)
        and any(c in ADMIN_PASSWORD_SPECIALS for c in value)
    )
    if ok:
        return None
    return (
        "adminPassword breaks the v2 API's rule: 8-32 characters with letters, digits and "
        f"one of {ADMIN_PASSWORD_SPECIALS} (cce.warning.InvalidParam)"
    )


# (kind, secret name) -> the rule; a secret not listed has none known
RULES: dict[tuple[str, str], Callable[[str], str | None]] = {
    ("user", "password"): user_password_problem,
    ("instance_group", "adminPassword"): node_password_problem,
}


def secret_problem(kind: str, name: str, value: str) -> str | None:
    """Why the API would refuse ``value`` as secret ``name`` of a ``kind``, or None."""
    rule = RULES.get((kind, name))
    return rule(value) if rule else None
