"""Errors whose messages are fit to show a user.

Two kinds of failure, handled differently (STYLE.md 7):

* What a *model* gets wrong (an empty, rambling or unsafe reply) is not an
  exception: it goes back to the turn loop, which retries or falls back.
* Bad configuration, bad input and unavailable resources raise one of the
  errors below. The CLI and the web app turn them into a clean message
  (no traceback) at the edge; anything else is a bug and is allowed to raise.
"""

from __future__ import annotations

__all__ = [
    "AttuneError",
    "ConfigError",
    "InputError",
    "ModelUnavailable",
    "BackendUnreachable",
    "StorageError",
    "SoundfontError",
    "ProfileError",
    "TurnError",
    "from_failure",
]


class AttuneError(Exception):
    """Base class: ``str(err)`` is a complete sentence a user can act on."""

    exit_code = 2


class ConfigError(AttuneError):
    """A setting has a bad value, or a required file is missing."""


class InputError(AttuneError):
    """A message or file from the user cannot be used as it is."""


class ModelUnavailable(AttuneError):
    """The configured language model cannot be loaded (package or file missing)."""


class BackendUnreachable(AttuneError):
    """A remote LLM, Chroma or database server did not answer."""


class StorageError(AttuneError):
    """The database cannot be opened or written; nothing has been overwritten."""


class SoundfontError(AttuneError):
    """The soundfont for rendering is missing or unreadable."""


class ProfileError(AttuneError):
    """A clinician profile failed validation; the message names the field."""


class TurnError(AttuneError):
    """A turn stopped on a fault of ours (a bug), not on the input or the setup."""

    exit_code = 1


def from_failure(error: str, message: str) -> AttuneError:
    """The error a ``TurnFailed`` event stands for, to raise again where a caller wants an exception."""
    kinds = {cls.__name__: cls for cls in (ConfigError, InputError, ModelUnavailable, BackendUnreachable,
                                            StorageError, SoundfontError, ProfileError)}
    return kinds.get(error, TurnError)(message)
