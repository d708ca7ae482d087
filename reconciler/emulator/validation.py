"""Name, password and network formats, from the seed's error messages and the wire contract.

For: pure checks shared by the registry and cluster models. Not for: deciding which error
code a failure maps to (the models do that, next to the rule that needs it).
"""

from __future__ import annotations

import ipaddress
import re

# Cce.UserNameFormatError: 4-30 characters, digits and lower-case letters.
USERNAME = re.compile(r"[a-z0-9]{4,30}")
# Cce.NamespaceRequestFormatError / Cce.ImageRepositoryFormatError: 1-65 of letters, digits
# and "-_/.", starting with a letter.
NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9\-_/.]{0,64}")
REPOSITORY = NAMESPACE
# Cce.ImageTagFormatError: the same characters, starting with a letter or a digit.
TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]{0,64}")
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[0-9]")


def is_username(text: str) -> bool:
    return USERNAME.fullmatch(text) is not None


def is_namespace(text: str) -> bool:
    return NAMESPACE.fullmatch(text) is not None


def is_repository(text: str) -> bool:
    return REPOSITORY.fullmatch(text) is not None


def is_tag(text: str) -> bool:
    return TAG.fullmatch(text) is not None


def is_password(text: str) -> bool:
    """8-32 characters with at least one letter and one digit (the contract's rule)."""
    return 8 <= len(text) <= 32 and bool(_LETTER.search(text)) and bool(_DIGIT.search(text))


def parse_cidr(text: str) -> ipaddress.IPv4Network | None:
    """An IPv4 network written exactly (``172.16.0.0/16``), else ``None``."""
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        return None


def overlaps(cidr: str, others: list[str]) -> bool:
    network = parse_cidr(cidr)
    if network is None:
        return False
    return any(
        (other_net := parse_cidr(other)) is not None and network.overlaps(other_net)
        for other in others
    )
