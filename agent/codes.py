"""Personal codes: making a new one, and reading back one a person typed.

A personal code is the only key a patient holds (the store keeps a keyed
hash of it, never the code). A clinician hands out a code from the console;
a browser that comes without one gets its own anonymous code, kept in that
browser, so no two visitors ever share a patient. What it leaves out: the
single local user of the command line (``context.LOCAL_PATIENT_CODE``),
which is a fixed name for one's own machine, not a secret.
"""

from __future__ import annotations

import re
import secrets

__all__ = ["ALPHABET", "CLINIC_GROUPS", "ANONYMOUS_GROUPS", "new_patient_code", "canonical_code",
           "is_anonymous_code"]

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, 5 bits each; no 0/O or 1/I: easy to read aloud
GROUP = 4  # symbols between dashes
CLINIC_GROUPS = 3  # 60 bits: handed out by a clinician, who knows the person
# 80 bits: nobody vouches for an anonymous visitor, and guessing any one of many codes must stay hopeless
ANONYMOUS_GROUPS = 4
_SEPARATORS = re.compile(r"[\s\-_.]+")


def new_patient_code(groups: int = CLINIC_GROUPS) -> str:
    """A random code such as ``K7QM-42XD-PA9T`` (``groups`` groups of four, from ``secrets``)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(groups * GROUP))
    return "-".join(raw[i:i + GROUP] for i in range(0, len(raw), GROUP))


def canonical_code(text: str | None) -> str | None:
    """The code as it was issued, from how a person typed it (``k7qm 42xd pa9t``), else None.

    Only text shaped like an issued code (whole groups of the alphabet, any
    case, spaces or dashes anywhere) has a canonical form; anything else is
    some other kind of code and is left to be matched as typed.
    """
    raw = _SEPARATORS.sub("", text or "").upper()
    if not raw or len(raw) % GROUP or any(ch not in ALPHABET for ch in raw):
        return None
    return "-".join(raw[i:i + GROUP] for i in range(0, len(raw), GROUP))


def is_anonymous_code(value: object) -> bool:
    """True only for an anonymous code exactly as this module writes it (anything a browser sends is checked)."""
    return (isinstance(value, str) and len(value) == ANONYMOUS_GROUPS * (GROUP + 1) - 1
            and canonical_code(value) == value)
