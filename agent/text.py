"""Cleaning what a person types before anything else reads it."""

from __future__ import annotations

import re
import unicodedata

from attune.common.errors import InputError

__all__ = ["clean_message", "decode_bytes"]

# C0/C1 control characters except tab and newline; zero-width and bidi marks
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def decode_bytes(raw: bytes) -> str:
    """Bytes from stdin or a file as text; invalid UTF-8 becomes U+FFFD, never an error."""
    return raw.decode("utf-8", errors="replace")


def clean_message(message: str, max_chars: int) -> str:
    """Normalise (NFC), drop control characters, trim; refuse empty or too-long text."""
    if not isinstance(message, str):
        raise InputError("A message must be text.")
    text = _CONTROL.sub("", unicodedata.normalize("NFC", message)).replace("\r\n", "\n")
    text = text.replace("\ufffd", "").strip()  # bytes that were not UTF-8 carry no meaning
    if not text:
        raise InputError("The message is empty: write a few words about how you are.")
    if len(text) > max_chars:
        raise InputError(
            f"The message is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Please send a shorter message (nothing was stored)."
        )
    return text

